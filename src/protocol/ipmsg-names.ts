/**
 * File names that came from the network, made safe to create inside a chosen folder: whatever a
 * peer writes in an attachment list or a folder stream, the name we create is one path component
 * of that folder, printable, and never `.` or `..`. Pure.
 */

/** The longest name we create, in UTF-8 bytes: most file systems take 255, less `.part`. */
export const MAX_NAME_BYTES = 250;

// Separators of every system a peer may run, C0 and C1 controls, DEL, and the Unicode line,
// paragraph and direction marks that make a name read differently from what it is.
const UNSAFE = /[/\\\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** What {@link safeFileName} made of a name. */
export interface SafeName {
  readonly name: string;
  /** True when it had to change anything: a separator, a control character, `.`/`..`, the length. */
  readonly changed: boolean;
}

/** Cuts `text` to at most `max` UTF-8 bytes without splitting a character. */
function cutBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * One safe path component for a name a peer sent: separators and control characters become
 * `_`, `.` and `..` (and the empty name) become `_`, and it is cut to {@link MAX_NAME_BYTES}
 * keeping its extension.
 * @example safeFileName('../etc/passwd') // { name: '.._etc_passwd', changed: true }
 */
export function safeFileName(raw: string): SafeName {
  let name = raw.replace(UNSAFE, '_');
  if (name === '' || name === '.' || name === '..') name = '_';
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
    name = cutBytes(name.slice(0, name.length - ext.length), MAX_NAME_BYTES - Buffer.byteLength(ext)) + ext;
  }
  return { name, changed: name !== raw };
}

/**
 * True when a name from a folder stream may be created as it is (no separator, no control
 * character, not `.` or `..`, not too long): folder entries that are not are refused, not renamed,
 * since a sender that writes them is not describing a folder of its own.
 * @example isSafeFileName('..') // false
 */
export function isSafeFileName(raw: string): boolean {
  return !safeFileName(raw).changed;
}

/**
 * The `n`th other name for `name` when it is taken: `report (1).pdf`, `photos (2)`. The suffix
 * goes before the extension; a leading dot is not an extension (`.bashrc (1)`).
 * @example numberedName('report.pdf', 1) // 'report (1).pdf'
 */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  const suffix = ` (${n})`;
  return cutBytes(stem, MAX_NAME_BYTES - Buffer.byteLength(suffix + ext)) + suffix + ext;
}
