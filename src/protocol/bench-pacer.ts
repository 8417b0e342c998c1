/**
 * Pacing for `udpkit bench --rate` (docs/protocol.md, "Bench frames"): a token bucket that a
 * sender asks, once per event-loop turn, how many datagrams are due. Pure: `now` in milliseconds,
 * fractional (at 1,000,000 datagrams a second one is due every microsecond). Inside it counts
 * whole microseconds, as TokenBucket does, so the fill stays exact over a long run.
 */

/** How many seconds of datagrams the bucket holds: the catch-up after a stalled turn. */
const BURST_SECONDS = 0.02;

/**
 * A token bucket filling at `rate` datagrams per second, holding at most `burst` (default 20 ms
 * worth, at least 1). Starts with one token, so a test sends close to rate x duration datagrams.
 * @example
 * const pacer = new Pacer(10_000, now);
 * const n = pacer.available(now + 1); // 11: one to start with, ten more after 1 ms
 * pacer.take(n);
 */
export class Pacer {
  readonly rate: number;
  readonly burst: number;
  #tokens = 1;
  #last: number;

  /** @param rate datagrams per second, > 0 */
  constructor(rate: number, now: number, burst: number = Math.max(1, Math.ceil(rate * BURST_SECONDS))) {
    this.rate = rate;
    this.burst = burst;
    this.#last = Math.round(now * 1000);
  }

  /** Whole datagrams that may be sent at `now`. */
  available(nowMs: number): number {
    const now = Math.round(nowMs * 1000);
    if (now > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.rate) / 1e6);
      this.#last = now;
    }
    return Math.floor(this.#tokens);
  }

  /** Spends `n` tokens, for datagrams sent. */
  take(n: number): void {
    this.#tokens -= n;
  }

  /** Milliseconds (fractional) after the last `available` call until the next whole token. */
  wait(): number {
    return this.#tokens >= 1 ? 0 : ((1 - this.#tokens) * 1000) / this.rate;
  }
}
