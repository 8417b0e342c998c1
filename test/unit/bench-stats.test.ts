import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { latencyHistogram } from '../../src/protocol/bench-histogram.js';
import { DelayVariation, InterarrivalJitter, SequenceCounter, lossOf, percentile, summarizeLatency } from '../../src/protocol/bench-stats.js';

function counted(seqs: readonly number[], window?: number) {
  const c = new SequenceCounter(window);
  const verdicts = seqs.map((s) => c.record(s));
  return { verdicts, received: c.received, duplicates: c.duplicates, outOfOrder: c.outOfOrder, late: c.late };
}

describe('SequenceCounter', () => {
  it('counts an in-order stream', () => {
    expect(counted([0, 1, 2, 3])).toMatchObject({ received: 4, duplicates: 0, outOfOrder: 0, late: 0 });
  });

  it('counts reordering and duplicates exactly', () => {
    expect(counted([0, 2, 1, 3, 3, 0])).toEqual({
      verdicts: ['new', 'new', 'new', 'new', 'duplicate', 'duplicate'],
      received: 4,
      duplicates: 2,
      outOfOrder: 1,
      late: 0,
    });
  });

  it('gives exact loss for a stream with gaps: distinct sequence numbers, not datagrams', () => {
    const c = counted([0, 1, 1, 2, 5, 9, 5]);
    expect(c.received).toBe(5);
    expect(lossOf(10, c.received)).toEqual({ lost: 5, percent: 50 });
  });

  it('remembers `window` numbers; an older one counts as a late arrival', () => {
    expect(counted([100, 93], 8)).toMatchObject({ verdicts: ['new', 'new'], outOfOrder: 1, late: 0 });
    expect(counted([100, 93, 93], 8)).toMatchObject({ duplicates: 1 });
    expect(counted([100, 92], 8)).toMatchObject({ verdicts: ['new', 'late'], received: 2, outOfOrder: 1, late: 1 });
  });

  it('agrees with a plain set for any arrival order within the window', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 600 }), (seqs) => {
        const seen = new Set<number>();
        let highest = -1;
        let outOfOrder = 0;
        for (const s of seqs) {
          if (!seen.has(s) && s < highest) outOfOrder++;
          seen.add(s);
          highest = Math.max(highest, s);
        }
        expect(counted(seqs, 1024)).toMatchObject({ received: seen.size, duplicates: seqs.length - seen.size, outOfOrder, late: 0 });
      }),
    );
  });
});

describe('InterarrivalJitter (RFC 3550 6.4.1)', () => {
  it('matches a hand-computed example', () => {
    // Sent every 20 ms; transit 100, 150, 120, 240 µs, so D = 50, 30, 120.
    // J = 0 + 50/16 = 3.125; + (30 - 3.125)/16 = 4.8046875; + (120 - 4.8046875)/16 = 12.00439453125.
    const j = new InterarrivalJitter();
    const steps: number[] = [];
    for (const [sent, arrived] of [[0, 100], [20_000, 20_150], [40_000, 40_120], [60_000, 60_240]] as const) {
      j.update(sent, arrived);
      steps.push(j.value);
    }
    expect(steps).toEqual([0, 3.125, 4.8046875, 12.00439453125]);
  });

  it('matches the RFC A.8 integer code within its rounding, whatever the clock offset', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 2, maxLength: 200 }), fc.integer(), (transits, offset) => {
        const j = new InterarrivalJitter();
        // A.8: jitter kept scaled by 16 so that the division needs no floating point.
        let scaled = 0;
        transits.forEach((t, i) => {
          j.update(i * 1000 + offset, i * 1000 + t);
          if (i > 0) scaled += Math.abs(t - (transits[i - 1] as number)) - ((scaled + 8) >> 4);
        });
        expect(Math.abs(j.value - scaled / 16)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('is 0 for a constant transit time', () => {
    const j = new InterarrivalJitter();
    for (let i = 0; i < 100; i++) j.update(i * 100, i * 100 + 42);
    expect(j.value).toBe(0);
  });
});

describe('percentiles', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  it('uses the nearest rank', () => {
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 51)).toBe(30);
    expect([50, 90, 99, 100].map((p) => percentile(hundred, p))).toEqual([50, 90, 99, 100]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarises unsorted samples', () => {
    expect(summarizeLatency([30, 10, 20, 40])).toEqual({ count: 4, min: 10, p50: 20, p90: 40, p99: 40, p999: 40, max: 40, mean: 25 });
    expect(summarizeLatency([])).toBeUndefined();
    const s = summarizeLatency([...hundred].reverse())!;
    expect([s.p50, s.p90, s.p99, s.p999, s.max]).toEqual([50, 90, 99, 100, 100]);
  });
});

describe('lossOf', () => {
  it('never goes below zero and is 0% of nothing', () => {
    expect(lossOf(0, 0)).toEqual({ lost: 0, percent: 0 });
    expect(lossOf(5, 7)).toEqual({ lost: 0, percent: 0 });
    expect(lossOf(200, 190)).toEqual({ lost: 10, percent: 5 });
  });
});

describe('latencyHistogram', () => {
  it('counts samples in 1-2-5 bins from the smallest sample\'s bin to the largest\'s', () => {
    expect(latencyHistogram([])).toEqual([]);
    expect(latencyHistogram([12, 15, 48, 1000, 999.9])).toEqual([
      { fromUs: 10, toUs: 20, count: 2 },
      { fromUs: 20, toUs: 50, count: 1 },
      { fromUs: 50, toUs: 100, count: 0 },
      { fromUs: 100, toUs: 200, count: 0 },
      { fromUs: 200, toUs: 500, count: 0 },
      { fromUs: 500, toUs: 1000, count: 1 },
      { fromUs: 1000, toUs: 2000, count: 1 },
    ]);
    expect(latencyHistogram([0.4, 1, 2.5])).toEqual([
      { fromUs: 0, toUs: 1, count: 1 },
      { fromUs: 1, toUs: 2, count: 1 },
      { fromUs: 2, toUs: 5, count: 1 },
    ]);
  });

  it('puts every sample in exactly one bin whose bounds hold it', () => {
    const samples = Array.from({ length: 2000 }, (_, i) => Math.round(10 ** ((i % 97) / 16) * 10) / 10);
    const bins = latencyHistogram(samples);
    expect(bins.reduce((a, b) => a + b.count, 0)).toBe(samples.length);
    for (const b of bins) expect(b.count).toBe(samples.filter((t) => t >= b.fromUs && t < b.toUs).length);
  });
});

describe('DelayVariation', () => {
  it('measures each transit over the least seen so far, whatever the clocks\' offset', () => {
    const d = new DelayVariation();
    // The receiver's clock is 5 s ahead: only differences count.
    for (const [sent, arrived] of [[0, 5_000_100], [10, 5_000_160], [20, 5_000_110], [30, 5_000_200]]) d.update(sent as number, arrived as number);
    // Transits 100, 150, 90, 170: variations 0, 50, 0 (a new least), 80.
    expect({ sumUs: d.sumUs, count: d.count, maxUs: d.maxUs }).toEqual({ sumUs: 130, count: 4, maxUs: 80 });
  });
});
