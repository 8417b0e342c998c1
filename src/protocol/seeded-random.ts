/**
 * A small seeded PRNG (mulberry32), so `udpkit relay --seed N` makes the same decisions on every
 * run. Not for anything secret: 32 bits of state, period 2^32.
 */

/** A source of uniform numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/**
 * mulberry32 seeded with the low 32 bits of `seed`.
 * @example
 * const random = seededRandom(1);
 * random(); // 0.6270739405881613, on every run
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
