/**
 * Datagrams for fuzzing a listener, as fast-check arbitraries: random bytes, and frame-like
 * datagrams of every udpkit frame type (SEALED 'S', BENCH_DATA 'B', BENCH_CONTROL 'C', DATA 'D',
 * ACK 'A'), valid, truncated or with a byte changed. An arbitrary yields a recipe; the bytes are
 * made when sending (a sealed frame must be sealed fresh, with the time of sending).
 */
import fc from 'fast-check';
import { encodeBenchFrame } from '../../src/protocol/bench-frames.js';
import { FrameType } from '../../src/protocol/frame-header.js';
import { encodeAck, encodeData } from '../../src/protocol/reliable-frames.js';
import type { Sealer } from '../../src/protocol/seal.js';

/** How to make one datagram. */
export type Recipe =
  | { readonly kind: 'random'; readonly bytes: Uint8Array }
  | { readonly kind: 'header'; readonly version: number; readonly type: number; readonly body: Uint8Array }
  | { readonly kind: 'data'; readonly session: number; readonly seq: number; readonly payload: Uint8Array }
  | { readonly kind: 'ack'; readonly session: number; readonly cumulative: number; readonly selective: readonly number[] }
  | { readonly kind: 'bench'; readonly frame: Parameters<typeof encodeBenchFrame>[0] }
  /** `elsewhere`: sealed for another port than the listener's (a misdirected frame). */
  | { readonly kind: 'sealed'; readonly key: 'right' | 'wrong'; readonly elsewhere: boolean; readonly inner: Recipe };

/** A recipe, then what happens to its bytes on the way, and which of the sending sockets sends it. */
export interface FuzzDatagram {
  readonly recipe: Recipe;
  /** Keep only this many bytes (a truncated datagram), if set. */
  readonly cut: number | undefined;
  /** XOR the byte at this position (modulo the length) with this value, if set. */
  readonly flip: readonly [number, number] | undefined;
  readonly socket: number;
}

const TYPES = [FrameType.SEALED, FrameType.BENCH_DATA, FrameType.BENCH_CONTROL, FrameType.DATA, FrameType.ACK];
const sessionIdOf = (n: number): Buffer => Buffer.from([0xf0, 0, 0, 0, 0, 0, 0, n]);

const data = fc.record({
  kind: fc.constant('data' as const),
  // Few sessions and small seqs, so messages are delivered, held, repeated and refused.
  session: fc.integer({ min: 0, max: 7 }),
  seq: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 24 }), weight: 8 }, fc.integer({ min: 250, max: 300 }), fc.constant(0xfffffffe)),
  payload: fc.uint8Array({ maxLength: 40 }),
});
const ack = fc.record({
  kind: fc.constant('ack' as const),
  session: fc.integer({ min: 0, max: 7 }),
  cumulative: fc.integer({ min: 0, max: 1000 }),
  selective: fc.uniqueArray(fc.integer({ min: 1, max: 64 }), { maxLength: 5 }),
});
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const bench = fc.oneof(
  fc.record({ kind: fc.constant('data' as const), session: u64, seq: fc.nat(), sentAt: fc.nat(), length: fc.integer({ min: 28, max: 200 }) }),
  fc.record({ kind: fc.constant('echo-request' as const), session: u64, seq: fc.nat(), sentAt: fc.nat(), length: fc.integer({ min: 32, max: 200 }) }),
  fc.record({ kind: fc.constant('result-request' as const), session: u64, final: fc.boolean(), sent: fc.nat() }),
  fc.record({ kind: fc.constant('start' as const), session: u64, length: fc.integer({ min: 28, max: 1400 }), durationMs: fc.nat(), rate: fc.nat() }),
).map((frame) => ({ kind: 'bench' as const, frame }));
const header = fc.record({
  kind: fc.constant('header' as const),
  version: fc.oneof({ arbitrary: fc.constant(1), weight: 4 }, fc.integer({ min: 0, max: 255 })),
  type: fc.oneof({ arbitrary: fc.constantFrom(...TYPES), weight: 4 }, fc.integer({ min: 0, max: 255 })),
  body: fc.uint8Array({ maxLength: 80 }),
});
const random = fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 300 }) });
const plain: fc.Arbitrary<Recipe> = fc.oneof(random, header, { arbitrary: data, weight: 3 }, ack, bench);
const sealed = fc.record({
  kind: fc.constant('sealed' as const),
  key: fc.constantFrom('right' as const, 'wrong' as const),
  elsewhere: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, fc.constant(true)),
  inner: plain,
});

/** `undefined` four times in five, else a value of `arb`. */
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, arb);

/** One fuzz datagram: most as made, some truncated or with a byte changed. */
export const fuzzDatagram: fc.Arbitrary<FuzzDatagram> = fc.record({
  recipe: fc.oneof({ arbitrary: plain, weight: 3 }, sealed),
  cut: sometimes(fc.integer({ min: 0, max: 60 })),
  flip: sometimes(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 }))),
  socket: fc.integer({ min: 0, max: 1 }),
});

/** The bytes of a recipe; sealed ones with `sealers.right` or `sealers.wrong` at `now`, for `port`. */
export function build(r: Recipe, sealers: { readonly right: Sealer; readonly wrong: Sealer }, now: number, port: number): Buffer {
  switch (r.kind) {
    case 'random':
      return Buffer.from(r.bytes);
    case 'header':
      return Buffer.concat([Buffer.from([0x55, 0x4b, r.version, r.type]), r.body]);
    case 'data':
      return encodeData(sessionIdOf(r.session), r.seq, r.payload);
    case 'ack':
      return encodeAck(sessionIdOf(r.session), r.cumulative, r.selective.map((i) => r.cumulative + i));
    case 'bench':
      return encodeBenchFrame(r.frame);
    case 'sealed':
      return sealers[r.key].seal(build(r.inner, sealers, now, port), now, { port: r.elsewhere ? (port % 65535) + 1 : port });
  }
}

/** The datagram as sent: built, then cut and flipped as it says. */
export function bytesOf(d: FuzzDatagram, sealers: { readonly right: Sealer; readonly wrong: Sealer }, now: number, port: number): Buffer {
  let b = build(d.recipe, sealers, now, port);
  if (d.cut !== undefined) b = b.subarray(0, Math.min(d.cut, b.length));
  if (d.flip !== undefined && b.length > 0) {
    b = Buffer.from(b);
    const at = d.flip[0] % b.length;
    b[at] = (b[at] as number) ^ d.flip[1];
  }
  return b;
}
