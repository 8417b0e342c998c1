/**
 * The sans-I/O core of `udpkit relay`: decides, for each datagram as it arrives, what happens to
 * it (netem's models: loss, corruption, duplication, reordering, delay, a bottleneck, an MTU)
 * and when it leaves. Datagrams (any `T`) wait in a queue until due. `now` is in milliseconds,
 * fractional (the transport clock); randomness is injected, one generator per direction.
 *
 * A driver calls {@link Impairment.handleDatagram} for every datagram, then
 * {@link Impairment.pollTransmit} to take what may leave now, and sets one timer for
 * {@link Impairment.nextDeadline}. {@link Impairment.verdict} tells what happened to the last
 * datagram handled (for `--trace`). A datagram due at once, with nothing queued before it, is
 * handed back as given, not kept (copied): the driver must call pollTransmit while the items it
 * passed are still valid (say, before the receive buffer they view is reused).
 *
 * Reproducible fates: every impaired datagram takes the same seven numbers from its direction's
 * generator ({@link decide}, impairment-decide.ts), in arrival order, before anything that depends on time (the
 * policer, the bottleneck's queue, the memory bound). So the same seed and the same datagrams in
 * the same order get the same random fates, however fast they come.
 *
 * The queue is bounded in bytes (`maxQueueBytes`, a {@link MemoryBudget}: payload plus
 * {@link QUEUE_ENTRY_OVERHEAD} per datagram). A datagram that does not fit is dropped and
 * counted (`queueFull`), like a router's full queue: without the bound, a flood through a long
 * delay grew a relay by hundreds of MB a second. Held-back (reordered), jittered and bottlenecked
 * datagrams wait in the same queue, so the bound covers them too.
 *
 * Longer than most files (about 350 lines): one datagram's path (MTU, policer, loss, bottleneck,
 * corruption, duplication, both kinds of reordering) shares the queue, the flows and the counters;
 * what stands alone lives apart (impairment-decide.ts, impairment-loss.ts,
 * impairment-bottleneck.ts, impairment-options.ts).
 */
import { DueQueue, type DueEntry } from './due-queue.js';
import type { Direction, ImpairmentSettings } from './impairment-options.js';
import { Bottleneck } from './impairment-bottleneck.js';
import { decide, type Decision } from './impairment-decide.js';
import { LossProcess } from './impairment-loss.js';
import { MemoryBudget } from './memory-budget.js';
import type { Random } from './seeded-random.js';
import { TokenBucket } from './token-bucket.js';

/**
 * What happened to one datagram: let through (perhaps duplicated, corrupted or reordered: see
 * {@link Verdict}), lost on purpose, refused by the policer, dropped at the tail of the
 * bottleneck's queue, over the memory bound, or larger than the MTU.
 */
export type Fate = 'forwarded' | 'lost' | 'rate-limited' | 'tail-drop' | 'queue-full' | 'too-big';

/** What happened to the last datagram handled; one object, overwritten by the next. */
export interface Verdict {
  fate: Fate;
  duplicated: boolean;
  corrupted: boolean;
  reordered: boolean;
  /** Forwarded: how long after its arrival it is due to leave (ms); otherwise 0. */
  delayMs: number;
}

/**
 * Counters for one direction.
 * `received = forwarded + dropped + rateLimited + tailDropped + queueFull + tooBig`.
 */
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
  /** Forwarded with one bit flipped (`corrupt`). */
  corrupted: number;
  /** Dropped at the tail of the bottleneck's full queue. */
  tailDropped: number;
  /** Dropped for being larger than `mtu`. */
  tooBig: number;
}

/**
 * Bytes charged per queued datagram besides its payload: its own Buffer (a JS object, a view
 * and a C++ backing store) and the records that queue it. Measured on Node 20 (x64) with
 * 50,000 queued 64-byte datagrams as the relay queues them: 495 bytes of JS heap and 900-913
 * bytes of RSS each, payload included; rounded up so the bound errs safe. (The shared
 * `ENTRY_OVERHEAD`, 512, is for simpler entries.)
 */
export const QUEUE_ENTRY_OVERHEAD = 1024;

/** How the queue handles items (datagrams): their size for its budget, and what it keeps of them. */
export interface ImpairmentItems<T> {
  /** Payload bytes of an item, charged to `maxQueueBytes`; default a byte array's length, else 0. */
  readonly sizeOf?: (item: T) => number;
  /**
   * What the queue keeps of an item it takes (say, a copy of a view into a reused receive
   * buffer); called only for items that are queued, not for those lost, limited or refused.
   */
  readonly keep?: (item: T) => T;
  /** Bytes of an item's IP packet, for `mtu`, `bitRate` and `queueLimitBytes`; default its size plus 28. */
  readonly wireSizeOf?: (item: T) => number;
  /** Flips bit `bit` (0 = the first byte's lowest) of a kept item's payload (`corrupt`). */
  readonly corrupt?: (item: T, bit: number) => void;
}

/** IPv4 and UDP headers: what an IPv4 datagram's packet adds to its payload. */
export const IPV4_UDP_HEADERS = 28;

