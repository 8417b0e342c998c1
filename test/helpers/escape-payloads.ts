/**
 * Payloads that exercise every rule of the escaping (src/format/escape.ts), as fast-check
 * arbitraries: C0, DEL, C1, separators and bidi controls, long runs of them, valid text of any
 * script, and invalid UTF-8 of every kind (lone continuation bytes, overlongs, surrogates,
 * beyond U+10FFFF, sequences cut short), with now and then a large (1,200 or 8,000-byte)
 * random, plain or 8-binary-bytes-then-text payload.
 */
import fc from 'fast-check';

const utf8 = (cp: number): number[] => [...Buffer.from(String.fromCodePoint(cp))];
const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);

/** Code points the escaping treats specially: C0, DEL, C1, the separators, bidi, `"`, `\`. */
export const SPECIAL = [...range(0, 0x1f), 0x22, 0x5c, 0x7f, ...range(0x80, 0x9f), 0xa0, ...range(0x2026, 0x202f), ...range(0x2065, 0x206a)];
const special = fc.constantFrom(...SPECIAL).map(utf8);
const cont = fc.integer({ min: 0x80, max: 0xbf });

/** Pieces of a payload: each rule of the escaping, valid and invalid UTF-8 of every kind. */
const piece: fc.Arbitrary<number[]> = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((b) => [...b]),
  fc.string({ unit: 'binary', maxLength: 12 }).map((s) => [...Buffer.from(s)]),
  fc.stringMatching(/^[\t -~]{16,90}$/).map((s) => [...Buffer.from(s)]),
  special,
  fc.array(special, { minLength: 20, maxLength: 120 }).map((a) => a.flat()),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 300 })).map(([b, n]) => new Array<number>(n).fill(b)),
  cont.map((b) => [b]),
  // Overlong forms, surrogates encoded in UTF-8, beyond U+10FFFF, bytes never valid.
  fc.constantFrom<number[]>([0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf]),
  fc.tuple(fc.integer({ min: 0xa0, max: 0xbf }), cont).map(([a, b]) => [0xed, a, b]),
  fc.tuple(fc.integer({ min: 0x90, max: 0xbf }), cont, cont).map(([a, b, c]) => [0xf4, a, b, c]),
  fc.tuple(fc.integer({ min: 0xf5, max: 0xff }), cont, cont, cont).map((t) => t),
  // A valid sequence cut short, and the largest code points.
  fc.integer({ min: 0x80, max: 0x10ffff }).filter((cp) => cp < 0xd800 || cp > 0xdfff).chain((cp) => fc.integer({ min: 1, max: utf8(cp).length - 1 }).map((n) => utf8(cp).slice(0, n))),
  fc.constantFrom(utf8(0x10ffff), utf8(0xffff), utf8(0xfffd), utf8(0x7ff), utf8(0x800), utf8(0x10000)),
);

/** A large payload of one kind a benchmark blasts: random bytes, printable ASCII, 8 binary bytes then text. */
const large = fc
  .constantFrom(1200, 8000)
  .chain((n) => fc.tuple(fc.uint8Array({ minLength: n, maxLength: n }), fc.constantFrom('random', 'ascii', 'bin8')))
  .map(([b, kind]) => {
    if (kind === 'random') return Buffer.from(b);
    const text = Buffer.from(b.map((x) => 0x20 + (x % 95)));
    if (kind === 'bin8') text.set(b.subarray(0, 8));
    return text;
  });

/** Any payload, built from {@link piece}s, or now and then a large one. */
export const payload: fc.Arbitrary<Buffer> = fc.oneof({ weight: 8, arbitrary: fc.array(piece, { maxLength: 12 }).map((ps) => Buffer.from(ps.flat())) }, { weight: 1, arbitrary: large });

/** Any string with lone surrogates now and then (a JS string can hold them; a socket never gives one). */
export const anyString = fc.string({
  unit: fc.oneof({ weight: 9, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) }),
  maxLength: 12,
});
