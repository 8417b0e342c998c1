import { describe, expect, it } from 'vitest';
import { Pacer } from '../../src/protocol/bench-pacer.js';
import { retrySchedule } from '../../src/transport/bench-replies.js';

/**
 * Drives a pacer the way the client does: one turn every `turnUs` microseconds, sending all
 * that is due, until `durationUs`. Returns what was sent and when the last turn was (µs). The
 * pacer takes milliseconds, fractional.
 */
function simulate(rate: number, durationUs: number, turnUs: (turn: number) => number): { sent: number; lastUs: number } {
  const pacer = new Pacer(rate, 0);
  let sent = 0;
  let lastUs = 0;
  for (let now = 0, turn = 0; now < durationUs; now += turnUs(turn++)) {
    const n = pacer.available(now / 1000);
    pacer.take(n);
    sent += n;
    lastUs = now;
  }
  return { sent, lastUs };
}

describe('Pacer', () => {
  it('sends rate x elapsed time datagrams, plus the first, whatever the turn length', () => {
    for (const turn of [50, 1000, 1100, 7000]) {
      const { sent, lastUs } = simulate(20_000, 1_000_000, () => turn);
      expect(sent).toBe(1 + Math.floor((20_000 * lastUs) / 1e6));
      expect(sent).toBeGreaterThan(19_800);
    }
  });

  it('catches up at most one burst (20 ms) after a stalled turn', () => {
    const pacer = new Pacer(10_000, 0);
    expect(pacer.burst).toBe(200);
    expect(pacer.available(1000)).toBe(200);
    // A stall of 100 ms costs 800 datagrams rather than a burst of 1000.
    expect(simulate(10_000, 1_000_000, (t) => (t === 10 ? 100_000 : 1000)).sent).toBeLessThan(9_300);
  });

  it('says how long until the next datagram is due', () => {
    const pacer = new Pacer(1, 0);
    expect(pacer.available(0)).toBe(1);
    pacer.take(1);
    expect(pacer.available(0)).toBe(0);
    expect(pacer.wait()).toBe(1000);
    expect(pacer.available(250)).toBe(0);
    expect(pacer.wait()).toBe(750);
    expect(pacer.available(1000)).toBe(1);
    expect(pacer.wait()).toBe(0);
  });
});

describe('retrySchedule', () => {
  it('doubles from 200 ms and adds up to the total', () => {
    expect(retrySchedule(3000)).toEqual([200, 400, 800, 1600]);
    expect(retrySchedule(1000)).toEqual([200, 400, 400]);
    expect(retrySchedule(100)).toEqual([100]);
  });
});