/** One client's datagrams in one direction: they leave in order, except one held back. */
interface Flow<T> {
  lastAt: number;
  held: DueEntry<Held<T>> | undefined;
}

interface Held<T> {
  readonly item: T;
  readonly flow: Flow<T> | undefined;
}

/** One direction's state: its generator, loss process, netem reorder counter, policer, bottleneck. */
interface Way {
  readonly random: Random;
  readonly loss: LossProcess;
  /** Datagrams sent in order since the last one reordered (netem's `counter`). */
  sinceReorder: number;
  readonly bucket: TokenBucket | undefined;
  readonly bottleneck: Bottleneck | undefined;
}

const zero = (): ImpairmentCounts => ({ received: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0, rateLimited: 0, queueFull: 0, corrupted: 0, tailDropped: 0, tooBig: 0 });

/** Payload bytes of an item: its length if it is bytes, else nothing beyond the overhead. */
const byteLength = (item: unknown): number => (item instanceof Uint8Array ? item.byteLength : 0);

/**
 * The impairment state of a relay: its queue, per-direction state and counters.
 * @example
 * const imp = new Impairment<Buffer>(validateImpairment({ delayMs: 5 }), seededRandom(1));
 * imp.handleDatagram(Buffer.from('hi'), 'up', 'client-1', 0);
 * imp.nextDeadline();  // 5
 * imp.pollTransmit(5); // [<Buffer 68 69>]
 */
export class Impairment<T> {
  readonly settings: ImpairmentSettings;
  readonly counts: Readonly<Record<Direction, ImpairmentCounts>> = { up: zero(), down: zero() };
  /** What happened to the last datagram handled (overwritten by the next). */
  readonly verdict: Verdict = { fate: 'forwarded', duplicated: false, corrupted: false, reordered: false, delayMs: 0 };
  readonly #ways: Record<Direction, Way>;
  readonly #queue = new DueQueue<Held<T>>();
  /** Due now with nothing queued before them: handed out by the next pollTransmit as given. */
  #ready: T[] = [];
  readonly #flows = new Map<unknown, Flow<T>>();
  readonly #budget: MemoryBudget;
  readonly #sizeOf: (item: T) => number;
  readonly #keep: (item: T) => T;
  readonly #wireSizeOf: (item: T) => number;
  readonly #corrupt: ((item: T, bit: number) => void) | undefined;

  /**
   * @param random one generator for both directions, or one each (then the fates of one
   *   direction do not depend on how its datagrams interleave with the other's)
   */
  constructor(settings: ImpairmentSettings, random: Random | Readonly<Record<Direction, Random>>, items: ImpairmentItems<T> = {}) {
    this.settings = settings;
    this.#sizeOf = items.sizeOf ?? byteLength;
    this.#keep = items.keep ?? ((item) => item);
    this.#wireSizeOf = items.wireSizeOf ?? ((item) => this.#sizeOf(item) + IPV4_UDP_HEADERS);
    this.#corrupt = items.corrupt;
    this.#budget = new MemoryBudget({ limit: settings.maxQueueBytes, overhead: QUEUE_ENTRY_OVERHEAD, name: 'maxQueueBytes' });
    const way = (r: Random): Way => ({
      random: r,
      loss: new LossProcess(settings.lossModel),
      sinceReorder: 0,
      bucket: settings.rate > 0 ? new TokenBucket(settings.rate, settings.burst) : undefined,
      bottleneck: settings.bottleneck ? new Bottleneck(settings.bottleneck) : undefined,
    });
    this.#ways = typeof random === 'function' ? { up: way(random), down: way(random) } : { up: way(random.up), down: way(random.down) };
  }

  /**
   * True when the settings change nothing: no loss model that can lose, no duplicates,
   * corruption, reordering, delay, jitter, rate or MTU. Every datagram would then leave at once
   * as given, so a driver may forward a batch itself and count it with {@link countPassed}.
   */
  get transparent(): boolean {
    const s = this.settings;
    const m = s.lossModel;
    const canLose = s.loss > 0 || m.p > 0 || (m.kind === 'gemodel' && m.oneMinusK > 0);
    return !canLose && s.duplicate === 0 && s.corrupt === 0 && s.reorder === 0 && s.delayMs === 0 && s.jitterMs === 0 &&
      s.rate === 0 && s.bottleneck === undefined && s.mtu === undefined;
  }

  /** Counts `n` datagrams a driver forwarded itself while {@link transparent}: received and forwarded. */
  countPassed(direction: Direction, n: number): void {
    const c = this.counts[direction];
    c.received += n;
    c.forwarded += n;
  }

  /** Datagrams queued and not yet handed out by {@link pollTransmit}. */
  get pending(): number {
    return this.#queue.size + this.#ready.length;
  }

  /** Bytes the queue holds now, overhead included (at most `maxQueueBytes`). */
  get queuedBytes(): number {
    return this.#budget.used;
  }

  /** Datagrams in a direction's bottleneck queue at its last arrival (at most its limit). */
  bottleneckLength(direction: Direction): number {
    return this.#ways[direction].bottleneck?.length ?? 0;
  }

