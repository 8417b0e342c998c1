/**
 * How a datagram is shown: the textbook line, a JSON line, a hex dump. Each has a form over a
 * byte range of a shared buffer, so a batch of datagrams is formatted without copying each one.
 */
import type { AddressFamily, Datagram } from '../types.js';
import { ByteBuilder } from './byte-builder.js';
import { JSON_GROWTH, writeJsonText } from './escape.js';
import { writeHexDump } from './line-bytes.js';
import { sanitizeBytes } from './sanitize.js';

/**
 * The textbook receiver's line for bytes [start, end) of `data`, made safe.
 * @example textLine(Buffer.from('hello'), 0, 5, 40000, '127.0.0.1') // 'received message: hello from PORT 40000 on 127.0.0.1'
 */
export function textLine(data: Buffer, start: number, end: number, port: number, address: string): string {
  return 'received message: ' + sanitizeBytes(data, start, end) + ' from PORT ' + port + ' on ' + address;
}

/**
 * The textbook receiver's line, made safe: `received message: <text> from PORT <port> on <ip>`.
 * @example formatTextLine(d) // 'received message: hello from PORT 40000 on 127.0.0.1'
 */
export function formatTextLine(d: Datagram): string {
  return textLine(d.data, 0, d.data.length, d.from.port, d.from.address);
}

/** The JSON object of one datagram (`text` when the payload is UTF-8, `hex` otherwise). */
export interface DatagramJson {
  readonly time: string;
  readonly from: { readonly address: string; readonly port: number; readonly family: string };
  readonly size: number;
  readonly text?: string;
  readonly hex?: string;
}

/** The `--json` object of one datagram. */
export function datagramToJson(d: Datagram): DatagramJson {
  const base = {
    time: new Date(d.receivedAt).toISOString(),
    from: { address: d.from.address, port: d.from.port, family: d.from.family },
    size: d.data.length,
  };
  const text = d.text;
  return text === undefined ? { ...base, hex: d.data.toString('hex') } : { ...base, text };
}

let lastMs = Number.NaN;
let lastIso = '';

/** `new Date(ms).toISOString()`, remembered for the last millisecond (a batch shares one). */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** Where {@link jsonLine} writes a payload's JSON text before making its string. */
let scratch = Buffer.allocUnsafe(4096);

/** The `"text":"..."` or `"hex":"..."` member for bytes [start, end) of `data`. */
function jsonBody(data: Buffer, start: number, end: number): string {
  const need = (end - start) * JSON_GROWTH;
  // Kept between calls up to 64 KiB: a large payload gets a buffer of its own.
  const out = need <= scratch.length ? scratch : need <= 65536 ? (scratch = Buffer.allocUnsafe(65536)) : Buffer.allocUnsafe(need);
  const length = writeJsonText(data, start, end, out, 0);
  return length < 0 ? '"hex":"' + data.toString('hex', start, end) + '"' : '"text":"' + out.toString('utf8', 0, length) + '"';
}

/**
 * The `--json` line of bytes [start, end) of `data`; the same text as `JSON.stringify(datagramToJson(d))`.
 * @example jsonLine(Buffer.from('hi'), 0, 2, '127.0.0.1', 5000, 'IPv4', 0) // '{"time":"1970-01-01T00:00:00.000Z",...,"text":"hi"}'
 */
export function jsonLine(data: Buffer, start: number, end: number, address: string, port: number, family: AddressFamily, ms: number): string {
  return (
    '{"time":"' + isoTime(ms) + '","from":{"address":' + JSON.stringify(address) + ',"port":' + port + ',"family":"' + family + '"},"size":' + (end - start) + ',' + jsonBody(data, start, end) + '}'
  );
}

/** One JSON line (no trailing newline) for a datagram. */
export function formatJsonLine(d: Datagram): string {
  return jsonLine(d.data, 0, d.data.length, d.from.address, d.from.port, d.from.family, d.receivedAt);
}

/**
 * A hex and ASCII dump, 16 bytes a row, each row indented two spaces:
 * `  0000  68 65 6c 6c 6f                                    |hello|`
 */
export function formatHexDump(data: Uint8Array): string {
  const out = new ByteBuilder(Math.ceil(data.length / 16) * 96);
  out.begin();
  writeHexDump(out, data, 0, data.length);
  const rows = out.end();
  return rows.toString('latin1', 0, Math.max(0, rows.length - 1));
}
