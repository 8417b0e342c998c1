/**
 * Anti-replay state for sealed frames (docs/protocol.md, "Replay rules"): per sender id, the
 * highest counter accepted and a bitmap of the last `windowSize` counters, as in IPsec and
 * WireGuard. Pure: counters, timestamps and `now` in, a yes or no out. Callers authenticate a
 * datagram before asking, so a forged one never moves a window.
 */

/**
 * One sender's sliding window. Counter `c` is accepted once if it is above the highest seen, or
 * within `size` counters below it and not seen yet.
 * @example
 * const w = new ReplayWindow(1024);
 * w.accept(5); // true
 * w.accept(5); // false: seen
 */
export class ReplayWindow {
  readonly size: number;
  /** Bit `c mod slots` is set when counter `c` (within the window) was accepted. */
  readonly #bits: Uint32Array;
  readonly #slots: number;
  #highest = -1;

  /** @param size how many counters, up to and including the highest, are remembered (>= 1). */
  constructor(size: number) {
    this.size = size;
    this.#bits = new Uint32Array(Math.ceil(size / 32));
    this.#slots = this.#bits.length * 32;
  }

  /** The highest counter accepted, or -1 before the first. */
  get highest(): number {
    return this.#highest;
  }

  /** Accepts and records `counter` (a whole number >= 0), or returns false for a repeat or one too old. */
  accept(counter: number): boolean {
    if (counter > this.#highest) {
      this.#advance(counter);
      this.#set(counter);
      return true;
    }
    if (this.#highest - counter >= this.size || this.#has(counter)) return false;
    this.#set(counter);
    return true;
  }

  /** Forgets the slots of the counters between the old highest and the new one. */
  #advance(counter: number): void {
    const gap = counter - this.#highest;
    if (gap >= this.#slots) this.#bits.fill(0);
    else for (let c = this.#highest + 1; c <= counter; c++) this.#clear(c);
    this.#highest = counter;
  }

  #has(counter: number): boolean {
    const slot = counter % this.#slots;
    return ((this.#bits[slot >>> 5] as number) & (1 << (slot & 31))) !== 0;
  }

  #set(counter: number): void {
    const slot = counter % this.#slots;
    this.#bits[slot >>> 5] = (this.#bits[slot >>> 5] as number) | (1 << (slot & 31));
  }

  #clear(counter: number): void {
    const slot = counter % this.#slots;
    this.#bits[slot >>> 5] = (this.#bits[slot >>> 5] as number) & ~(1 << (slot & 31));
  }
}

/** Limits of a {@link ReplayGuard}. */
export interface ReplayGuardOptions {
  /** Most senders remembered at once. */
  readonly maxSenders: number;
  /** Counters remembered per sender. */
  readonly windowSize: number;
  /** Age beyond which a timestamp is refused as stale anyway; a sender idle that long can go. */
  readonly maxAgeMs: number;
}

interface SenderState {
  readonly window: ReplayWindow;
  /** Newest timestamp accepted from this sender: its datagrams are all stale once this is. */
  newestTimestamp: number;
  /** Timestamps at or below this are refused: a sender was forgotten while they were fresh. */
  readonly floor: number;
}

/**
 * The windows of every sender, in bounded memory. When full, it forgets first the senders whose
 * every datagram is now stale (nothing of theirs can be replayed), then the least recently seen.
 * Forgetting a live sender would let its recent datagrams be replayed, so from then on any
 * sender not yet known (or known again) is refused at or below the newest timestamp the forgotten
 * one had: it fails closed, for at most `maxAgeMs`, and only under more than `maxSenders` live
 * senders.
 * @example
 * const guard = new ReplayGuard({ maxSenders: 4096, windowSize: 1024, maxAgeMs: 60_000 });
 * guard.accept('0011223344556677', 0, Date.now(), Date.now()); // true
 */
export class ReplayGuard {
  readonly #options: ReplayGuardOptions;
  /** In order of last acceptance: the first entry is the least recently seen. */
  readonly #senders = new Map<string, SenderState>();
  /** A lower bound on when the first remembered sender goes stale (newestTimestamp + maxAgeMs). */
  #earliestExpiry = Infinity;
  /** Newest timestamp of any live sender forgotten to make room. */
  #forgottenUpTo = -Infinity;

  constructor(options: ReplayGuardOptions) {
    this.#options = options;
  }

  /** How many senders are remembered. */
  get size(): number {
    return this.#senders.size;
  }

  /**
   * Accepts and records (sender, counter), or returns false for a replay. Call only for an
   * authenticated datagram whose timestamp is already known to be fresh at `now`.
   */
  accept(senderId: string, counter: number, timestamp: number, now: number): boolean {
    const known = this.#senders.get(senderId);
    if (timestamp <= (known?.floor ?? this.#forgottenUpTo)) return false;
    if (known === undefined) {
      this.#makeRoom(now);
      const window = new ReplayWindow(this.#options.windowSize);
      window.accept(counter);
      this.#senders.set(senderId, { window, newestTimestamp: timestamp, floor: this.#forgottenUpTo });
      this.#earliestExpiry = Math.min(this.#earliestExpiry, timestamp + this.#options.maxAgeMs);
      return true;
    }
    if (!known.window.accept(counter)) return false;
    known.newestTimestamp = Math.max(known.newestTimestamp, timestamp);
    this.#senders.delete(senderId);
    this.#senders.set(senderId, known);
    return true;
  }

  #makeRoom(now: number): void {
    if (this.#senders.size < this.#options.maxSenders) return;
    if (this.#earliestExpiry < now) this.#forgetStale(now);
    if (this.#senders.size < this.#options.maxSenders) return;
    const first = this.#senders.entries().next();
    if (first.done === true) return;
    const [senderId, state] = first.value;
    this.#senders.delete(senderId);
    this.#forgottenUpTo = Math.max(this.#forgottenUpTo, state.newestTimestamp);
  }

  /** Drops every sender whose newest datagram is stale at `now`. */
  #forgetStale(now: number): void {
    let earliest = Infinity;
    for (const [senderId, state] of this.#senders) {
      const expiry = state.newestTimestamp + this.#options.maxAgeMs;
      if (expiry < now) this.#senders.delete(senderId);
      else earliest = Math.min(earliest, expiry);
    }
    this.#earliestExpiry = earliest;
  }
}
