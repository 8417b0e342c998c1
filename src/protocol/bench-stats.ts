/**
 * The arithmetic of `udpkit bench` (docs/protocol.md, "Bench frames"): distinct sequence
 * numbers in bounded memory, RFC 3550 interarrival jitter, loss and latency percentiles.
 * Pure: numbers in, numbers out; times are microseconds on whichever clock the caller uses.
 */
import { ReplayWindow } from './replay-window.js';

/**
 * Sequence numbers remembered exactly per session: 2^18 (32 KiB). Loss is exact unless a
 * datagram arrives more than this many sequence numbers late (counted as `late`).
 */
export const DEFAULT_SEQUENCE_WINDOW = 2 ** 18;

/** What a receiver counted for one stream of sequence-numbered datagrams. */
export interface ReceiverCounts {
  /** Distinct sequence numbers received (late ones included). */
  readonly received: number;
  /** Datagrams whose sequence number had been received already. */
  readonly duplicates: number;
  /** Datagrams that arrived after one with a higher sequence number (not duplicates). */
  readonly outOfOrder: number;
  /**
   * Datagrams older than the window: counted as received and out of order, though the window
   * cannot tell whether they were duplicates. Loss is exact while this is 0.
   */
  readonly late: number;
  /** RFC 3550 interarrival jitter, in microseconds. */
  readonly jitterUs: number;
  /** From the first to the last arrival, in microseconds. */
  readonly spanUs: number;
}

/** How a sequence number was taken by {@link SequenceCounter.record}. */
export type SequenceVerdict = 'new' | 'duplicate' | 'late';

/**
 * Counts distinct sequence numbers, duplicates and reordering, remembering only a sliding window
 * of the newest `windowSize` numbers (a bitmap, as for replay protection).
 * @example
 * const c = new SequenceCounter();
 * [0, 2, 1, 1].map((s) => c.record(s)); // ['new', 'new', 'new', 'duplicate']
 * c.outOfOrder; // 1 (seq 1 came after 2)
 */
export class SequenceCounter {
  received = 0;
  duplicates = 0;
  outOfOrder = 0;
  late = 0;
  readonly #window: ReplayWindow;

  constructor(windowSize: number = DEFAULT_SEQUENCE_WINDOW) {
    this.#window = new ReplayWindow(windowSize);
  }

  /** The highest sequence number seen, or -1 before the first. */
  get highest(): number {
    return this.#window.highest;
  }

  /** Records one arrival of `seq` (a whole number >= 0). */
  record(seq: number): SequenceVerdict {
    const highest = this.#window.highest;
    if (this.#window.accept(seq)) {
      this.received++;
      if (seq < highest) this.outOfOrder++;
      return 'new';
    }
    if (highest - seq < this.#window.size) {
      this.duplicates++;
      return 'duplicate';
    }
    this.received++;
    this.outOfOrder++;
    this.late++;
    return 'late';
  }
}

/**
 * Interarrival jitter as RFC 3550 section 6.4.1 defines it (code in appendix A.8): the mean
 * deviation of the difference in transit time between consecutive arrivals, smoothed by 1/16.
 * The sender's and receiver's clocks need not agree: only differences of transit times count.
 * @example
 * const j = new InterarrivalJitter();
 * j.update(0, 100); j.update(1000, 1110); // transit 100 then 110: D = 10
 * j.value; // 0.625 (= 10 / 16)
 */
export class InterarrivalJitter {
  #previousTransit: number | undefined;
  #jitter = 0;

  /** Feeds one arrival, in arrival order: when it was sent (sender's clock) and when it arrived. */
  update(sentAt: number, arrivedAt: number): void {
    const transit = arrivedAt - sentAt;
    if (this.#previousTransit !== undefined) {
      const d = Math.abs(transit - this.#previousTransit);
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#previousTransit = transit;
  }

  /** The current estimate, in the callers' time unit. */
  get value(): number {
    return this.#jitter;
  }
}

/**
 * The `p`-th percentile (0 < p <= 100) of ascending `sorted` samples, nearest-rank method: the
 * smallest sample with at least p% of samples at or below it. NaN for no samples.
 * @example percentile([10, 20, 30, 40], 50) // 20
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** Round-trip times summarised. */
export interface LatencySummary {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * Summarises latency samples; `undefined` when there are none.
 * @example summarizeLatency([30, 10, 20])?.p50 // 20
 */
export function summarizeLatency(samples: readonly number[]): LatencySummary | undefined {
  if (samples.length === 0) return undefined;
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  const sum = list.reduce((a, b) => a + b, 0);
  return {
    count: list.length,
    min: list[0] as number,
    p50: percentile(list, 50),
    p90: percentile(list, 90),
    p99: percentile(list, 99),
    p999: percentile(list, 99.9),
    max: list[list.length - 1] as number,
    mean: sum / list.length,
  };
}

/**
 * Loss from what one side sent and the other received as distinct sequence numbers.
 * @example lossOf(200, 190) // { lost: 10, percent: 5 }
 */
export function lossOf(sent: number, received: number): { lost: number; percent: number } {
  const lost = Math.max(0, sent - received);
  return { lost, percent: sent === 0 ? 0 : (lost / sent) * 100 };
}

/**
 * One-way delay variation without synchronised clocks: each arrival's transit time (arrival on
 * the receiver's clock less the send stamp on the sender's) less the smallest transit seen so
 * far, which stands for the path's fixed delay plus the clocks' offset. Kept as running totals
 * (sum, count, max) so that differences of two readings give an interval's mean exactly.
 * @example
 * const d = new DelayVariation();
 * d.update(0, 100); d.update(10, 130); // transits 100, 120: variations 0, 20
 * d.sumUs; // 20
 */
export class DelayVariation {
  #min = Infinity;
  sumUs = 0;
  count = 0;
  maxUs = 0;

  /** Feeds one arrival: when it was sent (sender's clock, µs) and when it arrived (µs). */
  update(sentAt: number, arrivedAt: number): void {
    const transit = arrivedAt - sentAt;
    if (transit < this.#min) this.#min = transit;
    const v = transit - this.#min;
    this.sumUs += v;
    this.count++;
    if (v > this.maxUs) this.maxUs = v;
  }
}
