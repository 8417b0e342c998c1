/**
 * Items waiting for their moment, over the shared {@link TimerHeap}: ordered by due time, then by
 * insertion (so items due together leave in the order they were queued). Cancelled entries stay
 * in the heap and are skipped as they reach the top, until there are more of them than live
 * ones: then the heap is rebuilt, so it never holds more than twice what is live (plus a few).
 */
import { TimerHeap } from './timer-heap.js';

/** One queued item; keep it to {@link DueQueue.cancel} it. */
export interface DueEntry<T> {
  /** Its place in the insertion order, which breaks ties. */
  readonly id: number;
  readonly at: number;
  readonly item: T;
  /** How many times the item is handed out (2 for a duplicated datagram). */
  readonly copies: number;
}

/** Cancelled timers tolerated before a rebuild is worth it. */
const STALE_SLACK = 64;

/**
 * A time-ordered queue.
 * @example
 * const q = new DueQueue<string>();
 * q.push(20, 'b');
 * q.push(10, 'a');
 * q.pop()?.item; // 'a'
 */
export class DueQueue<T> {
  #heap = new TimerHeap();
  /** Live entries by their heap id (insertion number). */
  readonly #live = new Map<number, DueEntry<T>>();
  #next = 0;

  /** Live entries. */
  get size(): number {
    return this.#live.size;
  }

  /** Queues `item` for time `at`. */
  push(at: number, item: T, copies = 1): DueEntry<T> {
    const id = this.#next++;
    const entry: DueEntry<T> = { id, at, item, copies };
    this.#live.set(id, entry);
    this.#heap.push(at, id);
    return entry;
  }

  /** Timers in the heap, cancelled ones included (at most twice {@link size}, plus a few). */
  get heapSize(): number {
    return this.#heap.size;
  }

  /** Takes `entry` out; it will not be handed out. */
  cancel(entry: DueEntry<T>): void {
    if (this.#live.get(entry.id) !== entry) return;
    this.#live.delete(entry.id);
    if (this.#heap.size > 2 * this.#live.size + STALE_SLACK) this.#rebuild();
  }

  #rebuild(): void {
    this.#heap = new TimerHeap();
    for (const e of this.#live.values()) this.#heap.push(e.at, e.id);
  }

  /** The earliest live entry, left in place. */
  peek(): DueEntry<T> | undefined {
    for (let t = this.#heap.peek(); t !== undefined; t = this.#heap.peek()) {
      const entry = this.#live.get(t.id);
      if (entry !== undefined) return entry;
      this.#heap.pop();
    }
    return undefined;
  }

  /** Takes the earliest live entry out. */
  pop(): DueEntry<T> | undefined {
    const entry = this.peek();
    if (entry === undefined) return undefined;
    this.#heap.pop();
    this.#live.delete(entry.id);
    return entry;
  }
}
