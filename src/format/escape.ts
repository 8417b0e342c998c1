/**
 * How a payload is written on a line: the specification, and its TypeScript implementation as
 * byte writers. native/format.cc implements the same in C; test/unit/format-equivalence.test.ts
 * checks the two against each other and against the string-based formatters they replaced.
 *
 * ## Specification
 *
 * **Text** (the textbook line, the UI's text, chat): the payload is read as UTF-8.
 * - Printable ASCII and the tab are written as they are, except `\` which is written `\\`.
 * - `\n` and `\r` are written `\n` and `\r`; every other C0 byte (0x00..0x1f) and DEL (0x7f)
 *   as `\xNN` (two lowercase hex digits).
 * - A valid UTF-8 sequence (the shortest form of a code point up to U+10FFFF that is not a
 *   surrogate) is written as it is, except: C1 controls U+0080..U+009F as `\u0080`..`\u009f`;
 *   U+2028, U+2029 and the bidi controls U+202A..U+202E, U+2066..U+2069 as `\uXXXX`
 *   (four lowercase hex digits). Any other script, emoji and combining mark is kept.
 * - Every byte that does not begin a valid sequence is written `\xNN`, and reading goes on at
 *   the next byte (so a truncated sequence shows each of its bytes).
 *
 * So the output is one line, holds no control character but the tab, and can be undone.
 * A JavaScript string (chat names, {@link sanitizeText}) follows the same rules per UTF-16 unit:
 * a lone surrogate is kept, as the string has it.
 *
 * **JSON** (`--json`, `--log`): when the whole payload is valid UTF-8, `"text":` and the string
 * exactly as `JSON.stringify` writes it (`\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`, other C0 as
 * `\u00xx`, everything else, DEL included, as it is); otherwise `"hex":` and two lowercase hex
 * digits a byte.
 *
 * ## Writers
 * Each writes bytes [i, end) of `src` into `out` from `pos` and returns where it stopped. The
 * caller reserves room first: at most {@link TEXT_GROWTH} (text) or {@link JSON_GROWTH} (JSON)
 * bytes of output per input byte. Loops are written out by hand (no regular expressions, no
 * per-character calls, no strings): they run for every byte received, and long plain runs are
 * read a word at a time.
 */

/** Output bytes per input byte, at most, in text: a byte written `\xNN`. */
export const TEXT_GROWTH = 4;
/** Output bytes per input byte, at most, in JSON: a C0 byte written `\u00xx`. */
export const JSON_GROWTH = 6;

/** Lowercase hex digits, as byte values. */
const HEX = Buffer.from('0123456789abcdef');
const BACKSLASH = 0x5c;

/** Plain bytes in a row after which the writers look 4 bytes at a time (see {@link plainWords}). */
const LONG_RUN = 32;

/**
 * Where the run of printable ASCII other than `\` (and, with `json`, `"`) starting at `i` ends,
 * to within a word: read 4 bytes at a time (SWAR, about twice as fast as byte by byte) through
 * a view of the aligned words, up to the first word holding another byte. `i` must be 4-byte
 * aligned in `src.buffer`; the bytes from the returned index on are left to the byte loop.
 */
function plainWords(src: Uint8Array, i: number, end: number, json: boolean): number {
  const words = new Uint32Array(src.buffer, src.byteOffset + i, (end - i) >>> 2);
  let w = 0;
  for (; w < words.length; w++) {
    const x = words[w] as number;
    const y = x ^ 0x5c5c5c5c;
    const z = x ^ 0x22222222;
    // A byte below 0x20; above 0x7e; equal to 0x5c (and to 0x22): each sets that byte's top
    // bit (later bytes may be flagged falsely, but only after a true one).
    const found = ((x - 0x20202020) & ~x) | (x + 0x01010101) | x | ((y - 0x01010101) & ~y) | (json ? (z - 0x01010101) & ~z : 0);
    if ((found & 0x80808080) !== 0) break;
  }
  return i + 4 * w;
}

