/**
 * A binary min-heap of timers `(at, id)`, earliest first, ties by the smaller id. Callers
 * cancel lazily: they leave stale entries in and skip them when they surface, so every
 * operation is O(log n).
 */

/** One timer: fires at `at` for whatever `id` names. */
export interface Timer {
  readonly at: number;
  readonly id: number;
}

const before = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.id < b.id);

/**
 * Timers by deadline.
 * @example
 * const heap = new TimerHeap();
 * heap.push(200, 7);
 * heap.peek(); // { at: 200, id: 7 }
 */
export class TimerHeap {
  readonly #items: Timer[] = [];

  /** Timers held, stale ones included. */
  get size(): number {
    return this.#items.length;
  }

  /** Adds a timer. */
  push(at: number, id: number): void {
    const items = this.#items;
    let i = items.push({ at, id }) - 1;
    const item = items[i] as Timer;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, items[parent] as Timer)) break;
      items[i] = items[parent] as Timer;
      i = parent;
    }
    items[i] = item;
  }

  /** The earliest timer, left in place. */
  peek(): Timer | undefined {
    return this.#items[0];
  }

  /** Removes and returns the earliest timer. */
  pop(): Timer | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && before(items[right] as Timer, items[left] as Timer) ? right : left;
      if (!before(items[child] as Timer, last)) break;
      items[i] = items[child] as Timer;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Forgets every timer. */
  clear(): void {
    this.#items.length = 0;
  }
}
