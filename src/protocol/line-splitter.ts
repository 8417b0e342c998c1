/**
 * Splits a byte stream (a TCP connection) into lines, bounded twice: a line keeps at most
 * `maxLineBytes`, and every connection's unfinished line is charged to one shared
 * {@link LineBudget}. A line cut by either limit is handed out at once, as far as it got, and
 * the rest of it (up to its newline) is discarded and counted, so nothing vanishes unseen.
 *
 * An unfinished line is kept as pieces: a piece that fills most of the chunk it came in is kept
 * by reference (no copy: a socket's chunks are allocated to the size read), small ones are
 * copied into a buffer of the line's own that grows by new pieces, never by copying what it
 * holds. Each piece is charged the memory it pins plus {@link PIECE_OVERHEAD}.
 * Sans-I/O: chunks in, lines out. Layout: see docs/protocol.md ("TCP mode").
 */
import { LineBudget, type CutReason, type LineHolder } from './line-budget.js';

/** One line taken from the stream, without its `\n` (and a `\r` before it). */
export interface SplitLine {
  readonly data: Buffer;
  /** True when `data` is only the line's beginning; the rest was discarded. */
  readonly cut: boolean;
  /** Why it was cut: longer than `maxLineBytes`, or over the shared budget. */
  readonly cutBy?: CutReason;
}

/** Options of a {@link LineSplitter}. */
export interface LineSplitterOptions {
  /** Longest line kept whole, in bytes; default 1 MiB. */
  readonly maxLineBytes?: number;
  /** The budget shared with other connections' splitters; default one of its own, unbounded. */
  readonly budget?: LineBudget;
  /** Takes this splitter's line when the budget cuts it to make room for another connection's. */
  readonly onCut?: (line: SplitLine) => void;
}

/** Bytes charged per piece besides the memory it pins: measured 183-201 bytes of RSS per Buffer view or small Buffer on Node 20, rounded up. */
export const PIECE_OVERHEAD = 256;
/** Pieces at least this long, filling at least half their chunk, are kept without a copy. */
const BY_REFERENCE = 16 * 1024;
/** Sizes of the line's own buffers for small pieces: they double from the first to the last. */
const OWN_FIRST = 1024;
const OWN_LAST = 64 * 1024;

/**
 * A per-connection line splitter. Call {@link push} with each chunk as it arrives, and
 * {@link end} once when the stream ends (it returns the partial last line, if any). Lines cut to
 * make room for another splitter of the same budget come through `onCut`, between pushes.
 * @example
 * const s = new LineSplitter();
 * s.push(Buffer.from('hel')); // []
 * s.push(Buffer.from('lo\nwo')); // [{ data: <hello>, cut: false }]
 * s.end(); // { data: <wo>, cut: false }
 */
export class LineSplitter implements LineHolder {
  readonly #max: number;
  readonly #budget: LineBudget;
  readonly #onCut: ((line: SplitLine) => void) | undefined;
  /** The unfinished line's pieces; the last may be a buffer of our own with room left. */
  #pieces: Buffer[] = [];
  #held = 0;
  /** The last piece's own buffer, and how much of it is used; `undefined` when the last piece is a reference. */
  #own: Buffer | undefined;
  #ownUsed = 0;
  /** What the line is charged in the budget. */
  #charged = 0;
  /** After a cut, until the next newline. */
  #discarding = false;

  constructor(options: LineSplitterOptions = {}) {
    this.#max = options.maxLineBytes ?? 1024 * 1024;
    this.#budget = options.budget ?? new LineBudget({ maxBufferedBytes: Number.MAX_SAFE_INTEGER });
    this.#onCut = options.onCut;
  }

  /** Bytes held for the current, unfinished line (at most `maxLineBytes`). */
  get pending(): number {
    return this.#held;
  }

