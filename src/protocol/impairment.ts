/**
 * The sans-I/O core of `udpkit relay`: decides, for each datagram as it arrives, whether it is
 * rate-limited or lost, how many copies leave, and when. Datagrams (any `T`) wait in a queue
 * until due. `now` is in milliseconds, fractional (the transport clock); randomness is injected.
 *
 * A driver calls {@link Impairment.handleDatagram} for every datagram, then
 * {@link Impairment.pollTransmit} to take what may leave now, and sets one timer for
 * {@link Impairment.nextDeadline}.
 *
 * The queue is bounded in bytes (`maxQueueBytes`, a {@link MemoryBudget}: payload plus
 * {@link QUEUE_ENTRY_OVERHEAD} per datagram). A datagram that does not fit is dropped and
 * counted (`queueFull`), like a router's full queue: without the bound, a flood through a long
 * delay grew a relay by hundreds of MB a second. Held-back (reordered) and jittered datagrams
 * wait in the same queue, so the bound covers them too.
 */
import { DueQueue, type DueEntry } from './due-queue.js';
import type { Direction, ImpairmentSettings } from './impairment-options.js';
import { MemoryBudget } from './memory-budget.js';
import type { Random } from './seeded-random.js';
import { TokenBucket } from './token-bucket.js';

/** What happened to one datagram. */
export type Fate = 'forwarded' | 'dropped' | 'rate-limited' | 'queue-full';

/** Counters for one direction. `received = forwarded + dropped + rateLimited + queueFull`. */
export interface ImpairmentCounts {
  received: number;
  /** Let through (counted once however many copies leave). */
  forwarded: number;
  /** Lost on purpose (`loss`). */
  dropped: number;
  /** Sent twice. */
  duplicated: number;
  /** Held back for the next one to overtake. */
  reordered: number;
  /** Refused by the token bucket (`rate`). */
  rateLimited: number;
  /** Dropped because the queue already held `maxQueueBytes`. */
  queueFull: number;
}

/**
 * Bytes charged per queued datagram besides its payload: its own Buffer (a JS object, a view
 * and a C++ backing store) and the records that queue it. Measured on Node 20 (x64) with
 * 50,000 queued 64-byte datagrams as the relay queues them: 495 bytes of JS heap and 900-913
 * bytes of RSS each, payload included; rounded up so the bound errs safe. (The shared
 * `ENTRY_OVERHEAD`, 512, is for simpler entries.)
 */
export const QUEUE_ENTRY_OVERHEAD = 1024;

/** The random part of one datagram's fate. */
export interface Decision {
  readonly lost: boolean;
  readonly copies: 1 | 2;
  readonly reorder: boolean;
  /** Latency, delay plus jitter, in milliseconds (whole microseconds: fractional). */
  readonly delayMs: number;
}

/**
 * Draws one datagram's fate. Always takes exactly four numbers from `random` (loss, duplicate,
 * reorder, jitter), so a seed gives the same sequence of decisions whatever the settings.
 * @example decide(validateImpairment({ loss: 1 }), Math.random).lost // true
 */
export function decide(s: ImpairmentSettings, random: Random): Decision {
  const lost = random() < s.loss;
  const copies = random() < s.duplicate ? 2 : 1;
  const reorder = random() < s.reorder;
  const jitter = (2 * random() - 1) * s.jitterMs;
  return { lost, copies, reorder, delayMs: Math.max(0, Math.round((s.delayMs + jitter) * 1000) / 1000) };
}

/** How the queue handles items (datagrams): their size for its budget, and what it keeps of them. */
export interface ImpairmentItems<T> {
  /** Payload bytes of an item, charged to `maxQueueBytes`; default a byte array's length, else 0. */
  readonly sizeOf?: (item: T) => number;
  /**
   * What the queue keeps of an item it takes (say, a copy of a view into a reused receive
   * buffer); called only for items that are queued, not for those lost, limited or refused.
   */
  readonly keep?: (item: T) => T;
}

/** One client's datagrams in one direction: they leave in order, except one held back. */
interface Flow<T> {
  lastAt: number;
  held: DueEntry<Held<T>> | undefined;
}

interface Held<T> {
  readonly item: T;
  readonly flow: Flow<T> | undefined;
}

const zero = (): ImpairmentCounts => ({ received: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0, rateLimited: 0, queueFull: 0 });

/** Payload bytes of an item: its length if it is bytes, else nothing beyond the overhead. */
const byteLength = (item: unknown): number => (item instanceof Uint8Array ? item.byteLength : 0);

/**
 * The impairment state of a relay: its queue, token buckets (one per direction) and counters.
 * @example
 * const imp = new Impairment<Buffer>(validateImpairment({ delayMs: 5 }), seededRandom(1));
 * imp.handleDatagram(Buffer.from('hi'), 'up', 'client-1', 0);
 * imp.nextDeadline();  // 5
 * imp.pollTransmit(5); // [<Buffer 68 69>]
 */