/**
 * What each byte is written as in text when it does not start a valid UTF-8 sequence: itself,
 * a named escape or `\xNN`, in slots of 4 bytes (lengths in TEXT_LENGTH). A slot is copied
 * whole, without a branch on the byte: random bytes would make such branches guess wrong half
 * the time. The 1 to 3 bytes past the length are written over by what follows; they stay within
 * the room reserved (at most TEXT_GROWTH bytes per input byte, counted from the start).
 */
const TEXT_SLOTS = new Uint8Array(256 * 4);
const TEXT_LENGTH = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const shown = (b >= 0x20 && b < 0x7f && b !== BACKSLASH) || b === 0x09 ? String.fromCharCode(b) : b === BACKSLASH ? '\\\\' : b === 0x0a ? '\\n' : b === 0x0d ? '\\r' : '\\x' + b.toString(16).padStart(2, '0');
  TEXT_SLOTS.set(Buffer.from(shown, 'latin1'), b * 4);
  TEXT_LENGTH[b] = shown.length;
}

/** Writes bytes [i, end) of `src` as text (see the specification above). */
export function writeText(src: Uint8Array, i: number, end: number, out: Uint8Array, pos: number): number {
  const base = src.byteOffset;
  let run = 0;
  while (i < end) {
    const b = src[i] as number;
    if (b >= 0xc2 && b <= 0xf4) {
      // A lead byte: how long a valid sequence starting here is (0: none), per RFC 3629's table.
      const b1 = i + 1 < end ? (src[i + 1] as number) : 0;
      const b2 = i + 2 < end ? (src[i + 2] as number) : 0;
      let n = 0;
      if (b < 0xe0) n = (b1 & 0xc0) === 0x80 ? 2 : 0;
      else if (b < 0xf0) n = b1 >= (b === 0xe0 ? 0xa0 : 0x80) && b1 <= (b === 0xed ? 0x9f : 0xbf) && (b2 & 0xc0) === 0x80 ? 3 : 0;
      else {
        const b3 = i + 3 < end ? (src[i + 3] as number) : 0;
        n = b1 >= (b === 0xf0 ? 0x90 : 0x80) && b1 <= (b === 0xf4 ? 0x8f : 0xbf) && (b2 & 0xc0) === 0x80 && (b3 & 0xc0) === 0x80 ? 4 : 0;
      }
      if (n !== 0) {
        // C1 is C2 80..C2 9F; U+2028..U+202E is E2 80 A8..AE; U+2066..U+2069 is E2 81 A6..A9.
        const c1 = b === 0xc2 && b1 < 0xa0;
        const special = b === 0xe2 && ((b1 === 0x80 && b2 >= 0xa8 && b2 <= 0xae) || (b1 === 0x81 && b2 >= 0xa6 && b2 <= 0xa9));
        if (c1 || special) {
          // The code point's low byte: 0x80..0x9f for C1, 0x28..0x2e or 0x66..0x69 after 0x20.
          const low = c1 ? b1 : ((b1 & 0x3f) << 6) | (b2 & 0x3f);
          out[pos++] = BACKSLASH;
          out[pos++] = 0x75;
          out[pos++] = c1 ? 0x30 : 0x32;
          out[pos++] = 0x30;
          out[pos++] = HEX[low >> 4] as number;
          out[pos++] = HEX[low & 15] as number;
        } else {
          out[pos++] = b;
          out[pos++] = b1;
          if (n > 2) out[pos++] = b2;
          if (n > 3) out[pos++] = src[i + 3] as number;
        }
        i += n;
        run = 0;
        continue;
      }
    }
    const k = b << 2;
    out[pos] = TEXT_SLOTS[k] as number;
    out[pos + 1] = TEXT_SLOTS[k + 1] as number;
    out[pos + 2] = TEXT_SLOTS[k + 2] as number;
    out[pos + 3] = TEXT_SLOTS[k + 3] as number;
    const n = TEXT_LENGTH[b] as number;
    pos += n;
    i++;
    run = (run + 1) & ((n - 2) >> 31); // + 1 after a byte shown as itself, else 0, without a branch
    if (run >= LONG_RUN && ((base + i) & 3) === 0 && end - i >= 4 * LONG_RUN) {
      const j = plainWords(src, i, end, false);
      out.set(src.subarray(i, j), pos);
      pos += j - i;
      i = j;
      run = 0;
    }
  }
  return pos;
}

