/** The bottleneck (`--rate` with `--queue-limit`), alone and inside the core, with a simulated clock. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bottleneck } from '../../src/protocol/impairment-bottleneck.js';
import { Impairment } from '../../src/protocol/impairment.js';
import { validateImpairment } from '../../src/protocol/impairment-options.js';
import { seededRandom } from '../../src/protocol/seeded-random.js';
import { thrown } from '../helpers/thrown.js';

describe('Bottleneck', () => {
  it('serves 1000 datagrams/s one a millisecond, and drops at the tail beyond 10 queued', () => {
    const b = new Bottleneck({ rate: 1000, unit: 'packets', limitPackets: 10, limitBytes: undefined });
    const departs = Array.from({ length: 15 }, () => b.offer(100, 0));
    expect(departs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, undefined, undefined, undefined, undefined, undefined]);
    expect(b.length).toBe(10);
    // At 2.5 ms two have left: two places free, the next leaves after the last queued.
    expect(b.offer(100, 2.5)).toBe(11);
    expect(b.offer(100, 2.5)).toBe(12);
    expect(b.offer(100, 2.5)).toBeUndefined();
  });

  it('with a bit rate takes each packet its size in bits over the rate, and limits the queue in bytes', () => {
    // 8000 bit/s: 1000 bytes a second, so a 100-byte packet takes 100 ms.
    const b = new Bottleneck({ rate: 8000, unit: 'bits', limitPackets: undefined, limitBytes: 250 });
    expect(b.offer(100, 0)).toBe(100);
    expect(b.offer(100, 0)).toBe(200);
    expect(b.offer(100, 0)).toBeUndefined();
    expect(b.offer(50, 0)).toBe(250);
    expect(b.bytes).toBe(250);
    // An idle link starts each packet on arrival.
    expect(b.offer(100, 1000)).toBe(1100);
  });
});

describe('the core with a bottleneck', () => {
  it('is FIFO, never holds more than its limit, and counts every tail drop (any arrivals, sizes and limits)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.double({ min: 0, max: 5, noNaN: true }), size: fc.integer({ min: 0, max: 1400 }) }), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 50 }),
        fc.oneof(fc.constant(undefined), fc.integer({ min: 1500, max: 40_000 })),
        fc.oneof(fc.integer({ min: 100, max: 5000 }).map((rate) => ({ rate })), fc.integer({ min: 100_000, max: 10_000_000 }).map((bitRate) => ({ bitRate }))),
        (arrivals, queueLimit, queueLimitBytes, rate) => {
          const settings = validateImpairment({ ...rate, queueLimit, ...(queueLimitBytes !== undefined ? { queueLimitBytes } : {}) });
          const imp = new Impairment<{ seq: number; size: number }>(settings, seededRandom(1), { sizeOf: (x) => x.size });
          const left: number[] = [];
          let now = 0;
          let tail = 0;
          arrivals.forEach(({ gap, size }, seq) => {
            now += gap;
            left.push(...imp.pollTransmit(now).map((x) => x.seq));
            if (imp.handleDatagram({ seq, size }, 'up', 'f', now) === 'tail-drop') tail++;
            expect(imp.bottleneckLength('up')).toBeLessThanOrEqual(queueLimit);
          });
          left.push(...imp.drain().map((x) => x.seq));
          const c = imp.counts.up;
          expect(c.tailDropped).toBe(tail);
          expect(c.received).toBe(arrivals.length);
          expect(c.forwarded + c.tailDropped).toBe(c.received);
          expect(left).toHaveLength(c.forwarded);
          expect(left).toEqual([...left].sort((a, b) => a - b));
        },
      ),
    );
  });

  it('lets each datagram leave at its departure plus the delay, one direction not slowing the other', () => {
    const imp = new Impairment<number>(validateImpairment({ rate: 100, queueLimit: 3, delayMs: 50 }), seededRandom(1));
    for (let i = 0; i < 5; i++) imp.handleDatagram(i, 'up', 'f', 0);
    imp.handleDatagram(9, 'down', 'g', 0);
    expect(imp.counts.up).toMatchObject({ forwarded: 3, tailDropped: 2 });
    const due: Array<[number, number[]]> = [];
    for (let t = imp.nextDeadline(); t !== undefined; t = imp.nextDeadline()) due.push([t, imp.pollTransmit(t)]);
    expect(due).toEqual([
      [60, [0, 9]],
      [70, [1]],
      [80, [2]],
    ]);
  });

  it('--rate alone stays the policer; a queue limit, or a bit rate, makes it a bottleneck', () => {
    expect(validateImpairment({ rate: 100 })).toMatchObject({ rate: 100, burst: 10, bottleneck: undefined });
    expect(validateImpairment({ rate: 100, queueLimit: 5 })).toMatchObject({ rate: 0, bottleneck: { rate: 100, unit: 'packets', limitPackets: 5 } });
    expect(validateImpairment({ bitRate: 1e6 }).bottleneck).toEqual({ rate: 1e6, unit: 'bits', limitPackets: 1000, limitBytes: undefined });
    expect(validateImpairment({ bitRate: 1e6, queueLimitBytes: 65_536 }).bottleneck).toEqual({ rate: 1e6, unit: 'bits', limitPackets: undefined, limitBytes: 65_536 });
    expect(thrown(() => validateImpairment({ queueLimit: 5 }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT', message: 'queueLimit and queueLimitBytes are the queue of a bottleneck: give rate or bitRate too' });
    expect(thrown(() => validateImpairment({ rate: 5, queueLimit: 5, burst: 2 }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT', message: 'burst is for the policer (rate without a queue limit), not for a bottleneck queue' });
  });
});