  /**
   * A datagram arrived at `now` (ms, never going back) from `flow` (any key naming one client
   * and direction). Queues it as its fate says and returns that fate ({@link verdict} has more).
   */
  handleDatagram(item: T, direction: Direction, flow: unknown, now: number): Fate {
    const counts = this.counts[direction];
    const v = this.verdict;
    v.duplicated = v.corrupted = v.reordered = false;
    v.delayMs = 0;
    counts.received++;
    if (this.settings.only !== undefined && this.settings.only !== direction) {
      counts.forwarded++;
      v.fate = 'forwarded';
      if (this.#queue.size === 0) this.#ready.push(item);
      else if (!this.#budget.charge(this.#sizeOf(item))) return this.#drop(counts, 'queue-full');
      else this.#queue.push(now, { item: this.#keep(item), flow: undefined });
      return 'forwarded';
    }
    const w = this.#ways[direction];
    // Drawn first, whatever comes next, so the random fates follow the arrival order only.
    const d = decide(this.settings, w.random, w.loss);
    const wire = this.#wireSizeOf(item);
    if (this.settings.mtu !== undefined && wire > this.settings.mtu) return this.#drop(counts, 'too-big');
    if (w.bucket?.take(now) === false) return this.#drop(counts, 'rate-limited');
    if (d.lost) return this.#drop(counts, 'lost');
    const size = this.#sizeOf(item);
    const f = this.#flow(flow);
    // Nothing to wait for and nothing queued before it: no copy, no queue entry.
    if (this.#leavesNow(d, f, now)) return this.#forwardNow(item, d, counts);
    if (!this.#budget.fits(size)) return this.#drop(counts, 'queue-full');
    const departs = w.bottleneck === undefined ? now : w.bottleneck.offer(wire, now);
    if (departs === undefined) return this.#drop(counts, 'tail-drop');
    this.#budget.charge(size);
    counts.forwarded++;
    v.fate = 'forwarded';
    if (d.copies === 2) {
      counts.duplicated++;
      v.duplicated = true;
    }
    const kept = this.#keep(item);
    if (d.corruptAt >= 0 && size > 0 && this.#corrupt !== undefined) {
      this.#corrupt(kept, Math.floor(d.corruptAt * size * 8));
      counts.corrupted++;
      v.corrupted = true;
    }
    if (this.settings.delayMs > 0) {
      // netem: after `reorderGap - 1` in order, a datagram may skip the delay and overtake.
      if (d.reorder && w.sinceReorder >= this.settings.reorderGap - 1) {
        w.sinceReorder = 0;
        counts.reordered++;
        v.reordered = true;
        v.delayMs = departs - now;
        this.#queue.push(departs, { item: kept, flow: undefined }, d.copies);
        return 'forwarded';
      }
      w.sinceReorder++;
    }
    const at = Math.max(departs + d.delayMs, f.lastAt);
    f.lastAt = at;
    v.delayMs = at - now;
    const held = f.held;
    if (this.settings.delayMs === 0 && d.reorder && held === undefined) {
      counts.reordered++;
      v.reordered = true;
      v.delayMs += this.settings.reorderHoldMs;
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
    const out = this.#takeReady();
    for (let e = this.#queue.peek(); e !== undefined && e.at <= now; e = this.#queue.peek()) this.#take(out);
    return out;
  }

  /** Takes every queued datagram at once, in order (a relay closing sends what it holds). */
  drain(): T[] {
    const out = this.#takeReady();
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

  /**
   * True when a datagram leaves at once: no delay, jitter or bottleneck at all (netem's reorder
   * counter runs only with a delay), no hold, nothing to corrupt in a copy of it, and nothing
   * queued that should leave first.
   */
  #leavesNow(d: Decision, f: Flow<T>, now: number): boolean {
    const s = this.settings;
    return this.#queue.size === 0 && s.delayMs === 0 && s.jitterMs === 0 && s.bottleneck === undefined && f.lastAt <= now && !d.reorder && (d.corruptAt < 0 || this.#corrupt === undefined);
  }

  /** Hands a datagram out as given at the next pollTransmit (twice if duplicated). */
  #forwardNow(item: T, d: Decision, counts: ImpairmentCounts): Fate {
    counts.forwarded++;
    this.verdict.fate = 'forwarded';
    this.#ready.push(item);
    if (d.copies === 2) {
      counts.duplicated++;
      this.verdict.duplicated = true;
      this.#ready.push(item);
    }
    return 'forwarded';
  }

  #takeReady(): T[] {
    const out = this.#ready;
    this.#ready = [];
    return out;
  }

  #drop(counts: ImpairmentCounts, fate: Exclude<Fate, 'forwarded'>): Fate {
    if (fate === 'lost') counts.dropped++;
    else if (fate === 'rate-limited') counts.rateLimited++;
    else if (fate === 'tail-drop') counts.tailDropped++;
    else if (fate === 'queue-full') counts.queueFull++;
    else counts.tooBig++;
    return (this.verdict.fate = fate);
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