/**
 * Writes bytes [i, end) of `src` as the inside of a JSON string, as `JSON.stringify` would;
 * returns -1 (having written garbage past `pos`) when they are not valid UTF-8.
 */
export function writeJsonText(src: Uint8Array, i: number, end: number, out: Uint8Array, pos: number): number {
  const base = src.byteOffset;
  let run = 0;
  while (i < end) {
    const b = src[i] as number;
    if (b >= 0x20 && b < 0x80) {
      if (b === 0x22 || b === BACKSLASH) {
        out[pos++] = BACKSLASH;
        run = 0;
      }
      out[pos++] = b;
      i++;
      if (++run >= LONG_RUN && ((base + i) & 3) === 0 && end - i >= 4 * LONG_RUN) {
        const j = plainWords(src, i, end, true);
        out.set(src.subarray(i, j), pos);
        pos += j - i;
        i = j;
        run = 0;
      }
      continue;
    }
    run = 0;
    if (b < 0x20) {
      out[pos++] = BACKSLASH;
      // \b \t \n and \f \r by name (0x08..0x0a, 0x0c, 0x0d); 0x0b and the rest as \u00xx.
      if (b >= 0x08 && b <= 0x0d && b !== 0x0b) out[pos++] = b === 0x08 ? 0x62 : b === 0x09 ? 0x74 : b === 0x0a ? 0x6e : b === 0x0c ? 0x66 : 0x72;
      else {
        out[pos++] = 0x75;
        out[pos++] = 0x30;
        out[pos++] = 0x30;
        out[pos++] = HEX[b >> 4] as number;
        out[pos++] = HEX[b & 15] as number;
      }
      i++;
      continue;
    }
    const b1 = i + 1 < end ? (src[i + 1] as number) : 0;
    if (b < 0xc2) return -1;
    if (b < 0xe0) {
      if ((b1 & 0xc0) !== 0x80) return -1;
      out[pos++] = b;
      out[pos++] = b1;
      i += 2;
      continue;
    }
    const b2 = i + 2 < end ? (src[i + 2] as number) : 0;
    if (b < 0xf0) {
      if (b1 < (b === 0xe0 ? 0xa0 : 0x80) || b1 > (b === 0xed ? 0x9f : 0xbf) || (b2 & 0xc0) !== 0x80) return -1;
      out[pos++] = b;
      out[pos++] = b1;
      out[pos++] = b2;
      i += 3;
      continue;
    }
    const b3 = i + 3 < end ? (src[i + 3] as number) : 0;
    if (b > 0xf4 || b1 < (b === 0xf0 ? 0x90 : 0x80) || b1 > (b === 0xf4 ? 0x8f : 0xbf) || (b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80) return -1;
    out[pos++] = b;
    out[pos++] = b1;
    out[pos++] = b2;
    out[pos++] = b3;
    i += 4;
  }
  return pos;
}

/** Writes bytes [i, end) of `src` as lowercase hex, two digits a byte. */
export function writeHex(src: Uint8Array, i: number, end: number, out: Uint8Array, pos: number): number {
  for (; i < end; i++) {
    const b = src[i] as number;
    out[pos++] = HEX[b >> 4] as number;
    out[pos++] = HEX[b & 15] as number;
  }
  return pos;
}

/**
 * Copies bytes [i, end) of `src` as they are: by hand when short (a view to copy from costs more
 * than the copy), with `set` when long.
 */
export function writeBytes(src: Uint8Array, i: number, end: number, out: Uint8Array, pos: number): number {
  if (end - i > 96) {
    out.set(src.subarray(i, end), pos);
    return pos + end - i;
  }
  while (i < end) out[pos++] = src[i++] as number;
  return pos;
}

/** Writes a non-negative integer in decimal (ports, sizes). */
export function writeDecimal(n: number, out: Uint8Array, pos: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  for (let k = pos + digits - 1; k >= pos; k--) {
    out[k] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return pos + digits;
}