export class Impairment<T> {
  readonly settings: ImpairmentSettings;
  readonly counts: Readonly<Record<Direction, ImpairmentCounts>> = { up: zero(), down: zero() };
  readonly #random: Random;
  readonly #queue = new DueQueue<Held<T>>();
  readonly #flows = new Map<unknown, Flow<T>>();
  readonly #buckets: Partial<Record<Direction, TokenBucket>>;
  readonly #budget: MemoryBudget;
  readonly #sizeOf: (item: T) => number;
  readonly #keep: (item: T) => T;

  constructor(settings: ImpairmentSettings, random: Random, items: ImpairmentItems<T> = {}) {
    this.settings = settings;
    this.#random = random;
    this.#sizeOf = items.sizeOf ?? byteLength;
    this.#keep = items.keep ?? ((item) => item);
    this.#budget = new MemoryBudget({ limit: settings.maxQueueBytes, overhead: QUEUE_ENTRY_OVERHEAD, name: 'maxQueueBytes' });
    const bucket = (): TokenBucket | undefined => (settings.rate > 0 ? new TokenBucket(settings.rate, settings.burst) : undefined);
    this.#buckets = { up: bucket(), down: bucket() };
  }

  /** Datagrams queued and not yet handed out by {@link pollTransmit}. */
  get pending(): number {
    return this.#queue.size;
  }

  /** Bytes the queue holds now, overhead included (at most `maxQueueBytes`). */
  get queuedBytes(): number {
    return this.#budget.used;
  }

  /**
   * A datagram arrived at `now` (ms, never going back) from `flow` (any key naming one client
   * and direction). Queues it as its fate says and returns that fate.
   */
  handleDatagram(item: T, direction: Direction, flow: unknown, now: number): Fate {
    const counts = this.counts[direction];
    counts.received++;
    if (this.settings.only !== undefined && this.settings.only !== direction) {
      if (!this.#budget.charge(this.#sizeOf(item))) return this.#full(counts);
      counts.forwarded++;
      this.#queue.push(now, { item: this.#keep(item), flow: undefined });
      return 'forwarded';
    }
    if (this.#buckets[direction]?.take(now) === false) {
      counts.rateLimited++;
      return 'rate-limited';
    }
    const d = decide(this.settings, this.#random);
    if (d.lost) {
      counts.dropped++;
      return 'dropped';
    }
    if (!this.#budget.charge(this.#sizeOf(item))) return this.#full(counts);
    counts.forwarded++;
    if (d.copies === 2) counts.duplicated++;
    const f = this.#flow(flow);
    const at = Math.max(now + d.delayMs, f.lastAt);
    f.lastAt = at;
    const held = f.held;
    const kept = this.#keep(item);
    if (d.reorder && held === undefined) {
      counts.reordered++;
      f.held = this.#queue.push(at + this.settings.reorderHoldMs, { item: kept, flow: f }, d.copies);
      return 'forwarded';
    }
    this.#queue.push(at, { item: kept, flow: undefined }, d.copies);
    if (held !== undefined) {
      // The one held back leaves right behind this one, which thereby overtook it.
      this.#queue.cancel(held);
      f.held = undefined;
      this.#queue.push(at, { item: held.item.item, flow: undefined }, held.copies);
    }
    return 'forwarded';
  }

  /** Takes the datagrams due at `now`, in the order to send them (a duplicate twice). */
  pollTransmit(now: number): T[] {
    const out: T[] = [];
    for (let e = this.#queue.peek(); e !== undefined && e.at <= now; e = this.#queue.peek()) this.#take(out);
    return out;
  }

  /** Takes every queued datagram at once, in order (a relay closing sends what it holds). */
  drain(): T[] {
    const out: T[] = [];
    while (this.#queue.size > 0) this.#take(out);
    return out;
  }

  /** When the next queued datagram is due (ms), or `undefined` when none is queued. */
  nextDeadline(): number | undefined {
    return this.#queue.peek()?.at;
  }

  /** Forgets a flow whose client is gone (what it still has queued leaves as planned). */
  forget(flow: unknown): void {
    this.#flows.delete(flow);
  }

  #full(counts: ImpairmentCounts): Fate {
    counts.queueFull++;
    return 'queue-full';
  }

  #take(out: T[]): void {
    const e = this.#queue.pop() as DueEntry<Held<T>>;
    this.#budget.release(this.#sizeOf(e.item.item));
    const f = e.item.flow;
    if (f !== undefined && f.held === e) f.held = undefined;
    for (let i = 0; i < e.copies; i++) out.push(e.item.item);
  }

  #flow(key: unknown): Flow<T> {
    let f = this.#flows.get(key);
    if (f === undefined) {
      f = { lastAt: 0, held: undefined };
      this.#flows.set(key, f);
    }
    return f;
  }
}
