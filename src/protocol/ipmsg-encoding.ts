/**
 * Which encoding an IP Messenger packet's text is in (docs/protocol.md, "Text encodings").
 * The protocol says: UTF-8 when the packet carries UTF8OPT, else the sender's local encoding,
 * which it never names. Real clients do worse: a Linux client sends UTF-8 without UTF8OPT and
 * names its encoding as the last NUL-separated part of its entry (`nick\0group\0icon.png\0utf-8`),
 * and reading that as GBK turns `企鹅tüx` into `浼侀箙t眉x`. So, for a packet's text:
 *
 *   1. UTF8OPT set: UTF-8.
 *   2. An encoding the packet or, earlier, the peer declared: that one.
 *   3. Bytes that are valid UTF-8: UTF-8 (GBK, Shift_JIS and Big5 text of more than a couple
 *      of characters is almost never valid UTF-8; ASCII reads the same either way).
 *   4. Otherwise the legacy encoding (`--legacy-encoding`, GBK by default).
 *
 * Pure: bytes in, names and text out.
 */
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

/** How udpkit names UTF-8 in peers and events. */
export const UTF8_ENCODING = 'utf-8';

/** What an encoding named on the wire may look like: short, ASCII, no spaces. */
const ENCODING_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{1,31}$/;

/**
 * The canonical name of an encoding named on the wire (`UTF8`, `utf-8` -> `utf-8`; others
 * lower-cased), or `undefined` when it is not a name iconv-lite knows.
 * @example canonicalEncoding('UTF8') // 'utf-8'
 */
export function canonicalEncoding(name: string): string | undefined {
  if (!ENCODING_NAME.test(name) || !iconv.encodingExists(name)) return undefined;
  const lower = name.toLowerCase();
  return lower.replace(/[^a-z0-9]/g, '') === 'utf8' ? UTF8_ENCODING : lower;
}

/**
 * The encoding an entry's Extra (raw bytes) declares: its last NUL-separated part, when that is
 * at least the third (after nickname and group, so that a group called `big5` is not taken for
 * one) and names an encoding. Trailing NULs are ignored.
 * @example declaredEncoding(Buffer.from('tux\0dev\0icon.png\0utf-8')) // 'utf-8'
 */
export function declaredEncoding(extra: Uint8Array): string | undefined {
  let end = extra.length;
  while (end > 0 && extra[end - 1] === 0) end--;
  let start = end;
  while (start > 0 && extra[start - 1] !== 0) start--;
  let parts = 0;
  for (let i = 0; i < start; i++) if (extra[i] === 0) parts++;
  if (parts < 2 || end - start > 32) return undefined;
  return canonicalEncoding(Buffer.from(extra.buffer, extra.byteOffset + start, end - start).toString('latin1'));
}

/** What {@link chooseEncoding} weighs. */
export interface EncodingClues {
  /** The packet carries UTF8OPT. */
  readonly flagged: boolean;
  /** An encoding the packet or its sender declared, if any. */
  readonly declared?: string | undefined;
  /** The encoding to fall back on. */
  readonly legacy: string;
}

/**
 * The encoding to read `text` (a packet's bytes after its version and number) in; see the
 * file header for the order.
 * @example chooseEncoding(Buffer.from('héllo'), { flagged: false, legacy: 'gbk' }) // 'utf-8'
 */
export function chooseEncoding(text: Uint8Array, clues: EncodingClues): string {
  if (clues.flagged) return UTF8_ENCODING;
  if (clues.declared !== undefined) return clues.declared;
  return isUtf8(text) ? UTF8_ENCODING : clues.legacy;
}

/** Whether `bytes` hold anything but ASCII (only then does the encoding matter). */
export function hasNonAscii(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b >= 0x80) return true;
  return false;
}

/** Decodes `bytes` in `encoding`; never throws (bad sequences become U+FFFD). */
export function decodeText(bytes: Uint8Array, encoding: string): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return encoding === UTF8_ENCODING ? buf.toString('utf8') : iconv.decode(buf, encoding);
}

/**
 * `text` in a legacy `encoding`, or `undefined` when that encoding cannot hold all of it (then
 * it goes as UTF-8 with UTF8OPT rather than with `?` in place of what did not fit).
 * @example encodeLegacy('你好', 'gbk') // <Buffer c4 e3 ba c3>
 */
export function encodeLegacy(text: string, encoding: string): Buffer | undefined {
  const bytes = iconv.encode(text, encoding);
  return iconv.decode(bytes, encoding) === text ? bytes : undefined;
}
