import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeBytes, sanitizeText } from '../../src/format/sanitize.js';

/** Characters sanitizeBytes must never let through: they move the cursor, end the line or reorder text. */
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** Test-only inverse of sanitizeBytes: `\\`, `\n`, `\r`, `\xNN` (one byte), `\uNNNN` (UTF-8). */
function unescape(text: string): Buffer {
  const parts: Buffer[] = [];
  let plain = '';
  const flush = (): void => {
    parts.push(Buffer.from(plain, 'utf8'));
    plain = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== '\\') {
      plain += c;
      continue;
    }
    const kind = text[++i];
    if (kind === '\\') plain += '\\';
    else if (kind === 'n') plain += '\n';
    else if (kind === 'r') plain += '\r';
    else if (kind === 'u') {
      plain += String.fromCharCode(parseInt(text.slice(i + 1, i + 5), 16));
      i += 4;
    } else if (kind === 'x') {
      flush();
      parts.push(Buffer.from([parseInt(text.slice(i + 1, i + 3), 16)]));
      i += 2;
    } else throw new Error(`unknown escape \\${kind} in ${JSON.stringify(text)}`);
  }
  flush();
  return Buffer.concat(parts);
}

/** Bytes that mix valid UTF-8 of any script with arbitrary (often invalid) bytes. */
const mixedBytes = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 8 }),
      fc.string({ unit: 'binary', maxLength: 8 }).map((s) => new Uint8Array(Buffer.from(s))),
      // Low code points (controls, C1, Latin-1, separators, bidi) as UTF-8: where escaping is subtle.
      fc.integer({ min: 0, max: 0x2070 }).map((cp) => new Uint8Array(Buffer.from(String.fromCodePoint(cp)))),
    ),
    { maxLength: 60 },
  )
  .map((parts) => Buffer.concat(parts));
const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)), mixedBytes);

describe('sanitizeBytes', () => {
  it.each([
    ['plain ASCII', Buffer.from('hello world'), 'hello world'],
    ['a tab', Buffer.from('a\tb'), 'a\tb'],
    ['a newline', Buffer.from('line1\nline2'), 'line1\\nline2'],
    ['CRLF', Buffer.from('a\r\n'), 'a\\r\\n'],
    ['a screen-clearing escape', Buffer.from('\x1b[2J'), '\\x1b[2J'],
    ['BEL, NUL and DEL', Buffer.from('\x07\x00\x7f'), '\\x07\\x00\\x7f'],
    ['a backslash', Buffer.from('C:\\temp'), 'C:\\\\temp'],
    ['Chinese', Buffer.from('你好，世界'), '你好，世界'],
    ['emoji', Buffer.from('👋🏽 😀'), '👋🏽 😀'],
    ['combining marks', Buffer.from('e\u0301 é'), 'e\u0301 é'],
    ['an invalid byte', Buffer.from([0xff]), '\\xff'],
    ['text then invalid bytes', Buffer.from('hi\x1b[2J\xff', 'latin1'), 'hi\\x1b[2J\\xff'],
    ['a truncated sequence', Buffer.from([0x61, 0xe4, 0xbd]), 'a\\xe4\\xbd'],
    ['an overlong NUL', Buffer.from([0xc0, 0x80]), '\\xc0\\x80'],
    ['an encoded surrogate', Buffer.from([0xed, 0xa0, 0x80]), '\\xed\\xa0\\x80'],
    ['a code point above U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80]), '\\xf4\\x90\\x80\\x80'],
    ['invalid bytes around text', Buffer.concat([Buffer.from([0xfe]), Buffer.from('你\n'), Buffer.from([0x80])]), '\\xfe你\\n\\x80'],
    ['a C1 control (U+0085, two bytes)', Buffer.from('a\u0085b'), 'a\\u0085b'],
    ['a lone C1 byte', Buffer.from([0x85]), '\\x85'],
    ['CSI as a character (U+009B)', Buffer.from('\u009b2J'), '\\u009b2J'],
    ['line and paragraph separators', Buffer.from('a\u2028b\u2029c'), 'a\\u2028b\\u2029c'],
    ['bidi overrides and isolates', Buffer.from('\u202eevil\u2066x\u2069'), '\\u202eevil\\u2066x\\u2069'],
    ['nothing', Buffer.alloc(0), ''],
  ])('shows %s as one safe line', (_what, input, shown) => {
    expect(sanitizeBytes(input)).toBe(shown);
  });

  it('lets no control, C1, separator or bidi character through, for any bytes', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const shown = sanitizeBytes(bytes);
        expect(shown).not.toMatch(UNSAFE);
        expect(shown.split('\n')).toHaveLength(1);
      }),
    );
  });

  it('keeps printable text of any script exactly as it is', () => {
    const printable = fc
      .string({ unit: 'grapheme', maxLength: 60 })
      .filter((s) => !/[\p{Cc}\\\u2028\u2029\u202a-\u202e\u2066-\u2069]/u.test(s));
    fc.assert(
      fc.property(printable, (text) => {
        expect(sanitizeBytes(Buffer.from(text))).toBe(text);
        expect(sanitizeText(text)).toBe(text);
      }),
    );
  });

  it('can be undone: unescaping the output gives back the bytes', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        expect(unescape(sanitizeBytes(bytes)).equals(bytes)).toBe(true);
      }),
    );
  });
});

describe('sanitizeText', () => {
  it.each([
    ['plain text', 'plain', 'plain'],
    ['newlines', 'a\nb\rc', 'a\\nb\\rc'],
    ['a tab', 'tab\tkept', 'tab\tkept'],
    ['a title-setting sequence', '\x1b]0;title\x07', '\\x1b]0;title\\x07'],
    ['a backslash', '\\', '\\\\'],
    ['C1 controls, not NBSP', '\u0080\u009f\u00a0', '\\u0080\\u009f\u00a0'],
    ['an emoji then RLO', '😀\u202e', '😀\\u202e'],
  ])('escapes %s', (_what, input, shown) => {
    expect(sanitizeText(input)).toBe(shown);
  });

  it('gives the same answer when called again (no state kept between calls)', () => {
    expect(sanitizeText('a\nb')).toBe('a\\nb');
    expect(sanitizeText('a\nb')).toBe('a\\nb');
    expect(sanitizeText('ok')).toBe('ok');
  });
});
