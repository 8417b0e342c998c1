/**
 * Items waiting for their moment: a binary min-heap ordered by due time, then by insertion (so
 * items due together leave in the order they were queued). Cancelling marks an entry dead; dead
 * entries are skipped as they reach the top.
 */

/** One queued item; keep it to {@link DueQueue.cancel} it. */
export interface DueEntry<T> {
  readonly at: number;
  readonly seq: number;
  readonly item: T;
  /** How many times the item is handed out (2 for a duplicated datagram). */
  readonly copies: number;
  live: boolean;
}

const before = (a: DueEntry<unknown>, b: DueEntry<unknown>): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/**
 * A time-ordered queue.
 * @example
 * const q = new DueQueue<string>();
 * q.push(20, 'b');
 * q.push(10, 'a');
 * q.pop()?.item; // 'a'
 */
export class DueQueue<T> {
  readonly #heap: DueEntry<T>[] = [];
  #seq = 0;
  #live = 0;

  /** Live entries. */
  get size(): number {
    return this.#live;
  }

  /** Queues `item` for time `at`. */
  push(at: number, item: T, copies = 1): DueEntry<T> {
    const entry: DueEntry<T> = { at, seq: this.#seq++, item, copies, live: true };
    const heap = this.#heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent] as DueEntry<T>)) break;
      heap[i] = heap[parent] as DueEntry<T>;
      i = parent;
    }
    heap[i] = entry;
    this.#live++;
    return entry;
  }

  /** Takes `entry` out; it will not be handed out. */
  cancel(entry: DueEntry<T>): void {
    if (!entry.live) return;
    entry.live = false;
    this.#live--;
  }

  /** The earliest live entry, left in place. */
  peek(): DueEntry<T> | undefined {
    while (this.#heap.length > 0 && !(this.#heap[0] as DueEntry<T>).live) this.#removeTop();
    return this.#heap[0];
  }

  /** Takes the earliest live entry out. */
  pop(): DueEntry<T> | undefined {
    const top = this.peek();
    if (top === undefined) return undefined;
    this.#removeTop();
    top.live = false;
    this.#live--;
    return top;
  }

  #removeTop(): void {
    const heap = this.#heap;
    const last = heap.pop() as DueEntry<T>;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      const right = heap[child + 1];
      if (right !== undefined && before(right, heap[child] as DueEntry<T>)) child++;
      if (!before(heap[child] as DueEntry<T>, last)) break;
      heap[i] = heap[child] as DueEntry<T>;
      i = child;
    }
    heap[i] = last;
  }
}
