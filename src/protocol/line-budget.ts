/**
 * One byte budget for the unfinished lines of many connections (TCP mode). Each line is one
 * {@link MemoryBudget} entry, charged the memory its pieces pin plus a fixed overhead. A line grows while the
 * budget has room; when it has none, the longest unfinished line anywhere is cut to make room:
 * shown as far as it got, the rest of it up to its newline discarded and counted. Cutting the
 * longest frees the most with the fewest cuts, and it is the line most likely to be a flood;
 * refusing new bytes instead would stall every connection behind one that never ends its line.
 * Pure bookkeeping: no clock, no I/O. See docs/protocol.md ("TCP mode").
 */
import { MemoryBudget } from './memory-budget.js';

/** Why a line was cut. */
export type CutReason = 'line-limit' | 'buffer-limit';

/** What the budget needs of a line's holder (a {@link LineSplitter}). */
export interface LineHolder {
  /** Bytes of the unfinished line held now. */
  readonly pending: number;
  /** Cuts the unfinished line now (it is handed out as cut) and gives back its buffer. */
  cutNow(): void;
}

/** Options of a {@link LineBudget}. */
export interface LineBudgetOptions {
  /** Bytes all unfinished lines may hold together, overhead included. */
  readonly maxBufferedBytes: number;
  /** Bytes charged per held line besides its buffer; default `ENTRY_OVERHEAD`. */
  readonly overhead?: number;
}

/**
 * The shared budget and what it has cut. Splitters call {@link grow} before enlarging a line's
 * buffer and {@link release} when they let it go; the counters say what was not shown.
 * @example
 * const lines = new LineBudget({ maxBufferedBytes: 64 << 20 });
 * const a = new LineSplitter({ budget: lines, onCut: (line) => show(line) });
 */
export class LineBudget {
  readonly #budget: MemoryBudget;
  readonly #holders = new Set<LineHolder>();
  /** Lines cut, by why. */
  readonly cuts: Record<CutReason, number> = { 'line-limit': 0, 'buffer-limit': 0 };
  /** Bytes of cut lines that were discarded (after the cut, up to the newline). */
  discardedBytes = 0;

  /** @throws `RangeError` coded `UDPKIT_INVALID_ARGUMENT` for a negative or fractional size. */
  constructor(options: LineBudgetOptions) {
    this.#budget = new MemoryBudget({ limit: options.maxBufferedBytes, name: 'maxBufferedBytes', ...(options.overhead !== undefined ? { overhead: options.overhead } : {}) });
  }

  /** The most bytes held at once, overhead included. */
  get limit(): number {
    return this.#budget.limit;
  }

  /** Bytes held now by every unfinished line, overhead included. */
  get used(): number {
    return this.#budget.used;
  }

  /**
   * Asks to grow what `holder` is charged from `from` bytes (0: nothing yet) to `wanted`, or at
   * least to `minimum`. Cuts longer lines of other holders while that does not fit. Returns the
   * charge granted: between `minimum` and `wanted`, or `from` (nothing granted) when even
   * `minimum` does not fit and no other line is longer: then `holder` must cut its own line.
   */
  grow(holder: LineHolder, from: number, wanted: number, minimum: number): number {
    for (;;) {
      const fits = Math.min(wanted, this.#largestFit(from));
      if (fits === wanted) return this.#resize(holder, from, fits);
      const victim = this.#longestOther(holder);
      if (victim === undefined) return fits >= minimum ? this.#resize(holder, from, fits) : from;
      victim.cutNow();
    }
  }

  /** Gives back all `bytes` that `holder` was charged, when it lets its line go. */
  release(holder: LineHolder, bytes: number): void {
    if (!this.#holders.delete(holder)) return;
    this.#budget.release(bytes);
  }

  /** The largest charge a holder now charged `from` bytes could grow to. */
  #largestFit(from: number): number {
    const room = this.#budget.limit - this.#budget.used;
    return from === 0 ? room - this.#budget.overhead : from + room;
  }

  #resize(holder: LineHolder, from: number, to: number): number {
    if (from === 0) {
      this.#budget.charge(to);
      this.#holders.add(holder);
    } else this.#budget.resize(from, to);
    return to;
  }

  /** The holder with the longest line if it is longer than `holder`'s own. */
  #longestOther(holder: LineHolder): LineHolder | undefined {
    let best: LineHolder | undefined;
    let longest = holder.pending;
    for (const h of this.#holders) {
      if (h !== holder && h.pending > longest) {
        best = h;
        longest = h.pending;
      }
    }
    return best;
  }
}
