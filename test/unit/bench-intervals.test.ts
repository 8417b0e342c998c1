import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntervalSeries, jitterRange, sumReadings, type BenchReading } from '../../src/protocol/bench-intervals.js';

describe('IntervalSeries', () => {
  it('turns running totals into intervals: rates, loss, jitter and the interval\'s mean delay variation', () => {
    const s = new IntervalSeries(125);
    const a = s.close({ atS: 0.5, sent: 500, received: 490, jitterUs: 30, delay: { sumUs: 4900, count: 490, maxUs: 40 } });
    expect(a).toEqual({ startS: 0, endS: 0.5, sent: 500, received: 490, lost: 10, lossPercent: 2, mbps: 0.98, jitterMs: 0.03, delayVarMs: 0.01 });
    // A datagram sent before the first reading counted after it: this interval's loss is negative.
    const b = s.close({ atS: 1, sent: 1000, received: 1000, jitterUs: 20, delay: { sumUs: 4900 + 10_200, count: 1000, maxUs: 40 } });
    expect(b).toMatchObject({ startS: 0.5, endS: 1, sent: 500, received: 510, lost: -10, delayVarMs: 0.02 });
    // A server that gives no delay totals: null, and the next one compares with the last it gave.
    expect(s.close({ atS: 1.5, sent: 1500, received: 1500, jitterUs: 20 }).delayVarMs).toBeNull();
    expect(s.close({ atS: 2, sent: 2000, received: 2000, jitterUs: 20, delay: { sumUs: 15_100 + 1000 * 30, count: 2000, maxUs: 40 } }).delayVarMs).toBe(0.03);
    expect(jitterRange(s.intervals)).toEqual({ minMs: 0.02, maxMs: 0.03 });
  });

  it('intervals add up to the last reading exactly, whatever the readings', () => {
    const step = fc.record({ dt: fc.double({ min: 0.001, max: 2, noNaN: true }), sent: fc.nat(100_000), kept: fc.double({ min: 0, max: 1, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const series = new IntervalSeries(64);
        let reading: BenchReading = { atS: 0, sent: 0, received: 0, jitterUs: 0 };
        for (const st of steps) {
          const sent = reading.sent + st.sent;
          reading = { atS: reading.atS + st.dt, sent, received: reading.received + Math.floor(st.sent * st.kept), jitterUs: 1 };
          series.close(reading);
        }
        const sum = (k: 'sent' | 'received' | 'lost'): number => series.intervals.reduce((a, i) => a + i[k], 0);
        expect([sum('sent'), sum('received'), sum('lost')]).toEqual([reading.sent, reading.received, reading.sent - reading.received]);
      }),
    );
  });
});

describe('sumReadings', () => {
  it('adds streams\' totals and keeps the worst jitter and delay variation', () => {
    const r = sumReadings([
      { atS: 1, sent: 10, received: 9, jitterUs: 5, delay: { sumUs: 9, count: 9, maxUs: 3 } },
      { atS: 1, sent: 20, received: 20, jitterUs: 7, delay: { sumUs: 40, count: 20, maxUs: 2 } },
    ]);
    expect(r).toEqual({ atS: 1, sent: 30, received: 29, jitterUs: 7, delay: { sumUs: 49, count: 29, maxUs: 3 } });
    expect(sumReadings([{ atS: 1, sent: 1, received: 1, jitterUs: 0 }, { atS: 1, sent: 1, received: 1, jitterUs: 0, delay: { sumUs: 0, count: 1, maxUs: 0 } }]).delay).toBeUndefined();
  });
});
