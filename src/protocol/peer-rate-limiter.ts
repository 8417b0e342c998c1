/**
 * Limits how often udpkit answers each peer on its own (an echo, an IP Messenger answer), so a
 * forged source address cannot turn it into a reflector or an amplifier, and two of our tools
 * cannot answer each other for ever. One token bucket per key (usually the source address),
 * kept in bounded memory: past `maxKeys` the least recently seen key is forgotten. An optional
 * bucket over all keys bounds the total when an attacker varies its source. Pure: `now` in ms.
 */
import { validateInteger } from '../validate.js';
import { TokenBucket } from './token-bucket.js';

/** Options of a {@link PeerRateLimiter}. */
export interface PeerRateLimiterOptions {
  /** Answers per second each key may earn. */
  readonly rate: number;
  /** Answers a key may get back to back (its bucket starts full). */
  readonly burst: number;
  /** Keys remembered at once; default 4096. */
  readonly maxKeys?: number;
  /** A second bucket over every key together, for sources that keep changing. */
  readonly total?: { readonly rate: number; readonly burst: number };
}

/**
 * Per-key token buckets.
 * @example
 * const limiter = new PeerRateLimiter({ rate: 100, burst: 20 });
 * if (limiter.allow(from.address, Date.now())) socket.send(reply, from.port, from.address);
 * // limiter.limited counts the answers held back
 */
export class PeerRateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #total: TokenBucket | undefined;
  /** In order of last use: the first is the one forgotten next. */
  readonly #buckets = new Map<string, TokenBucket>();
  /** Answers refused so far. */
  limited = 0;

  /** @throws `RangeError` coded `UDPKIT_INVALID_ARGUMENT` for a rate, burst or maxKeys below 1. */
  constructor(options: PeerRateLimiterOptions) {
    this.#rate = validateInteger(options.rate, { name: 'rate', min: 1 });
    this.#burst = validateInteger(options.burst, { name: 'burst', min: 1 });
    this.#maxKeys = validateInteger(options.maxKeys ?? 4096, { name: 'maxKeys', min: 1 });
    const total = options.total;
    this.#total = total
      ? new TokenBucket(validateInteger(total.rate, { name: 'total.rate', min: 1 }), validateInteger(total.burst, { name: 'total.burst', min: 1 }))
      : undefined;
  }

  /** Keys remembered now. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one answer for `key` at `now` (ms, never going back): true if it may be sent. A key
   * seen for the first time starts with a full bucket; refusals are counted in {@link limited}.
   */
  allow(key: string, now: number): boolean {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value as string);
      bucket = new TokenBucket(this.#rate, this.#burst);
    } else {
      this.#buckets.delete(key);
    }
    this.#buckets.set(key, bucket);
    // The per-key bucket first: a refused peer must not use up the shared allowance.
    const ok = bucket.take(now) && (this.#total === undefined || this.#total.take(now));
    if (!ok) this.limited++;
    return ok;
  }
}
