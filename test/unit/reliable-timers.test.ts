import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RttEstimator } from '../../src/protocol/rtt-estimator.js';
import { TimerHeap } from '../../src/protocol/timer-heap.js';

describe('TimerHeap', () => {
  it('hands timers out by deadline, then by id, whatever the order they came in', () => {
    const timer = fc.record({ at: fc.integer({ min: 0, max: 50 }), id: fc.nat(1000) });
    fc.assert(
      fc.property(fc.array(timer, { maxLength: 200 }), fc.array(fc.boolean(), { maxLength: 300 }), (timers, pops) => {
        const heap = new TimerHeap();
        const model: { at: number; id: number }[] = [];
        let next = 0;
        for (const pop of pops) {
          if (pop || next >= timers.length) {
            model.sort((a, b) => a.at - b.at || a.id - b.id);
            expect(heap.pop()).toEqual(model.shift());
          } else {
            const t = timers[next++] as { at: number; id: number };
            heap.push(t.at, t.id);
            model.push(t);
          }
          expect(heap.size).toBe(model.length);
        }
      }),
    );
  });
});

describe('RttEstimator', () => {
  it('follows RFC 6298: first sample, then smoothed, clamped to its bounds', () => {
    const rtt = new RttEstimator({ initialRtoMs: 200, minRtoMs: 50, maxRtoMs: 2000 });
    expect(rtt.rtoMs).toBe(200);
    expect(rtt.srttMs).toBeUndefined();
    rtt.sample(100);
    expect(rtt.srttMs).toBe(100);
    expect(rtt.rtoMs).toBe(300); // 100 + 4 * 50
    rtt.sample(20);
    expect(rtt.srttMs).toBe(90); // 7/8 * 100 + 1/8 * 20
    expect(rtt.rtoMs).toBe(90 + 4 * 57.5); // RTTVAR = 3/4 * 50 + 1/4 * 80
    rtt.sample(5000);
    expect(rtt.rtoMs).toBe(2000);
    const lan = new RttEstimator({ initialRtoMs: 200, minRtoMs: 50, maxRtoMs: 2000 });
    for (let i = 0; i < 50; i++) lan.sample(0.2);
    expect(lan.rtoMs).toBe(50);
  });
});
