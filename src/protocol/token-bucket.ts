/**
 * A policer for `udpkit relay --rate`: a token bucket that says yes or no to each datagram as it
 * arrives (excess is dropped, not queued), and the limiter under PeerRateLimiter. Pure: `now` in
 * milliseconds, fractional. Inside it counts whole microseconds and millionths of a token, so
 * refills are exact integer arithmetic with no rounding drift over a long run.
 */

const UNIT = 1_000_000;

/**
 * A bucket holding at most `burst` tokens, refilled at `rate` per second, full at the start.
 * @example
 * const bucket = new TokenBucket(100, 1);
 * bucket.take(0);  // true: the first token
 * bucket.take(5);  // false: half a token after 5 ms
 * bucket.take(10); // true: a whole one after 10 ms
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  #credit: number;
  #last: number | undefined;

  /**
   * @param rate tokens per second, a whole number > 0
   * @param burst tokens the bucket holds, a whole number > 0
   */
  constructor(rate: number, burst: number) {
    this.rate = rate;
    this.burst = burst;
    this.#credit = burst * UNIT;
  }

  /** Takes one token at `now` (ms, never going back) if there is one. */
  take(nowMs: number): boolean {
    const now = Math.round(nowMs * 1000);
    const full = this.burst * UNIT;
    if (this.#last !== undefined && now > this.#last) {
      // Bounding the elapsed time first keeps the product exact (a long pause fills it anyway).
      const elapsed = Math.min(now - this.#last, full);
      this.#credit = Math.min(full, this.#credit + elapsed * this.rate);
    }
    if (this.#last === undefined || now > this.#last) this.#last = now;
    if (this.#credit < UNIT) return false;
    this.#credit -= UNIT;
    return true;
  }
}
