/**
 * Which IP Messenger messages were already shown: a sender resends a message until its receipt
 * comes, so a lost RECVMSG means a second copy, to be confirmed again but shown once. Keyed by
 * sender and packet number, kept 60 s and at most 10,000 of them. Pure: `now` in ms.
 */

/** How long a received message's packet number is remembered to spot retransmissions. */
const DEDUPE_MS = 60_000;
/** Ids kept at most: past it the oldest go first, so a flood of messages cannot grow it. */
const DEDUPE_MAX = 10_000;

/**
 * Message ids seen lately, oldest first.
 * @example
 * const seen = new SeenMessages();
 * seen.firstTime('10.0.0.2:2425#7', 0);    // true: show it
 * seen.firstTime('10.0.0.2:2425#7', 1000); // false: a resent copy
 */
export class SeenMessages {
  readonly #seen = new Map<string, number>();

  /** Whether `id` was seen within {@link DEDUPE_MS} (without noting it). */
  has(id: string, now: number): boolean {
    const at = this.#seen.get(id);
    return at !== undefined && now - at < DEDUPE_MS;
  }

  /** True the first time `id` is seen within {@link DEDUPE_MS}. */
  firstTime(id: string, now: number): boolean {
    for (const [k, at] of this.#seen) {
      if (now - at < DEDUPE_MS && this.#seen.size < DEDUPE_MAX) break;
      this.#seen.delete(k);
    }
    if (this.#seen.has(id)) return false;
    this.#seen.set(id, now);
    return true;
  }
}
