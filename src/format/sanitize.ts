/**
 * Makes any payload safe for one line of terminal output: printable text (any script, emoji)
 * stays as it is; control characters, newlines, escape sequences and bytes that are not UTF-8 are
 * shown escaped (`\x1b`, `\n`, `\xff`), and a backslash is doubled so the output is unambiguous.
 * The exact rules are in escape.ts.
 */
import { TEXT_GROWTH, writeText } from './escape.js';

/**
 * Where {@link sanitizeBytes} writes before making its one string; kept between calls up to
 * this size, so a large payload does not pin a large buffer for good.
 */
const SCRATCH_KEPT = 64 * 1024;
let scratch = Buffer.allocUnsafe(4096);

/** Room for `n` bytes: the shared scratch, or a buffer of its own when it would be too big. */
function scratchFor(n: number): Buffer {
  if (n <= scratch.length) return scratch;
  if (n > SCRATCH_KEPT) return Buffer.allocUnsafe(n);
  scratch = Buffer.allocUnsafe(SCRATCH_KEPT);
  return scratch;
}

/**
 * Escapes the unsafe characters of a string that is already text (see escape.ts: the same
 * rules, per UTF-16 unit). Returns `text` itself when nothing needs escaping.
 * @example sanitizeText('a\nb\u202e') // 'a\\nb\\u202e'
 */
export function sanitizeText(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f ? c !== 0x5c : c === 0x09 || (c > 0x9f && (c < 0x2028 || (c > 0x202e && (c < 0x2066 || c > 0x2069))))) continue;
    const named = c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : c === 0x5c ? '\\\\' : '';
    // `\xNN` stands for one byte, so only ASCII may use it; C1 characters (two bytes) are `\u0080`.
    const escaped = named || (c < 0x80 ? '\\x' + c.toString(16).padStart(2, '0') : '\\u' + c.toString(16).padStart(4, '0'));
    out += text.slice(from, i) + escaped;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * One line of safe text for any bytes (or bytes [start, end) of `whole`): valid UTF-8 is kept
 * (escaped where unsafe), every byte outside it becomes `\xNN`. One string is made, at the end.
 * @example sanitizeBytes(Buffer.from('hi\x1b[2J\xff', 'latin1')) // 'hi\\x1b[2J\\xff'
 */
export function sanitizeBytes(whole: Buffer, start = 0, end = whole.length): string {
  const out = scratchFor((end - start) * TEXT_GROWTH);
  const length = writeText(whole, start, end, out, 0);
  return out.toString('utf8', 0, length);
}
