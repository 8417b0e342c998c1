/**
 * What a receiver of bench test traffic counts for one session (docs/protocol.md, "What the
 * server counts"): distinct sequence numbers, RFC 3550 jitter, one-way delay variation and the
 * span of arrivals. The server counts this way for the client's traffic, and the client for the
 * server's with `--reverse` and `--bidir`. Pure: times in whole microseconds passed in.
 */
import type { BenchResultStats } from './bench-frames.js';
import { DelayVariation, InterarrivalJitter, SequenceCounter } from './bench-stats.js';

/**
 * Counts of one stream of data frames as they arrive.
 * @example
 * const a = new BenchArrivals();
 * a.record(0, sentAtUs, nowUs);
 * a.counts(undefined).received; // 1
 */
export class BenchArrivals {
  readonly seq: SequenceCounter;
  readonly jitter = new InterarrivalJitter();
  readonly delay = new DelayVariation();
  #first: number | undefined;
  #last = 0;

  constructor(windowSize?: number) {
    this.seq = new SequenceCounter(windowSize);
  }

  /** One data frame: its sequence number, its send stamp (sender's clock, µs) and its arrival (µs). */
  record(seq: number, sentAt: number, arrivedAt: number): void {
    if (this.seq.record(seq) !== 'duplicate') {
      this.jitter.update(sentAt, arrivedAt);
      this.delay.update(sentAt, arrivedAt);
    }
    this.#first ??= arrivedAt;
    this.#last = arrivedAt;
  }

  /** The counts so far, as a RESULT carries them, with the kernel's drop count if known. */
  counts(kernelDrops: number | undefined): BenchResultStats {
    const { received, duplicates, outOfOrder, late } = this.seq;
    const { sumUs, count, maxUs } = this.delay;
    const spanUs = this.#first === undefined ? 0 : this.#last - this.#first;
    return { received, duplicates, outOfOrder, late, jitterUs: this.jitter.value, spanUs, kernelDrops, delay: { sumUs, count, maxUs } };
  }
}
