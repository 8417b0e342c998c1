/**
 * The page's log of received datagrams, bounded in entries and in bytes (a {@link MemoryBudget}):
 * when either bound is reached the oldest entries go first, and how many went is counted. Each
 * entry keeps the raw payload and its server-sent event, built once as one flat Buffer that
 * every stream writes as it is; the whole payload as text and hex is built only on export.
 * No I/O, no clock: the caller passes when each datagram arrived.
 */
import { MemoryBudget } from '../protocol/memory-budget.js';
import type { Endpoint } from '../types.js';
import { datagramEvent, displayJson, EVENT_FRAMING } from './log-entry.js';

/** Entries kept at most (the page's log before it had a byte bound). */
export const LOG_MAX_ENTRIES = 10_000;
/** Bytes kept at most, payloads, events and per-entry overhead included: 64 MiB. */
export const LOG_MAX_BYTES = 64 * 1024 * 1024;

/** One received datagram as the log keeps it. */
export interface LogEntry {
  /** 1, 2, 3... in arrival order, never reused: the SSE event id. */
  readonly id: number;
  readonly listenerId: number;
  /** The port of the listener that received it. */
  readonly port: number;
  /** Milliseconds since the epoch. */
  readonly receivedAt: number;
  readonly from: Endpoint;
  /** The payload, exactly as received (a copy of its own). */
  readonly data: Buffer;
  /** `id: N`, `event: datagram` and the JSON the page shows, ready to write to any stream. */
  readonly event: Buffer;
}

/** Options of an {@link EventLog}. */
export interface EventLogOptions {
  /** Default {@link LOG_MAX_ENTRIES}. */
  readonly maxEntries?: number;
  /** Default {@link LOG_MAX_BYTES}. */
  readonly maxBytes?: number;
}

/** What the log holds and has let go, for the API and the page. */
export interface LogStats {
  readonly entries: number;
  readonly bytes: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Entries let go to stay within the bounds, since the start. */
  readonly evicted: number;
  /** Id of the oldest entry kept (newestId + 1 when empty). */
  readonly oldestId: number;
  /** Id of the newest entry ever added (0 before the first). */
  readonly newestId: number;
}

/**
 * The log. Ids are consecutive, so entry `id` sits at a computed index and a reader that
 * remembers the last id it got knows exactly how many it missed.
 * @example
 * const log = new EventLog({ maxBytes: 1 << 20 });
 * const e = log.add({ listenerId: 1, port: 5000, receivedAt: Date.now(), from, data });
 * log.get(e.id) === e; // until it is evicted
 */
export class EventLog {
  readonly maxEntries: number;
  readonly #budget: MemoryBudget;
  // Entries oldest first from #head; the dead prefix is cut off now and then, not on each eviction.
  #items: (LogEntry | undefined)[] = [];
  #head = 0;
  #newestId = 0;
  #evicted = 0;

  constructor(options: EventLogOptions = {}) {
    this.maxEntries = options.maxEntries ?? LOG_MAX_ENTRIES;
    this.#budget = new MemoryBudget({ limit: options.maxBytes ?? LOG_MAX_BYTES, name: 'maxBytes' });
  }

  /** Appends a datagram, evicting the oldest entries it needs room from; returns the entry. */
  add(d: Omit<LogEntry, 'id' | 'event'>): LogEntry {
    const id = this.#newestId + 1;
    // The event carries the count let go so far, this entry's room included, so it is framed
    // after evicting; the JSON around it is built once, before.
    const json = displayJson(d);
    const room = d.data.length + Buffer.byteLength(json) + EVENT_FRAMING;
    while (this.size > 0 && (this.size >= this.maxEntries || !this.#budget.fits(room))) this.#evictOldest();
    const entry: LogEntry = { ...d, id, event: datagramEvent(id, this.#evicted, json) };
    this.#newestId = id;
    if (!this.#budget.charge(costOf(entry))) {
      // Larger than the whole budget: it is let go at once, and counted like any other.
      this.#items.push(undefined);
      this.#evictOldest();
      return entry;
    }
    this.#items.push(entry);
    return entry;
  }

  /** Entry `id`, or `undefined` once it has been evicted (or before it exists). */
  get(id: number): LogEntry | undefined {
    return id >= this.oldestId && id <= this.#newestId ? this.#items[this.#head + id - this.oldestId] : undefined;
  }

  /** Entries kept now. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Id of the oldest entry kept; `newestId + 1` when none is. */
  get oldestId(): number {
    return this.#newestId - this.size + 1;
  }

  /** Id of the newest entry ever added; 0 before the first. */
  get newestId(): number {
    return this.#newestId;
  }

  /** Entries let go so far. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Counters for the API. */
  stats(): LogStats {
    const b = this.#budget;
    return { entries: this.size, bytes: b.used, maxEntries: this.maxEntries, maxBytes: b.limit, evicted: this.#evicted, oldestId: this.oldestId, newestId: this.#newestId };
  }

  #evictOldest(): void {
    const gone = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (gone) this.#budget.release(costOf(gone));
    this.#evicted++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** What an entry costs the budget besides the fixed overhead: its payload and its event. */
function costOf(e: LogEntry): number {
  return e.data.length + e.event.length;
}