  /** Feeds one chunk; returns the lines it completed or cut, in order. */
  push(chunk: Buffer): SplitLine[] {
    const lines: SplitLine[] = [];
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(0x0a, start)) !== -1) {
      if (this.#discarding) {
        this.#budget.discardedBytes += nl - start;
      } else if (this.#held === 0 && nl - start <= this.#max) {
        // The whole line is in this chunk: copy it out, the chunk belongs to the socket.
        lines.push({ data: stripCr(Buffer.from(chunk.subarray(start, nl))), cut: false });
      } else {
        this.#keep(chunk.subarray(start, nl), lines);
        if (!this.#discarding) lines.push({ data: stripCr(this.#take()), cut: false });
      }
      this.#discarding = false;
      start = nl + 1;
    }
    if (start < chunk.length) this.#keep(chunk.subarray(start), lines);
    return lines;
  }

  /** The partial last line when the stream ends without a newline, or `undefined`. */
  end(): SplitLine | undefined {
    this.#discarding = false;
    if (this.#held === 0) return undefined;
    return { data: this.#take(), cut: false };
  }

  /** Hands the unfinished line out through `onCut` now, cut: the budget needs its room. */
  cutNow(): void {
    const line = this.#cut('buffer-limit');
    if (line !== undefined) this.#onCut?.(line);
  }

  /** Adds bytes to the unfinished line, or cuts it (into `lines`) where they do not fit. */
  #keep(bytes: Buffer, lines: SplitLine[]): void {
    if (this.#discarding) {
      this.#budget.discardedBytes += bytes.length;
      return;
    }
    const room = this.#max - this.#held;
    const kept = room > 0 ? this.#store(bytes.length > room ? bytes.subarray(0, room) : bytes) : 0;
    if (kept === bytes.length) return;
    // Beyond the line limit, or the budget could not give this line more room.
    const line = this.#cut(this.#held >= this.#max ? 'line-limit' : 'buffer-limit');
    if (line !== undefined) lines.push(line);
    this.#budget.discardedBytes += bytes.length - kept;
  }

  /** Keeps `piece`, or as much of its beginning as the budget has room for; returns bytes kept. */
  #store(piece: Buffer): number {
    const own = this.#own;
    if (own !== undefined && own.length - this.#ownUsed >= piece.length) return this.#copy(piece, piece.length);
    const pinned = piece.buffer.byteLength;
    const byReference = piece.length >= BY_REFERENCE && 2 * piece.length >= pinned;
    const size = byReference ? pinned : Math.max(piece.length, Math.min(OWN_LAST, Math.max(OWN_FIRST, 2 * (own?.length ?? 0))));
    const wanted = this.#charged + size + PIECE_OVERHEAD;
    const granted = this.#budget.grow(this, this.#charged, wanted, this.#charged + PIECE_OVERHEAD + 1);
    if (granted === this.#charged) return 0;
    const extra = granted - this.#charged;
    this.#charged = granted;
    if (granted === wanted && byReference) {
      this.#pieces.push(piece);
      this.#held += piece.length;
      this.#own = undefined;
      return piece.length;
    }
    // A buffer of our own: what was asked for, or what the budget could still give.
    this.#own = Buffer.allocUnsafeSlow(extra - PIECE_OVERHEAD);
    this.#ownUsed = 0;
    this.#pieces.push(this.#own);
    return this.#copy(piece, Math.min(piece.length, this.#own.length));
  }

  /** Copies the first `n` bytes of `piece` into the own buffer (which has room for them). */
  #copy(piece: Buffer, n: number): number {
    const own = this.#own as Buffer;
    piece.copy(own, this.#ownUsed, 0, n);
    this.#ownUsed += n;
    this.#held += n;
    // The last piece is the used part of the buffer (a view, replaced as it fills).
    this.#pieces[this.#pieces.length - 1] = own.subarray(0, this.#ownUsed);
    return n;
  }

  /** Takes the unfinished line out, if any, and starts discarding the rest of it. */
  #cut(reason: CutReason): SplitLine | undefined {
    this.#discarding = true;
    const data = this.#take();
    if (data.length === 0) return undefined;
    this.#budget.cuts[reason]++;
    return { data, cut: true, cutBy: reason };
  }

  /** The held bytes as one buffer; gives the line's charge back to the budget. */
  #take(): Buffer {
    const pieces = this.#pieces;
    const data = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, this.#held);
    this.#budget.release(this, this.#charged);
    this.#pieces = [];
    this.#held = 0;
    this.#own = undefined;
    this.#charged = 0;
    return data;
  }
}

/** A `\r` right before the newline belongs to the line ending. */
function stripCr(data: Buffer): Buffer {
  return data.length > 0 && data[data.length - 1] === 0x0d ? data.subarray(0, -1) : data;
}
