/**
 * The sans-I/O core of `udpkit relay`: decides, for each datagram as it arrives, whether it is
 * rate-limited or lost, how many copies leave, and when. Datagrams (any `T`) wait in a queue
 * until due. `now` is in microseconds (the transport clock); randomness is injected.
 *
 * A driver calls {@link Impairment.arrive} for every datagram, then {@link Impairment.due} to
 * take what may leave now, and sets one timer for {@link Impairment.nextDeadline}.
 */
import { DueQueue, type DueEntry } from './due-queue.js';
import type { Direction, ImpairmentSettings } from './impairment-options.js';
import type { Random } from './seeded-random.js';
import { TokenBucket } from './token-bucket.js';

/** What happened to one datagram. */
export type Fate = 'forwarded' | 'dropped' | 'rate-limited';

/** Counters for one direction. `received = forwarded + dropped + rateLimited`. */
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
}

/** The random part of one datagram's fate. */
export interface Decision {
  readonly lost: boolean;
  readonly copies: 1 | 2;
  readonly reorder: boolean;
  /** Latency, delay plus jitter, in microseconds. */
  readonly delayUs: number;
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
  return { lost, copies, reorder, delayUs: Math.max(0, Math.round((s.delayMs + jitter) * 1000)) };
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

const zero = (): ImpairmentCounts => ({ received: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0, rateLimited: 0 });

/**
 * The impairment state of a relay: its queue, token buckets (one per direction) and counters.
 * @example
 * const imp = new Impairment<Buffer>(validateImpairment({ delayMs: 5 }), seededRandom(1));
 * imp.arrive(Buffer.from('hi'), 'up', 'client-1', 0);
 * imp.nextDeadline(); // 5000
 * imp.due(5000);      // [<Buffer 68 69>]
 */
export class Impairment<T> {
  readonly settings: ImpairmentSettings;
  readonly counts: Readonly<Record<Direction, ImpairmentCounts>> = { up: zero(), down: zero() };
  readonly #random: Random;
  readonly #queue = new DueQueue<Held<T>>();
  readonly #flows = new Map<unknown, Flow<T>>();
  readonly #buckets: Partial<Record<Direction, TokenBucket>>;

  constructor(settings: ImpairmentSettings, random: Random) {
    this.settings = settings;
    this.#random = random;
    const bucket = (): TokenBucket | undefined => (settings.rate > 0 ? new TokenBucket(settings.rate, settings.burst) : undefined);
    this.#buckets = { up: bucket(), down: bucket() };
  }

  /** Datagrams queued and not yet handed out by {@link due}. */
  get pending(): number {
    return this.#queue.size;
  }

  /**
   * A datagram arrived at `now` (µs, never going back) from `flow` (any key naming one client
   * and direction). Queues it as its fate says and returns that fate.
   */
  arrive(item: T, direction: Direction, flow: unknown, now: number): Fate {
    const counts = this.counts[direction];
    counts.received++;
    if (this.settings.only !== undefined && this.settings.only !== direction) {
      counts.forwarded++;
      this.#queue.push(now, { item, flow: undefined });
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
    counts.forwarded++;
    if (d.copies === 2) counts.duplicated++;
    const f = this.#flow(flow);
    const at = Math.max(now + d.delayUs, f.lastAt);
    f.lastAt = at;
    const held = f.held;
    if (d.reorder && held === undefined) {
      counts.reordered++;
      f.held = this.#queue.push(at + Math.round(this.settings.reorderHoldMs * 1000), { item, flow: f }, d.copies);
      return 'forwarded';
    }
    this.#queue.push(at, { item, flow: undefined }, d.copies);
    if (held !== undefined) {
      // The one held back leaves right behind this one, which thereby overtook it.
      this.#queue.cancel(held);
      f.held = undefined;
      this.#queue.push(at, { item: held.item.item, flow: undefined }, held.copies);
    }
    return 'forwarded';
  }

  /** Takes the datagrams due at `now`, in the order to send them (a duplicate twice). */
  due(now: number): T[] {
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

  /** When the next queued datagram is due (µs), or `undefined` when none is queued. */
  nextDeadline(): number | undefined {
    return this.#queue.peek()?.at;
  }

  /** Forgets a flow whose client is gone (what it still has queued leaves as planned). */
  forget(flow: unknown): void {
    this.#flows.delete(flow);
  }

  #take(out: T[]): void {
    const e = this.#queue.pop() as DueEntry<Held<T>>;
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
