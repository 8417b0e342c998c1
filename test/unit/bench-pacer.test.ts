import { describe, expect, it } from 'vitest';
import { CATCH_UP_FACTOR, GapStats, Pacer } from '../../src/protocol/bench-pacer.js';
import { retrySchedule } from '../../src/transport/bench-replies.js';

/**
 * Drives a pacer on a fake clock (ns) the way the sending loop does: asks at `now`, sends what is
 * due, then the clock moves on to the next moment asked about: the pacer's own wait, or later
 * when `stall(now)` says the sender was held up. Returns each send's time.
 */
function drive(pacer: Pacer, untilNs: number, stall: (now: number) => number = () => 0): number[] {
  const sends: number[] = [];
  for (let now = 0; now < untilNs; ) {
    const n = pacer.available(now);
    for (let k = 0; k < n; k++) sends.push(now);
    pacer.take(n);
    const wait = n > 0 ? 0 : pacer.wait();
    now += Math.max(wait, 1) + stall(now);
  }
  return sends;
}

const gapsOf = (sends: readonly number[]): number[] => sends.slice(1).map((t, i) => t - (sends[i] as number));

describe('Pacer', () => {
  it('with burst 1, spaces every datagram exactly 1/rate apart, and sends rate x time', () => {
    const sends = drive(new Pacer({ rate: 100_000, nowNs: 0 }), 1e9);
    expect(sends.length).toBe(100_000);
    expect(new Set(gapsOf(sends))).toEqual(new Set([10_000]));
  });

  it('keeps a rate that does not divide a second exactly, with no drift over a long run', () => {
    // 3 per millisecond is a gap of 333,333.33 ns: gaps of 333,333 and 333,334 ns that add up.
    const sends = drive(new Pacer({ rate: 3000, nowNs: 0 }), 10e9);
    expect(sends.length).toBe(30_000);
    const gaps = gapsOf(sends);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(333_333);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(333_334);
  });

  it('after a stall, catches up at twice the rate, never back to back, and keeps the long-run rate', () => {
    // 10,000/s (100 µs apart); the sender is held up 30 ms once, at 200 ms.
    let stalled = false;
    const sends = drive(new Pacer({ rate: 10_000, nowNs: 0 }), 1e9, (now) => {
      if (stalled || now < 200e6) return 0;
      stalled = true;
      return 30e6;
    });
    const gaps = gapsOf(sends);
    expect(Math.min(...gaps)).toBe(100_000 / CATCH_UP_FACTOR);
    expect(gaps.filter((g) => g > 100_000)).toHaveLength(1);
    // Every datagram of the 30 ms is made up before the second is over.
    expect(sends.length).toBe(10_000);
  });

  it('gives up backlog beyond 100 ms: a 1 s stall costs 900 ms of datagrams', () => {
    let stalled = false;
    const sends = drive(new Pacer({ rate: 1000, nowNs: 0 }), 3e9, (now) => {
      if (stalled || now < 1e9) return 0;
      stalled = true;
      return 1e9;
    });
    expect(sends.length).toBe(3000 - 900);
  });

  it('with burst N, sends N back to back every N gaps', () => {
    const pacer = new Pacer({ rate: 1000, burst: 4, nowNs: 0 });
    expect(pacer.available(0)).toBe(4);
    pacer.take(4);
    expect(pacer.available(3e6)).toBe(0);
    expect(pacer.wait()).toBe(1e6);
    expect(pacer.available(4e6)).toBe(4);
    pacer.take(4);
    // Never more than the burst, however long the stall; catching up, groups 2 ms apart.
    expect(pacer.available(60e6)).toBe(4);
    pacer.take(4);
    expect(pacer.available(61e6)).toBe(0);
    expect(pacer.wait()).toBe(1e6);
    const sends = drive(new Pacer({ rate: 1000, burst: 4, nowNs: 0 }), 1e9);
    expect(sends.length).toBe(1000);
    expect(new Set(gapsOf(sends))).toEqual(new Set([0, 4e6]));
  });

  it('says how long until the next datagram is due', () => {
    const pacer = new Pacer({ rate: 1, nowNs: 0 });
    expect(pacer.available(0)).toBe(1);
    pacer.take(1);
    expect(pacer.available(0)).toBe(0);
    expect(pacer.wait()).toBe(1e9);
    expect(pacer.available(250e6)).toBe(0);
    expect(pacer.wait()).toBe(750e6);
    expect(pacer.available(1e9)).toBe(1);
    expect(pacer.wait()).toBe(0);
  });
});

describe('GapStats', () => {
  it('gives the mean gap and the coefficient of variation', () => {
    const g = new GapStats();
    expect(g.cv).toBeNaN();
    [0, 10, 20, 40].forEach((t) => g.note(t));
    expect(g.count).toBe(3);
    expect(g.mean).toBeCloseTo(40 / 3, 12);
    // Gaps 10, 10, 20: population stddev sqrt(200/9).
    expect(g.cv).toBeCloseTo(Math.sqrt(200 / 9) / (40 / 3), 12);
  });

  it('is 0 for even gaps', () => {
    const g = new GapStats();
    for (let t = 0; t < 1e6; t += 10_000) g.note(t);
    expect(g.cv).toBe(0);
  });
});

describe('retrySchedule', () => {
  it('doubles from 200 ms and adds up to the total', () => {
    expect(retrySchedule(3000)).toEqual([200, 400, 800, 1600]);
    expect(retrySchedule(1000)).toEqual([200, 400, 400]);
    expect(retrySchedule(100)).toEqual([100]);
  });
});
