/**
 * What udpkit holds on behalf of the network (out-of-order messages, unfinished TCP lines,
 * delayed datagrams, the web page's log) is charged against a byte budget at its real cost: the
 * payload plus a fixed overhead per entry. Counting payload bytes alone lets a flood of tiny or
 * empty entries dodge the cap (262,144 held empty messages cost 100 MB and "0 bytes").
 * Pure bookkeeping: no clock, no I/O.
 */
import { validateInteger } from '../validate.js';

/**
 * Bytes one held entry costs besides its payload: a Buffer object, its slot in a Map or an
 * array and the record around it. Measured on Node 20 (x64): a Map<number, Buffer> of 262,144
 * copied payloads of 0 to 16 bytes grows RSS by 260-360 bytes an entry (and the issue that
 * asked for this saw about 410 with sessions around them); rounded up so the cap errs safe.
 */
export const ENTRY_OVERHEAD = 512;

/** Options of a {@link MemoryBudget}. */
export interface MemoryBudgetOptions {
  /** The most bytes held at once, overhead included. */
  readonly limit: number;
  /** Bytes charged per entry on top of its payload; default {@link ENTRY_OVERHEAD}. */
  readonly overhead?: number;
  /** Names the limit in error messages (`maxBufferedBytes`). */
  readonly name?: string;
}

/**
 * A byte budget shared by everything one component holds. Charge before keeping an entry,
 * release when it goes; what does not fit is refused (and counted by the caller, with a reason).
 * @example
 * const budget = new MemoryBudget({ limit: 16 << 20 });
 * if (budget.charge(payload.length)) held.set(seq, payload);
 * else dropped++;
 * // later, when it leaves:
 * budget.release(payload.length);
 */
export class MemoryBudget {
  readonly limit: number;
  readonly overhead: number;
  #used = 0;
  #entries = 0;
  /** Charges refused because they did not fit. */
  refusals = 0;

  /** @throws `RangeError` coded `UDPKIT_INVALID_ARGUMENT` for a negative or fractional limit or overhead. */
  constructor(options: MemoryBudgetOptions) {
    this.limit = validateInteger(options.limit, { name: options.name ?? 'limit' });
    this.overhead = validateInteger(options.overhead ?? ENTRY_OVERHEAD, { name: 'overhead' });
  }

  /** What an entry of `payloadBytes` costs. */
  cost(payloadBytes: number): number {
    return payloadBytes + this.overhead;
  }

  /** Bytes charged now, overhead included. */
  get used(): number {
    return this.#used;
  }

  /** Entries charged now. */
  get entries(): number {
    return this.#entries;
  }

  /** Whether an entry of `payloadBytes` would fit now. */
  fits(payloadBytes: number): boolean {
    return this.#used + this.cost(payloadBytes) <= this.limit;
  }

  /** Charges one entry if it fits; false (and counted in {@link refusals}) if not. */
  charge(payloadBytes: number): boolean {
    if (!this.fits(payloadBytes)) {
      this.refusals++;
      return false;
    }
    this.#used += this.cost(payloadBytes);
    this.#entries++;
    return true;
  }

  /** Gives back what {@link charge} took for an entry of `payloadBytes`. */
  release(payloadBytes: number): void {
    this.#used = Math.max(0, this.#used - this.cost(payloadBytes));
    this.#entries = Math.max(0, this.#entries - 1);
  }

  /**
   * Changes the payload of one charged entry from `fromBytes` to `toBytes` (a buffer that grows
   * or shrinks in place of release-then-charge, which would count a refusal and could lose the
   * entry); false, with nothing changed, if the growth does not fit.
   */
  resize(fromBytes: number, toBytes: number): boolean {
    if (toBytes > fromBytes && this.#used + toBytes - fromBytes > this.limit) return false;
    this.#used = Math.max(0, this.#used + toBytes - fromBytes);
    return true;
  }

  /** Forgets every charge (everything held was let go at once). */
  clear(): void {
    this.#used = 0;
    this.#entries = 0;
  }
}
