/**
 * IP Messenger (IPMsg) packets (docs/protocol.md, "IP Messenger"): one line of text, six fields
 * split at the first five colons, so that the last one may hold anything, colons included:
 *
 *   Ver:PacketNo:SenderName:SenderHost:CommandNo:Extra
 *   1:1712345678:alice:pc1:8388865:hello\0
 *
 * CommandNo is decimal: the low byte is the command, the bits above it its options. The text is
 * UTF-8 when the UTF8OPT option is set, else the sender's legacy encoding (GBK, Shift_JIS...).
 * Pure: bytes in, fields out; decoding never throws, whatever the bytes.
 */
import iconv from 'iconv-lite';
import { UdpkitRangeError, UdpkitTypeError } from '../errors.js';
import { UTF8_ENCODING, chooseEncoding, declaredEncoding, decodeText, encodeLegacy } from './ipmsg-encoding.js';

/** The UDP port IP Messenger uses. */
export const IPMSG_PORT = 2425;

/** Commands: the low byte of CommandNo. */
export const IpmsgCommand = {
  NOOPERATION: 0x00,
  BR_ENTRY: 0x01,
  BR_EXIT: 0x02,
  ANSENTRY: 0x03,
  BR_ABSENCE: 0x04,
  /** The host-list exchange (BR_ISGETLIST..ANSLIST, BR_ISGETLIST2): counted, never answered. */
  BR_ISGETLIST: 0x10,
  OKGETLIST: 0x11,
  GETLIST: 0x12,
  ANSLIST: 0x13,
  BR_ISGETLIST2: 0x18,
  SENDMSG: 0x20,
  RECVMSG: 0x21,
  /** A sealed message was opened (Extra: its packet number). */
  READMSG: 0x30,
  /** A sealed message was thrown away unread. */
  DELMSG: 0x31,
  /** The answer to a READMSG sent with READCHECKOPT. */
  ANSREADMSG: 0x32,
  GETINFO: 0x40,
  /** The answer to GETINFO: the client's version text. */
  SENDINFO: 0x41,
  GETABSENCEINFO: 0x50,
  /** The answer to GETABSENCEINFO: the absence text. */
  SENDABSENCEINFO: 0x51,
} as const;

/** Options: the bits of CommandNo above the command. Their meaning depends on the command. */
export const IpmsgOption = {
  /** On SENDMSG: the sender wants a RECVMSG receipt. */
  SENDCHECKOPT: 0x100,
  /** On entries: the sender is away (same bit as SENDCHECKOPT). */
  ABSENCEOPT: 0x100,
  /** On SENDMSG: sealed, shown only once opened, which sends READMSG back. */
  SECRETOPT: 0x200,
  /** On SENDMSG: sent to everyone, not to this peer alone. */
  BROADCASTOPT: 0x400,
  /** On SENDMSG: sent to several chosen peers. */
  MULTICASTOPT: 0x800,
  /** On SENDMSG: an automatic answer (absence): never answered automatically in turn. */
  AUTORETOPT: 0x2000,
  /** On a sealed SENDMSG: the sender wants READMSG confirmed; on READMSG: answer ANSREADMSG. */
  READCHECKOPT: 0x100000,
  /** The packet's text is UTF-8. */
  UTF8OPT: 0x800000,
  /** On entries: the sender understands UTF-8 packets. */
  CAPUTF8OPT: 0x1000000,
} as const;

/** The largest packet sent: older clients read into an 8 KB buffer and cut the rest. */
export const IPMSG_MAX_PACKET = 8192;

/** The legacy encoding assumed for packets without UTF8OPT unless told otherwise. */
export const DEFAULT_LEGACY_ENCODING = 'gbk';

/** One decoded packet. `command` is the whole CommandNo, options included. */
export interface IpmsgPacket {
  /** `1`, or a clone's longer version that starts with `1` (FeiQ's `1_lbt6_...`). */
  readonly version: string;
  readonly packetNo: number;
  readonly user: string;
  readonly host: string;
  readonly command: number;
  /** Everything after the fifth colon, decoded; `\0` separates its parts. */
  readonly extra: string;
}

/** What {@link encodeIpmsgPacket} needs; the version is always `1` and the text UTF-8. */
export type IpmsgPacketFields = Omit<IpmsgPacket, 'version'>;

const COLON = 0x3a;
const MAX_UINT32 = 0xffffffff;
const DECIMAL = /^\d{1,16}$/;

/**
 * Checks a legacy encoding name against what iconv-lite knows and returns it.
 * @throws `RangeError` coded `UDPKIT_INVALID_ARGUMENT` for an unknown one.
 * @example validateLegacyEncoding('cp932') // 'cp932'
 */
export function validateLegacyEncoding(name: unknown): string {
  if (typeof name !== 'string' || !iconv.encodingExists(name)) {
    throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `unknown text encoding ${JSON.stringify(String(name))} (try gbk, cp932, shift_jis, big5, euc-kr, latin1)`);
  }
  return name;
}

/** The command in a CommandNo, without options. @example ipmsgCommandOf(0x800120) // 0x20 */
export function ipmsgCommandOf(command: number): number {
  return command & 0xff;
}

