/**
 * How a datagram is shown: the textbook line, a JSON line, a hex dump. Each has a form over a
 * byte range of a shared buffer, so a batch of datagrams is formatted without copying each one.
 */
import { isUtf8 } from 'node:buffer';
import type { AddressFamily, Datagram } from '../types.js';
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

/**
 * The `--json` line of bytes [start, end) of `data`; the same text as `JSON.stringify(datagramToJson(d))`.
 * @example jsonLine(Buffer.from('hi'), 0, 2, '127.0.0.1', 5000, 'IPv4', 0) // '{"time":"1970-01-01T00:00:00.000Z",...,"text":"hi"}'
 */
export function jsonLine(data: Buffer, start: number, end: number, address: string, port: number, family: AddressFamily, ms: number): string {
  const payload = start === 0 && end === data.length ? data : data.subarray(start, end);
  const body = isUtf8(payload) ? '"text":' + JSON.stringify(payload.toString('utf8')) : '"hex":"' + payload.toString('hex') + '"';
  return (
    '{"time":"' + isoTime(ms) + '","from":{"address":' + JSON.stringify(address) + ',"port":' + port + ',"family":"' + family + '"},"size":' + (end - start) + ',' + body + '}'
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
  const rows: string[] = [];
  for (let off = 0; off < data.length; off += 16) {
    const chunk = data.subarray(off, Math.min(off + 16, data.length));
    let hex = '';
    let ascii = '';
    for (let j = 0; j < 16; j++) {
      const b = chunk[j];
      hex += b === undefined ? '   ' : `${b.toString(16).padStart(2, '0')} `;
      if (j === 7) hex += ' ';
      if (b !== undefined) ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    rows.push(`  ${off.toString(16).padStart(4, '0')}  ${hex} |${ascii}|`);
  }
  return rows.join('\n');
}
