/**
 * Pacing for `udpkit bench --rate/--bitrate` (docs/protocol.md, "Bench frames"): a token bucket
 * with a spacing rule that a sender asks how many datagrams are due. Pure: `now` in nanoseconds (a whole number, as
 * `process.hrtime.bigint()` gives them), since at 100,000 datagrams a second the gap is 10 µs
 * and a microsecond clock would round each gap by up to a tenth.
 *
 * Inside, credit counts billionths of a datagram (ns x datagrams/s): whole numbers, so the fill
 * is exact over any run length. The elapsed time added at once is clamped to what fills the
 * bucket (at most 10^6 datagrams), which keeps credit below 2^53 at any rate.
 */

const NS_PER_S = 1_000_000_000;
/** After a stall the sender catches up at this many times the rate, never faster. */
export const CATCH_UP_FACTOR = 2;
/** How much backlog a stall may leave to catch up on: beyond it, the time is lost. */
const CATCH_UP_NS = 100_000_000;
/** Backlog in datagrams at most, whatever the rate: keeps credit exact (below 2^53). */
const MAX_BACKLOG = 1_000_000;
/** Slots of the pacer's state array. */
const CREDIT = 0;
const LAST = 1;
const NOT_BEFORE = 2;

/**
 * The sending schedule of a paced test: datagrams due at `rate` per second, sent `burst` at a
 * time, back to back, every burst/rate (default 1: one every 1/rate, evenly). A sender that stalls (descheduled on
 * a busy machine, a slow turn) falls behind; it then catches up at {@link CATCH_UP_FACTOR} times
 * the rate, still `burst` at a time, so the long-run rate holds without the back-to-back burst
 * a plain token bucket would send. Backlog beyond 100 ms of datagrams is given up: the achieved
 * rate shows it. Starts with one group due.
 * @example
 * const pacer = new Pacer({ rate: 100_000, nowNs: 0 });
 * pacer.available(0);      // 1
 * pacer.take(1);
 * pacer.available(5_000);  // 0: due again at 10 µs
 * pacer.available(10_000); // 1
 */
export class Pacer {
  readonly rate: number;
  readonly burst: number;
  /**
   * Credit (billionths of a datagram due now), the last `now`, and no datagram before this (ns:
   * the catch-up spacing after the last group sent). In a typed array: a number beyond 2^31 kept
   * in a field is a new heap object at every store, which at 100,000 datagrams a second keeps
   * the garbage collector busy enough to show in the gaps.
   */
  readonly #s = new Float64Array(3);
  readonly #full: number;

  /** `rate` > 0 datagrams per second; `burst` >= 1 datagrams; `nowNs` the clock when it starts. */
  constructor(options: { readonly rate: number; readonly burst?: number; readonly nowNs: number }) {
    this.rate = options.rate;
    this.burst = options.burst ?? 1;
    const backlog = Math.min(MAX_BACKLOG, Math.max(this.burst, Math.ceil((this.rate * CATCH_UP_NS) / NS_PER_S)));
    this.#full = backlog * NS_PER_S;
    this.#s[CREDIT] = this.burst * NS_PER_S;
    this.#s[LAST] = options.nowNs;
    this.#s[NOT_BEFORE] = options.nowNs;
  }

  /** Datagrams to send back to back at `nowNs`: 0, or `burst` once that many are due. */
  available(nowNs: number): number {
    const s = this.#s;
    const elapsed = nowNs - (s[LAST] as number);
    if (elapsed > 0) {
      // Clamped first: a long stall adds at most the whole backlog, and the product stays exact.
      const fill = Math.min(elapsed, Math.ceil(this.#full / this.rate));
      s[CREDIT] = Math.min(this.#full, (s[CREDIT] as number) + fill * this.rate);
      s[LAST] = nowNs;
    }
    if (nowNs < (s[NOT_BEFORE] as number) || (s[CREDIT] as number) < this.burst * NS_PER_S) return 0;
    return this.burst;
  }

  /** Spends `n` datagrams sent at the last {@link available} call (at most what it gave). */
  take(n: number): void {
    if (n <= 0) return;
    const s = this.#s;
    s[CREDIT] = (s[CREDIT] as number) - n * NS_PER_S;
    s[NOT_BEFORE] = (s[LAST] as number) + Math.ceil((n * NS_PER_S) / (this.rate * CATCH_UP_FACTOR));
  }

  /** Nanoseconds after the last {@link available} call until a datagram is due. */
  wait(): number {
    const s = this.#s;
    const missing = this.burst * NS_PER_S - (s[CREDIT] as number);
    const forCredit = missing <= 0 ? 0 : Math.ceil(missing / this.rate);
    return Math.max(forCredit, (s[NOT_BEFORE] as number) - (s[LAST] as number));
  }
}

/**
 * Mean and spread of the gaps between sends, as the sender's clock saw them: Welford's running
 * variance, in constant memory over any number of datagrams. The coefficient of variation
 * (stddev / mean) is what `--rate` pacing is judged by: 0 for perfectly even gaps.
 * @example
 * const g = new GapStats();
 * [0, 10, 20, 40].forEach((t) => g.note(t)); // gaps 10, 10, 20
 * g.cv; // 0.35355...
 */
export class GapStats {
  /** Count, mean, sum of squared deviations, last `t` (NaN before the first): see {@link Pacer}'s state for why a typed array. */
  readonly #s = Float64Array.of(0, 0, 0, NaN);

  /** One send (or one batch of sends, at one clock reading) at `t`, in any unit. */
  note(t: number): void {
    const s = this.#s;
    const last = s[3] as number;
    if (!Number.isNaN(last)) {
      const gap = t - last;
      const count = (s[0] as number) + 1;
      const mean = s[1] as number;
      const delta = gap - mean;
      const next = mean + delta / count;
      s[0] = count;
      s[1] = next;
      s[2] = (s[2] as number) + delta * (gap - next);
    }
    s[3] = t;
  }

  /** Gaps seen: sends less one. */
  get count(): number {
    return this.#s[0] as number;
  }

  /** The mean gap, in the unit of `t`; NaN before two sends. */
  get mean(): number {
    return this.count === 0 ? NaN : (this.#s[1] as number);
  }

  /** Population standard deviation of the gaps; NaN before two sends. */
  get stddev(): number {
    return this.count === 0 ? NaN : Math.sqrt((this.#s[2] as number) / this.count);
  }

  /** stddev / mean; NaN before two sends or when every gap was 0. */
  get cv(): number {
    return this.count === 0 || this.mean === 0 ? NaN : this.stddev / this.mean;
  }
}
