/**
 * Round-trip time estimation and the retransmission timeout, as RFC 6298 section 2: SRTT and
 * RTTVAR smoothed with alpha = 1/8 and beta = 1/4, RTO = SRTT + max(G, 4 * RTTVAR), clamped.
 * Pure: the caller measures samples and applies Karn's rule (no samples from retransmissions).
 */

/** Bounds of an {@link RttEstimator}, in ms. */
export interface RttEstimatorOptions {
  /** RTO before the first sample. */
  readonly initialRtoMs: number;
  readonly minRtoMs: number;
  readonly maxRtoMs: number;
}

/** Clock granularity G of RFC 6298: the RTO never falls to SRTT itself. */
const GRANULARITY_MS = 1;

/**
 * One path's RTT estimate.
 * @example
 * const rtt = new RttEstimator({ initialRtoMs: 200, minRtoMs: 50, maxRtoMs: 2000 });
 * rtt.sample(30);
 * rtt.rtoMs; // 90: 30 + 4 * 15
 */
export class RttEstimator {
  readonly #options: RttEstimatorOptions;
  #srtt: number | undefined;
  #rttvar = 0;
  #rto: number;

  constructor(options: RttEstimatorOptions) {
    this.#options = options;
    this.#rto = options.initialRtoMs;
  }

  /** The smoothed RTT in ms, or `undefined` before the first sample. */
  get srttMs(): number | undefined {
    return this.#srtt;
  }

  /** The retransmission timeout a first transmission gets now, in ms. */
  get rtoMs(): number {
    return this.#rto;
  }

  /** Takes one measured round trip (ms) of a message that was sent only once. */
  sample(rttMs: number): void {
    const r = Math.max(0, rttMs);
    if (this.#srtt === undefined) {
      this.#srtt = r;
      this.#rttvar = r / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - r);
      this.#srtt = 0.875 * this.#srtt + 0.125 * r;
    }
    const { minRtoMs, maxRtoMs } = this.#options;
    this.#rto = Math.min(maxRtoMs, Math.max(minRtoMs, this.#srtt + Math.max(GRANULARITY_MS, 4 * this.#rttvar)));
  }
}
