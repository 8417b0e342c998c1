import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DueQueue } from '../../src/protocol/due-queue.js';
import { decide } from '../../src/protocol/impairment-decide.js';
import { Impairment, QUEUE_ENTRY_OVERHEAD } from '../../src/protocol/impairment.js';
import { validateImpairment, validateMilliseconds, validateProbability, type ImpairmentOptions } from '../../src/protocol/impairment-options.js';
import { seededRandom } from '../../src/protocol/seeded-random.js';
import { thrown } from '../helpers/thrown.js';

const N = 100_000;

/** The share of `N` decisions for which `pick` holds. */
function share(options: ImpairmentOptions, seed: number, pick: (d: ReturnType<typeof decide>) => boolean): number {
  const s = validateImpairment(options);
  const random = seededRandom(seed);
  let hits = 0;
  for (let i = 0; i < N; i++) if (pick(decide(s, random))) hits++;
  return hits / N;
}

/** Feeds `count` datagrams (their index as the item) into one flow, `gapMs` apart; returns them in leaving order. */
function run(imp: Impairment<number>, count: number, gapMs: number, direction: 'up' | 'down' = 'up'): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    imp.handleDatagram(i, direction, 'flow', i * gapMs);
    out.push(...imp.pollTransmit(i * gapMs));
  }
  out.push(...imp.drain());
  return out;
}

describe('decide', () => {
  it.each([0.01, 0.2, 0.5, 0.9])('loses %f of 100k datagrams, within ±1%%', (rate) => {
    expect(Math.abs(share({ loss: rate }, 7, (d) => d.lost) - rate)).toBeLessThan(0.01);
  });

  it.each([0.05, 0.3])('duplicates and reorders %f, within ±1%%', (rate) => {
    expect(Math.abs(share({ duplicate: rate }, 8, (d) => d.copies === 2) - rate)).toBeLessThan(0.01);
    expect(Math.abs(share({ reorder: rate }, 9, (d) => d.reorder) - rate)).toBeLessThan(0.01);
  });

  it('keeps delay plus jitter within bounds, never below 0, centred on the delay', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), fc.integer(), (delayMs, jitterMs, seed) => {
        const s = validateImpairment({ delayMs, jitterMs });
        const random = seededRandom(seed);
        for (let i = 0; i < 200; i++) {
          const d = decide(s, random);
          expect(d.delayMs).toBeGreaterThanOrEqual(Math.max(0, delayMs - jitterMs));
          expect(d.delayMs).toBeLessThanOrEqual(delayMs + jitterMs);
          // Whole microseconds, as fractional milliseconds.
          expect(Math.abs(d.delayMs * 1000 - Math.round(d.delayMs * 1000))).toBeLessThan(1e-6);
        }
      }),
    );
    expect(Math.abs(avgDelay({ delayMs: 50, jitterMs: 20 }) - 50)).toBeLessThan(0.2);
    expect(avgDelay({ delayMs: 12.5 })).toBe(12.5);
  });

  it('makes the same decisions for the same seed, other ones for another seed', () => {
    const s = validateImpairment({ loss: 0.3, duplicate: 0.1, reorder: 0.1, delayMs: 10, jitterMs: 5 });
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 1000 }, () => decide(s, random));
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });
});

function avgDelay(options: ImpairmentOptions): number {
  const s = validateImpairment(options);
  const random = seededRandom(5);
  let sum = 0;
  for (let i = 0; i < N; i++) sum += decide(s, random).delayMs;
  return sum / N;
}

