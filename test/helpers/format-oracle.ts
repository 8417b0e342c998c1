/**
 * The formatters as they were before they wrote bytes (string-based, a regular expression per
 * character class): kept unchanged as the oracle the byte writers, TypeScript and C, must match
 * byte for byte (test/unit/format-equivalence.test.ts). Do not "fix" this file: it is the
 * reference. Copied from src/format/sanitize.ts and src/format/datagram.ts at commit 7e58ade.
 */
import { isUtf8 } from 'node:buffer';

const UNSAFE = /[\x00-\x08\x0a-\x1f\\\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\\': '\\\\' };

function escapeChar(c: string): string {
  const named = ESCAPES[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export function oldSanitizeText(text: string): string {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text) ? text.replace(UNSAFE, escapeChar) : text;
}

function utf8SequenceLength(buf: Uint8Array, i: number): number {
  const b0 = buf[i] ?? 0;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = buf[i + k];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 === 0xee || b0 === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

function isPlainAscii(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    if (b < 0x20 || b > 0x7e || b === 0x5c) {
      if (b !== 0x09) return false;
    }
  }
  return true;
}

export function oldSanitizeBytes(whole: Buffer, start = 0, end = whole.length): string {
  if (isPlainAscii(whole, start, end)) return whole.toString('latin1', start, end);
  const buf = start === 0 && end === whole.length ? whole : whole.subarray(start, end);
  if (isUtf8(buf)) return oldSanitizeText(buf.toString('utf8'));
  let out = '';
  let runStart = 0;
  let i = 0;
  while (i < buf.length) {
    const len = utf8SequenceLength(buf, i);
    if (len > 0) {
      i += len;
      continue;
    }
    if (i > runStart) out += oldSanitizeText(buf.toString('utf8', runStart, i));
    out += `\\x${(buf[i] as number).toString(16).padStart(2, '0')}`;
    i++;
    runStart = i;
  }
  if (runStart < buf.length) out += oldSanitizeText(buf.toString('utf8', runStart));
  return out;
}

export function oldTextLine(data: Buffer, start: number, end: number, port: number, address: string): string {
  return 'received message: ' + oldSanitizeBytes(data, start, end) + ' from PORT ' + port + ' on ' + address;
}

export function oldJsonLine(data: Buffer, start: number, end: number, address: string, port: number, family: string, ms: number): string {
  const payload = start === 0 && end === data.length ? data : data.subarray(start, end);
  const body = isUtf8(payload) ? '"text":' + JSON.stringify(payload.toString('utf8')) : '"hex":"' + payload.toString('hex') + '"';
  return (
    '{"time":"' + new Date(ms).toISOString() + '","from":{"address":' + JSON.stringify(address) + ',"port":' + port + ',"family":"' + family + '"},"size":' + (end - start) + ',' + body + '}'
  );
}

export function oldFormatHexDump(data: Uint8Array): string {
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
