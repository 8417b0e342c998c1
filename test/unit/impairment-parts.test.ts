import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DueQueue } from '../../src/protocol/due-queue.js';
import { seededRandom } from '../../src/protocol/seeded-random.js';
import { TokenBucket } from '../../src/protocol/token-bucket.js';

describe('TokenBucket', () => {
  it('starts full, then refills at the rate, exactly', () => {
    const b = new TokenBucket(100, 2);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([true, true, false]);
    expect(b.take(9.999)).toBe(false);
    expect(b.take(10)).toBe(true);
    expect(b.take(10)).toBe(false);
    // A long pause fills it to the burst, no further.
    expect([b.take(1e9), b.take(1e9), b.take(1e9)]).toEqual([true, true, false]);
  });

  it('lets exactly burst + rate x elapsed through a steady stream, whatever the step (in whole microseconds)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 2, max: 50 }), fc.integer({ min: 1, max: 5000 }), (rate, burst, step) => {
        // Arrivals at least as dense as tokens and room for two, so it never overflows after the
        // start (a bucket of one token may fill between two arrivals and waste the excess).
        fc.pre(step * rate <= 1e6);
        const b = new TokenBucket(rate, burst);
        let passed = 0;
        let t = 0;
        // t counts microseconds; the bucket takes milliseconds, fractional.
        for (; t <= 200_000; t += step) if (b.take(t / 1000)) passed++;
        const last = t - step;
        expect(passed).toBe(Math.min(burst + Math.floor((last * rate) / 1e6), Math.floor(last / step) + 1));
      }),
    );
  });

  it('ignores a clock that steps back', () => {
    const b = new TokenBucket(1, 1);
    expect(b.take(5_000)).toBe(true);
    expect(b.take(1_000)).toBe(false);
    expect(b.take(5_999.999)).toBe(false);
    expect(b.take(6_000)).toBe(true);
  });
});

describe('DueQueue', () => {
  it('hands out live entries by time, then by insertion order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.boolean()), { maxLength: 200 }), (items) => {
        const q = new DueQueue<number>();
        const entries = items.map(([at], i) => q.push(at, i));
        items.forEach(([, cancel], i) => cancel && q.cancel(entries[i]!));
        const want = items
          .map(([at, cancel], i) => ({ at, i, cancel }))
          .filter((x) => !x.cancel)
          .sort((a, b) => a.at - b.at || a.i - b.i)
          .map((x) => x.i);
        expect(q.size).toBe(want.length);
        const got: number[] = [];
        for (let e = q.pop(); e; e = q.pop()) got.push(e.item);
        expect(got).toEqual(want);
        expect(q.size).toBe(0);
      }),
    );
  });
});

describe('seededRandom', () => {
  it('repeats for a seed, stays in [0, 1), and spreads evenly', () => {
    const a = seededRandom(1);
    expect(a()).toBe(0.6270739405881613);
    const r = seededRandom(123);
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r();
      if (x < 0 || x >= 1) outside++;
      else buckets[Math.floor(x * 10)]!++;
    }
    expect(outside).toBe(0);
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(500);
  });
});
