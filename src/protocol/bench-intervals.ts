/**
 * The interval series of `udpkit bench -i` (docs/protocol.md, "Bench frames"): each interval is
 * the difference of two readings of running totals, the client's sent count and the server's
 * counts in a non-final RESULT, so the intervals add up to the final report exactly whatever
 * was lost or late. Pure arithmetic; times in seconds since the test began.
 *
 * A datagram sent just before a reading but counted by the server just after it belongs to the
 * next interval's `received`: an interval's `lost` can then be negative by that much, and the
 * next one's larger by as much. An unanswered reading leaves no boundary: that interval runs on
 * into the next.
 */
import type { BenchResultStats, DelayTotals } from './bench-frames.js';

/** One interval of a bench test. `mbps` counts UDP payload bits received. */
export interface BenchInterval {
  readonly startS: number;
  readonly endS: number;
  readonly sent: number;
  /** Distinct sequence numbers the server counted in this interval. */
  readonly received: number;
  /** sent - received; may be negative (see the file's header). */
  readonly lost: number;
  readonly lossPercent: number;
  readonly mbps: number;
  /** The server's RFC 3550 jitter at the interval's end (its running estimate), ms. */
  readonly jitterMs: number;
  /** Mean one-way delay variation of this interval's arrivals, ms; null when the server did not say. */
  readonly delayVarMs: number | null;
}

/** Running totals at one moment: the client's and the server's. */
export interface BenchReading {
  readonly atS: number;
  readonly sent: number;
  readonly received: number;
  readonly jitterUs: number;
  readonly delay?: DelayTotals | undefined;
}

const ZERO: BenchReading = { atS: 0, sent: 0, received: 0, jitterUs: 0, delay: { sumUs: 0, count: 0, maxUs: 0 } };

/**
 * Turns readings into intervals, each from the previous reading to this one.
 * @example
 * const series = new IntervalSeries(64);
 * series.close({ atS: 1, sent: 1000, received: 998, jitterUs: 12 }).lost; // 2
 */
export class IntervalSeries {
  readonly #length: number;
  #previous: BenchReading = ZERO;
  readonly intervals: BenchInterval[] = [];

  /** `length`: bytes per datagram, for Mbit/s. */
  constructor(length: number) {
    this.#length = length;
  }

  /** Closes the interval ending at `reading` and returns it. Readings must not go back in time. */
  close(reading: BenchReading): BenchInterval {
    const p = this.#previous;
    const sent = reading.sent - p.sent;
    const received = reading.received - p.received;
    const seconds = reading.atS - p.atS;
    const d = reading.delay;
    const pd = p.delay;
    const count = d && pd ? d.count - pd.count : 0;
    const interval: BenchInterval = {
      startS: p.atS,
      endS: reading.atS,
      sent,
      received,
      lost: sent - received,
      lossPercent: sent === 0 ? 0 : ((sent - received) / sent) * 100,
      mbps: seconds > 0 ? (received * this.#length * 8) / seconds / 1e6 : 0,
      jitterMs: reading.jitterUs / 1000,
      delayVarMs: d && pd && count > 0 ? (d.sumUs - pd.sumUs) / count / 1000 : null,
    };
    // A reading without totals (an older server's) leaves the last ones to compare the next with.
    this.#previous = { ...reading, delay: d ?? pd };
    this.intervals.push(interval);
    return interval;
  }
}

/**
 * The smallest and largest of the intervals' jitter, ms; NaN for none.
 * @example jitterRange(series.intervals) // { minMs: 0.004, maxMs: 0.031 }
 */
export function jitterRange(intervals: readonly BenchInterval[]): { minMs: number; maxMs: number } {
  if (intervals.length === 0) return { minMs: NaN, maxMs: NaN };
  const j = intervals.map((i) => i.jitterMs);
  return { minMs: Math.min(...j), maxMs: Math.max(...j) };
}

/**
 * A reading from a RESULT's running totals.
 * @example readingOf(1.5, 15_000, result.stats).received
 */
export function readingOf(atS: number, sent: number, stats: BenchResultStats): BenchReading {
  return { atS, sent, received: stats.received, jitterUs: stats.jitterUs, delay: stats.delay };
}

/**
 * Several streams' readings at one moment as one: counts and delay totals added, the largest
 * jitter and delay variation (the worst stream's).
 * @example sumReadings([a, b]).received // a.received + b.received
 */
export function sumReadings(readings: readonly BenchReading[]): BenchReading {
  const delays = readings.map((r) => r.delay);
  const allDelays = delays.every((d) => d !== undefined);
  return {
    atS: Math.max(...readings.map((r) => r.atS)),
    sent: readings.reduce((a, r) => a + r.sent, 0),
    received: readings.reduce((a, r) => a + r.received, 0),
    jitterUs: Math.max(...readings.map((r) => r.jitterUs)),
    delay: allDelays
      ? {
          sumUs: delays.reduce((a, d) => a + (d?.sumUs ?? 0), 0),
          count: delays.reduce((a, d) => a + (d?.count ?? 0), 0),
          maxUs: Math.max(...delays.map((d) => d?.maxUs ?? 0)),
        }
      : undefined,
  };
}
