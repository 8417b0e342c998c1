/**
 * Makes any payload safe for one line of terminal output: printable text (any script, emoji)
 * stays as it is; control characters, newlines, escape sequences and bytes that are not UTF-8 are
 * shown escaped (`\x1b`, `\n`, `\xff`), and a backslash is doubled so the output is unambiguous.
 */
import { isUtf8 } from 'node:buffer';

// C0 except tab, DEL, C1 (U+0080..U+009F), the backslash itself, and the line/paragraph
// separators and bidi controls that some terminals honour.
const UNSAFE = /[\x00-\x08\x0a-\x1f\\\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\\': '\\\\' };

function escapeChar(c: string): string {
  const named = ESCAPES[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  // `\xNN` stands for one byte, so only ASCII may use it; C1 characters (two bytes) are `\u0080`.
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Escapes the unsafe characters of a string that is already valid text. */
export function sanitizeText(text: string): string {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text) ? text.replace(UNSAFE, escapeChar) : text;
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
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

/** True when bytes [start, end) are printable ASCII or tab, with no backslash: shown as they are. */
export function isPlainAscii(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    if (b < 0x20 || b > 0x7e || b === 0x5c) {
      if (b !== 0x09) return false;
    }
  }
  return true;
}

/**
 * One line of safe text for any bytes (or bytes [start, end) of `buf`): valid UTF-8 runs are
 * kept (escaped where unsafe), every byte outside them becomes `\xNN`.
 * @example sanitizeBytes(Buffer.from('hi\x1b[2J\xff', 'latin1')) // 'hi\\x1b[2J\\xff'
 */
export function sanitizeBytes(whole: Buffer, start = 0, end = whole.length): string {
  if (isPlainAscii(whole, start, end)) return whole.toString('latin1', start, end);
  const buf = start === 0 && end === whole.length ? whole : whole.subarray(start, end);
  if (isUtf8(buf)) return sanitizeText(buf.toString('utf8'));
  let out = '';
  let runStart = 0;
  let i = 0;
  while (i < buf.length) {
    const len = utf8SequenceLength(buf, i);
    if (len > 0) {
      i += len;
      continue;
    }
    if (i > runStart) out += sanitizeText(buf.toString('utf8', runStart, i));
    out += `\\x${(buf[i] as number).toString(16).padStart(2, '0')}`;
    i++;
    runStart = i;
  }
  if (runStart < buf.length) out += sanitizeText(buf.toString('utf8', runStart));
  return out;
}