describe('Impairment', () => {
  it('with nothing asked passes every datagram at once, in order, and counts them', () => {
    const imp = new Impairment<number>(validateImpairment({}), seededRandom(1));
    const out: number[] = [];
    for (let i = 0; i < 1000; i++) {
      expect(imp.handleDatagram(i, 'up', 'a', i)).toBe('forwarded');
      out.push(...imp.pollTransmit(i));
    }
    expect(out).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(imp.pending).toBe(0);
    expect(imp.nextDeadline()).toBeUndefined();
    expect(imp.counts.up).toEqual({ received: 1000, forwarded: 1000, dropped: 0, duplicated: 0, reordered: 0, rateLimited: 0, queueFull: 0, corrupted: 0, tailDropped: 0, tooBig: 0 });
  });

  it('holds each datagram for the delay; the timer deadline says when', () => {
    const imp = new Impairment<string>(validateImpairment({ delayMs: 200 }), seededRandom(1));
    imp.handleDatagram('x', 'down', 'a', 1);
    expect(imp.pollTransmit(200.999)).toEqual([]);
    expect(imp.nextDeadline()).toBe(201);
    expect(imp.pollTransmit(201)).toEqual(['x']);
  });

  it('never lets jitter reorder one flow', () => {
    const imp = new Impairment<number>(validateImpairment({ delayMs: 5, jitterMs: 50 }), seededRandom(2));
    const out = run(imp, 2000, 0.1);
    expect(out).toEqual([...out].sort((a, b) => a - b));
    expect(out).toHaveLength(2000);
  });

  it('with reorder 1, lets every second datagram overtake the one before', () => {
    const imp = new Impairment<number>(validateImpairment({ reorder: 1 }), seededRandom(1));
    expect(run(imp, 6, 1)).toEqual([1, 0, 3, 2, 5, 4]);
    expect(imp.counts.up.reordered).toBe(3);
  });

  it('releases a held-back datagram after reorderHoldMs when nothing overtakes it', () => {
    const imp = new Impairment<string>(validateImpairment({ reorder: 1, reorderHoldMs: 30 }), seededRandom(1));
    imp.handleDatagram('alone', 'up', 'a', 0);
    expect(imp.pollTransmit(29.999)).toEqual([]);
    expect(imp.pollTransmit(30)).toEqual(['alone']);
    // Held no longer: the next one is held in its turn, not released.
    imp.handleDatagram('next', 'up', 'a', 40);
    expect(imp.pollTransmit(40)).toEqual([]);
  });

  it('sends a duplicate right after its original, and counts it once as forwarded', () => {
    const imp = new Impairment<number>(validateImpairment({ duplicate: 1 }), seededRandom(1));
    expect(run(imp, 3, 0.01)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(imp.counts.up).toMatchObject({ received: 3, forwarded: 3, duplicated: 3 });
  });

  it('rate-limits each direction with its own bucket, exactly', () => {
    const imp = new Impairment<number>(validateImpairment({ rate: 100, burst: 5 }), seededRandom(1));
    // One datagram per millisecond for a second, both ways: 5 (the burst) + 99 tokens earned by 999 ms.
    for (let t = 0; t < 1000; t++) {
      imp.handleDatagram(t, 'up', 'a', t);
      imp.handleDatagram(t, 'down', 'a', t);
    }
    expect(imp.counts.up).toMatchObject({ received: 1000, forwarded: 104, rateLimited: 896 });
    expect(imp.counts.down).toEqual(imp.counts.up);
  });

  it('impairs one direction only when asked', () => {
    const imp = new Impairment<number>(validateImpairment({ loss: 1, only: 'up' }), seededRandom(1));
    expect(run(imp, 10, 0.001, 'up')).toEqual([]);
    expect(run(imp, 10, 0.001, 'down')).toHaveLength(10);
    expect(imp.counts.up.dropped).toBe(10);
  });

  it('accounts for every datagram: received = forwarded + dropped + rate-limited + queue full; all forwarded leave', () => {
    const rate = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(rate, rate, rate, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 64, max: 300 }), fc.integer(), (loss, duplicate, reorder, delayMs, pps, entries, seed) => {
        const settings = validateImpairment({ loss, duplicate, reorder, delayMs, jitterMs: delayMs / 2, rate: pps, maxQueueBytes: entries * QUEUE_ENTRY_OVERHEAD });
        const imp = new Impairment<number>(settings, seededRandom(seed));
        const out = run(imp, 300, 0.7);
        const c = imp.counts.up;
        expect(c.received).toBe(300);
        expect(c.forwarded + c.dropped + c.rateLimited + c.queueFull).toBe(300);
        expect(imp.queuedBytes).toBe(0);
        expect(out).toHaveLength(c.forwarded + c.duplicated);
        expect(imp.pending).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Impairment queue bound', () => {
  const kib = (n: number, fill: number): Buffer => Buffer.alloc(n * 1024, fill);

  it('drops what does not fit in maxQueueBytes, counts it, and takes datagrams again as the queue empties', () => {
    // Each 1 KiB datagram costs 1 KiB plus the overhead: 32 fit in 64 KiB.
    const imp = new Impairment<Buffer>(validateImpairment({ delayMs: 100, maxQueueBytes: 65_536 }), seededRandom(1));
    const fates = Array.from({ length: 40 }, (_, i) => imp.handleDatagram(kib(1, i), 'up', 'a', 0));
    expect(fates.filter((f) => f === 'forwarded')).toHaveLength(32);
    expect(fates.slice(32)).toEqual(Array(8).fill('queue-full'));
    expect(imp.counts.up).toMatchObject({ received: 40, forwarded: 32, queueFull: 8 });
    expect(imp.queuedBytes).toBe(32 * (1024 + QUEUE_ENTRY_OVERHEAD));
    expect(imp.pollTransmit(100).map((b) => b[0])).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(imp.queuedBytes).toBe(0);
    expect(imp.handleDatagram(kib(1, 99), 'down', 'a', 100)).toBe('forwarded');
  });

  it('charges a duplicate once, passes-through and held-back datagrams too, and keeps only what it queues', () => {
    const kept: number[] = [];
    const items = { sizeOf: (b: Buffer) => b.length, keep: (b: Buffer) => (kept.push(b[0] as number), Buffer.from(b)) };
    const imp = new Impairment<Buffer>(validateImpairment({ duplicate: 1, reorder: 1, loss: 0, only: 'up', maxQueueBytes: 65_536 }), seededRandom(1), items);
    expect(imp.handleDatagram(kib(40, 1), 'up', 'a', 0)).toBe('forwarded');
    expect(imp.handleDatagram(kib(40, 2), 'up', 'a', 0)).toBe('queue-full');
    expect(imp.handleDatagram(kib(24, 3), 'down', 'a', 0)).toBe('queue-full');
    expect(imp.handleDatagram(kib(1, 4), 'down', 'a', 0)).toBe('forwarded');
    expect(kept).toEqual([1, 4]);
    expect(imp.queuedBytes).toBe(41 * 1024 + 2 * QUEUE_ENTRY_OVERHEAD);
    expect(imp.drain().map((b) => b[0])).toEqual([4, 1, 1]);
    expect(imp.counts.up).toMatchObject({ received: 2, forwarded: 1, duplicated: 1, reordered: 1, queueFull: 1 });
  });

  it('keeps the timers of cancelled entries (held-back datagrams overtaken) bounded, and the order intact', () => {
    // What a long flood with --reorder does to the core's queue: each overtaking cancels a
    // held-back entry whose timer is far out, so stale timers would pile up until then.
    const q = new DueQueue<number>();
    for (let i = 0; i < 10; i++) q.push(1e9 + i, i);
    for (let i = 0; i < 100_000; i++) {
      q.cancel(q.push(1e9, -1));
      expect(q.heapSize).toBeLessThanOrEqual(2 * q.size + 64);
    }
    expect(q.size).toBe(10);
    expect(Array.from({ length: 11 }, () => q.pop()?.item)).toEqual([...Array.from({ length: 10 }, (_, i) => i), undefined]);
  });
});

describe('impairment options', () => {
  it('take rates as decimals or percentages and refuse anything outside 0..1 with a coded RangeError', () => {
    expect(validateProbability('0.2', { name: '--loss' })).toBe(0.2);
    expect(validateProbability('20%', { name: '--loss' })).toBe(0.2);
    expect(validateProbability('.5', { name: '--loss' })).toBe(0.5);
    for (const bad of ['2', '-0.1', '101%', 'half', '', Number.NaN]) {
      const err = thrown(() => validateProbability(bad, { name: '--loss' }));
      expect(err).toBeInstanceOf(RangeError);
      expect(err).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
      expect((err as Error).message).toContain('--loss');
    }
    expect(thrown(() => validateMilliseconds('-5', { name: '--delay' }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
    expect(thrown(() => validateImpairment({ loss: 1.5 }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
  });

  it('default the burst to a tenth of a second of the rate', () => {
    expect(validateImpairment({ rate: 100 }).burst).toBe(10);
    expect(validateImpairment({ rate: 3 }).burst).toBe(1);
    expect(validateImpairment({}).rate).toBe(0);
  });
});

describe('Impairment.transparent: when a driver may forward a batch as it came', () => {
  it('is true only when nothing can be lost, copied, changed, held or refused', () => {
    const make = (o: ImpairmentOptions): Impairment<Buffer> => new Impairment<Buffer>(validateImpairment(o), seededRandom(1));
    expect(make({}).transparent).toBe(true);
    expect(make({ only: 'up' }).transparent).toBe(true);
    for (const o of [{ loss: 0.01 }, { loss: 0.1, lossBurst: 3 }, { gemodel: { p: 0, oneMinusK: 0.1 } }, { gemodel: { p: 0.1 } }, { duplicate: 0.1 }, { corrupt: 0.1 },
      { reorder: 0.1 }, { delayMs: 1 }, { jitterMs: 1 }, { rate: 10 }, { bitRate: 1e6 }, { mtu: 1000 }] as ImpairmentOptions[]) {
      expect(make(o).transparent, JSON.stringify(o)).toBe(false);
    }
  });

  it('countPassed counts as handleDatagram would for what leaves at once', () => {
    const a = new Impairment<Buffer>(validateImpairment({}), seededRandom(1));
    const b = new Impairment<Buffer>(validateImpairment({}), seededRandom(1));
    for (let i = 0; i < 5; i++) a.handleDatagram(Buffer.from('x'), 'up', 'f', 0);
    a.handleDatagram(Buffer.from('y'), 'down', 'g', 0);
    b.countPassed('up', 5);
    b.countPassed('down', 1);
    expect(b.counts).toEqual(a.counts);
  });
});
