/**
 * One datagram's line written as bytes into a {@link ByteBuilder}: the TypeScript path of the
 * batch formatters, of `listen --tcp` and of `--hex`. The parts that repeat (the sender, the
 * time) are encoded once and kept in {@link SenderParts}.
 */
import type { AddressFamily } from '../types.js';
import type { ByteBuilder } from './byte-builder.js';
import { JSON_GROWTH, TEXT_GROWTH, writeBytes, writeDecimal, writeHex, writeJsonText, writeText } from './escape.js';
const HEX_DIGITS = Buffer.from('0123456789abcdef');
const PREFIX = Buffer.from('received message: ');
const FROM_PORT = Buffer.from(' from PORT ');
const ON = Buffer.from(' on ');
const TEXT_BODY = Buffer.from(',"text":"');
const HEX_BODY = Buffer.from(',"hex":"');
const FAMILY_TAILS: Readonly<Record<AddressFamily, Buffer>> = {
  IPv4: Buffer.from(',"family":"IPv4"},"size":'),
  IPv6: Buffer.from(',"family":"IPv6"},"size":'),
};
/** Bytes a line adds around its payload, sender and head, at most (digits, separators). */
const LINE_EXTRA = 64;

/** Senders whose encoded parts are kept; past that the cache starts again. */
const KEPT = 256;

/**
 * Encoded parts of a line per sender address: for text, the address as UTF-8; for JSON, the
 * head up to the port for the current time. Looked up by the address string, which a socket
 * hands over unchanged for a repeat sender.
 */
export class SenderParts {
  readonly #text = new Map<string, Buffer>();
  readonly #heads = new Map<string, Buffer>();
  #ms = Number.NaN;

  /** `address` as UTF-8, the way a text line ends. */
  text(address: string): Buffer {
    let part = this.#text.get(address);
    if (part === undefined) {
      if (this.#text.size >= KEPT) this.#text.clear();
      part = Buffer.from(address);
      this.#text.set(address, part);
    }
    return part;
  }

  /** `{"time":"<iso>","from":{"address":"<address>","port":` for a JSON line at `ms` (`iso`). */
  jsonHead(address: string, ms: number, iso: string): Buffer {
    if (ms !== this.#ms) {
      this.#ms = ms;
      this.#heads.clear();
    }
    let part = this.#heads.get(address);
    if (part === undefined) {
      if (this.#heads.size >= KEPT) this.#heads.clear();
      part = Buffer.from('{"time":"' + iso + '","from":{"address":' + JSON.stringify(address) + ',"port":');
      this.#heads.set(address, part);
    }
    return part;
  }
}

/**
 * `received message: <text> from PORT <port> on <address>\n` for bytes [start, end) of
 * `data`; `plain` says they are known to need no escaping.
 */
export function writeTextLine(out: ByteBuilder, data: Uint8Array, start: number, end: number, port: number, address: Uint8Array, plain: boolean): void {
  const buf = out.reserve((end - start) * TEXT_GROWTH + address.length + LINE_EXTRA);
  let pos = out.pos;
  buf.set(PREFIX, pos);
  pos += PREFIX.length;
  pos = plain ? writeBytes(data, start, end, buf, pos) : writeText(data, start, end, buf, pos);
  buf.set(FROM_PORT, pos);
  pos = writeDecimal(port, buf, pos + FROM_PORT.length);
  buf.set(ON, pos);
  pos += ON.length;
  buf.set(address, pos);
  pos += address.length;
  buf[pos++] = 0x0a;
  out.pos = pos;
}

/**
 * The `--json` line for bytes [start, end) of `data`, after `head` (see
 * {@link SenderParts.jsonHead}); `plain` says they are known to be a JSON string as they are.
 */
export function writeJsonLine(out: ByteBuilder, data: Uint8Array, start: number, end: number, head: Uint8Array, port: number, family: AddressFamily, plain: boolean): void {
  const tail = FAMILY_TAILS[family];
  const buf = out.reserve((end - start) * JSON_GROWTH + head.length + tail.length + LINE_EXTRA);
  let pos = out.pos;
  buf.set(head, pos);
  pos = writeDecimal(port, buf, pos + head.length);
  buf.set(tail, pos);
  pos = writeDecimal(end - start, buf, pos + tail.length);
  buf.set(TEXT_BODY, pos);
  const body = pos + TEXT_BODY.length;
  pos = plain ? writeBytes(data, start, end, buf, body) : writeJsonText(data, start, end, buf, body);
  if (pos < 0) {
    buf.set(HEX_BODY, body - TEXT_BODY.length);
    pos = writeHex(data, start, end, buf, body - TEXT_BODY.length + HEX_BODY.length);
  }
  buf[pos++] = 0x22;
  buf[pos++] = 0x7d;
  buf[pos++] = 0x0a;
  out.pos = pos;
}

/**
 * The hex and ASCII dump of bytes [start, end), 16 a row, each row `  OOOO  hh hh ... |ascii|`
 * and a newline (see formatHexDump).
 */
export function writeHexDump(out: ByteBuilder, data: Uint8Array, start: number, end: number): void {
  const rows = Math.ceil((end - start) / 16);
  // Per row: indent, offset (4 digits, more past 64 KiB), 16 columns of 3, gaps, bars, ASCII.
  const buf = out.reserve(rows * 96);
  let pos = out.pos;
  for (let off = 0; start + off < end; off += 16) {
    const rowEnd = Math.min(start + off + 16, end);
    buf[pos++] = 0x20;
    buf[pos++] = 0x20;
    let digits = 4;
    while (off >= 2 ** (4 * digits)) digits++;
    for (let k = digits - 1; k >= 0; k--) buf[pos++] = HEX_DIGITS[Math.floor(off / 2 ** (4 * k)) & 15] as number;
    buf[pos++] = 0x20;
    buf[pos++] = 0x20;
    for (let j = 0; j < 16; j++) {
      const at = start + off + j;
      if (at < rowEnd) {
        const b = data[at] as number;
        buf[pos++] = HEX_DIGITS[b >> 4] as number;
        buf[pos++] = HEX_DIGITS[b & 15] as number;
      } else {
        buf[pos++] = 0x20;
        buf[pos++] = 0x20;
      }
      buf[pos++] = 0x20;
      if (j === 7) buf[pos++] = 0x20;
    }
    buf[pos++] = 0x20;
    buf[pos++] = 0x7c;
    for (let at = start + off; at < rowEnd; at++) {
      const b = data[at] as number;
      buf[pos++] = b >= 0x20 && b < 0x7f ? b : 0x2e;
    }
    buf[pos++] = 0x7c;
    buf[pos++] = 0x0a;
  }
  out.pos = pos;
}
