/** How a datagram is shown: the textbook line, a JSON line, a hex dump. */
import type { Datagram } from '../types.js';
import { sanitizeBytes } from './sanitize.js';

/**
 * The textbook receiver's line, made safe: `received message: <text> from PORT <port> on <ip>`.
 * @example formatTextLine(d) // 'received message: hello from PORT 40000 on 127.0.0.1'
 */
export function formatTextLine(d: Datagram): string {
  return `received message: ${sanitizeBytes(d.data)} from PORT ${d.from.port} on ${d.from.address}`;
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

/** One JSON line (no trailing newline) for a datagram. */
export function formatJsonLine(d: Datagram): string {
  return JSON.stringify(datagramToJson(d));
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
