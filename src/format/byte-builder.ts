/**
 * Where the line formatters write: one buffer, filled piece after piece, each piece handed out
 * as a view. A piece handed out is not written again until the owner says every reader is done
 * with it ({@link ByteBuilder.recycle}); until then a full buffer is left to the garbage
 * collector and a new one started. A formatted batch costs no allocation but its view,
 * consecutive views are adjacent, which lets a writer join them without copying (see
 * LineWriter), and a recycled buffer is written again while warm instead of new memory being
 * faulted in page by page (that cost more than the formatting for large datagrams).
 */

/** Size of each new buffer, unless one piece needs more. */
const CHUNK = 1024 * 1024;
/** The largest buffer {@link ByteBuilder.recycle} grows to, so that a cycle fits in one. */
const KEPT = 8 * 1024 * 1024;

/**
 * An output buffer written at `pos` by the byte writers of escape.ts.
 * @example
 * const b = new ByteBuilder();
 * b.begin(5);
 * const out = b.reserve(5);
 * b.pos = writeBytes(Buffer.from('hello'), 0, 5, out, b.pos);
 * b.end(); // <Buffer 68 65 6c 6c 6f>
 */
export class ByteBuilder {
  /** The buffer being written; replaced by {@link reserve}, so read it after reserving. */
  buf: Buffer;
  /** Where the next byte goes in `buf`. */
  pos = 0;
  #start = 0;
  readonly #chunk: number;
  /** A new buffer was needed since the last recycle: the cycle did not fit in one. */
  #spilled = false;

  /** `chunk`: size of each buffer (tests make it small to exercise the moves). */
  constructor(chunk = CHUNK) {
    this.#chunk = chunk;
    this.buf = Buffer.alloc(0); // the first reserve allocates: a formatter never used costs nothing
  }

  /**
   * Starts a piece at `pos`, in a new buffer when fewer than `expected` bytes are left (so that
   * a piece is seldom moved: that costs a copy of what it holds so far).
   */
  begin(expected = 0): void {
    this.#start = this.pos;
    if (this.pos + expected > this.buf.length) this.reserve(expected);
  }

  /**
   * Makes room for `n` more bytes at `pos` and returns the buffer to write into: a new one, with
   * the piece so far moved to its start, when the current one is too full.
   */
  reserve(n: number): Buffer {
    if (this.pos + n <= this.buf.length) return this.buf;
    const piece = this.pos - this.#start;
    // A piece that outgrows its buffer may go on growing: double, so moving it stays rare.
    const next = Buffer.allocUnsafe(Math.max(this.#chunk, piece === 0 ? n : 2 * (piece + n)));
    this.#spilled ||= this.buf.length > 0;
    this.buf.copy(next, 0, this.#start, this.pos);
    this.buf = next;
    this.#start = 0;
    this.pos = piece;
    return next;
  }

  /**
   * Says that no piece handed out is in use any more (each was written out and let go), so the
   * buffer is written again from its start; one that overflowed in this cycle is replaced by
   * one twice its size (up to 8 MiB), so that the next cycle fits. Not during a piece.
   */
  recycle(): void {
    if (this.pos !== this.#start) return;
    if (this.#spilled && this.buf.length < KEPT) this.buf = Buffer.allocUnsafe(Math.min(KEPT, 2 * this.buf.length));
    this.#spilled = false;
    this.pos = 0;
    this.#start = 0;
  }

  /** The piece written since {@link begin}, as a view; the next piece starts after it. */
  end(): Buffer {
    const piece = this.buf.subarray(this.#start, this.pos);
    this.#start = this.pos;
    return piece;
  }
}