function decimal(buf: Buffer, start: number, end: number, max: number): number | undefined {
  const text = buf.toString('latin1', start, end);
  if (!DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

/** A decoded packet and how its text was read. */
export interface IpmsgDecoded extends IpmsgPacket {
  /** The encoding its text was read in (./ipmsg-encoding.ts says how it is chosen). */
  readonly encoding: string;
  /** The encoding an entry packet named at the end of its Extra, if any. */
  readonly declaredEncoding?: string;
}

/**
 * Decodes one packet, or returns `undefined` for anything that is not one (never throws on
 * bytes). Text without UTF8OPT is read in the encoding the packet declares, else `known` (what
 * its sender declared before), else UTF-8 when valid, else `legacyEncoding` (default gbk).
 * @example decodeIpmsgPacket(Buffer.from('1:7:bob:pc2:32:hi\0'))?.extra // 'hi\0'
 */
export function decodeIpmsgPacket(bytes: Uint8Array, legacyEncoding: string = DEFAULT_LEGACY_ENCODING, known?: string): IpmsgDecoded | undefined {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const colons: number[] = [];
  for (let at = buf.indexOf(COLON); at >= 0 && colons.length < 5; at = buf.indexOf(COLON, at + 1)) colons.push(at);
  // A colon never occurs inside a GBK or Shift_JIS character, so splitting on bytes is safe.
  if (colons.length < 4) return undefined;
  const [c1, c2, c3, c4] = colons as [number, number, number, number];
  const c5 = colons[4] ?? buf.length;
  const version = buf.toString('latin1', 0, c1);
  if (!version.startsWith('1')) return undefined;
  const packetNo = decimal(buf, c1 + 1, c2, Number.MAX_SAFE_INTEGER);
  const command = decimal(buf, c4 + 1, c5, MAX_UINT32);
  if (packetNo === undefined || command === undefined) return undefined;
  const cmd = ipmsgCommandOf(command);
  const isEntry = cmd === IpmsgCommand.BR_ENTRY || cmd === IpmsgCommand.ANSENTRY || cmd === IpmsgCommand.BR_ABSENCE;
  const declared = isEntry && c5 < buf.length ? declaredEncoding(buf.subarray(c5 + 1)) : undefined;
  const encoding = chooseEncoding(buf.subarray(c2 + 1), { flagged: (command & IpmsgOption.UTF8OPT) !== 0, declared: declared ?? known, legacy: legacyEncoding });
  const text = (start: number, end: number): string => (start >= end ? '' : decodeText(buf.subarray(start, end), encoding));
  const packet = { version, packetNo, user: text(c2 + 1, c3), host: text(c3 + 1, c4), command, extra: text(c5 + 1, buf.length), encoding };
  return declared === undefined ? packet : { ...packet, declaredEncoding: declared };
}

function checkField(value: string, what: string): void {
  if (/[:\0]/.test(value)) throw new UdpkitTypeError('UDPKIT_INVALID_ARGUMENT', `an IPMsg ${what} cannot hold ":" or NUL, got ${JSON.stringify(value)}`);
}

/**
 * Encodes one packet as UTF-8, with UTF8OPT added to its CommandNo; or, given a legacy
 * `encoding` (a peer that reads only that), in it without UTF8OPT, unless that encoding cannot
 * hold the text.
 * @throws coded `TypeError`/`RangeError` (`UDPKIT_INVALID_ARGUMENT`) for a user or host holding
 *   `:` or NUL, or a packet or command number out of range.
 * @example encodeIpmsgPacket({ packetNo: 7, user: 'bob', host: 'pc2', command: 0x20, extra: 'hi\0' }).toString()
 * // '1:7:bob:pc2:8388640:hi\0'
 */
export function encodeIpmsgPacket(p: IpmsgPacketFields, encoding: string = UTF8_ENCODING): Buffer {
  checkField(p.user, 'user name');
  checkField(p.host, 'host name');
  if (!Number.isSafeInteger(p.packetNo) || p.packetNo < 0) throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `bad IPMsg packet number ${p.packetNo}`);
  if (!Number.isInteger(p.command) || p.command < 0 || p.command > MAX_UINT32) throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `bad IPMsg command ${p.command}`);
  const text = `${p.user}:${p.host}:`;
  if (encoding !== UTF8_ENCODING) {
    const legacy = encodeLegacy(`${text}${(p.command & ~IpmsgOption.UTF8OPT) >>> 0}:${p.extra}`, encoding);
    if (legacy !== undefined) return Buffer.concat([Buffer.from(`1:${p.packetNo}:`), legacy]);
  }
  const command = (p.command | IpmsgOption.UTF8OPT) >>> 0;
  return Buffer.from(`1:${p.packetNo}:${text}${command}:${p.extra}`, 'utf8');
}

/**
 * The Extra of BR_ENTRY, ANSENTRY and BR_ABSENCE: nickname, NUL, group.
 * @example entryExtra('Alice', 'dev') // 'Alice\0dev'
 */
export function entryExtra(nickname: string, group = ''): string {
  return `${nickname}\0${group}`;
}

/**
 * Reads an entry's Extra: the nickname (empty when none) and group, each up to its NUL.
 * @example parseEntryExtra('Alice\0dev\0') // { nickname: 'Alice', group: 'dev' }
 */
export function parseEntryExtra(extra: string): { nickname: string; group: string } {
  const [nickname = '', group = ''] = extra.split('\0', 2);
  return { nickname, group };
}

/**
 * The message text of a SENDMSG: the Extra up to its first NUL (file attachments may follow it).
 * @example messageText('hi:there\0') // 'hi:there'
 */
export function messageText(extra: string): string {
  const end = extra.indexOf('\0');
  return end < 0 ? extra : extra.slice(0, end);
}

/**
 * The packet number a RECVMSG confirms, or `undefined` when its Extra is not one.
 * @example confirmedPacketNo('1712345678\0') // 1712345678
 */
export function confirmedPacketNo(extra: string): number | undefined {
  const text = messageText(extra).trim();
  return DECIMAL.test(text) ? Number(text) : undefined;
}
