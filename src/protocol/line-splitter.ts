/**
 * Splits a byte stream (a TCP connection) into lines, bounded: bytes are kept only up to
 * `maxLineBytes` per line, so a peer that never sends a newline cannot grow memory without
 * limit. Sans-I/O: chunks in, lines out. Layout: see docs/protocol.md ("TCP mode").
 */

/** One line taken from the stream, without its `\n` (and a `\r` before it). */
export interface SplitLine {
  readonly data: Buffer;
  /** True when the line was longer than the limit: `data` holds its first `maxLineBytes` bytes. */
  readonly cut: boolean;
}

/** Options of a {@link LineSplitter}. */
export interface LineSplitterOptions {
  /** Longest line kept whole, in bytes; default 1 MiB. */
  readonly maxLineBytes?: number;
}

/**
 * A per-connection line splitter. Call {@link push} with each chunk as it arrives, and
 * {@link end} once when the stream ends (it returns the partial last line, if any).
 * @example
 * const s = new LineSplitter();
 * s.push(Buffer.from('hel')); // []
 * s.push(Buffer.from('lo\nwo')); // [{ data: <hello>, cut: false }]
 * s.end(); // { data: <wo>, cut: false }
 */
export class LineSplitter {
  readonly #max: number;
  #parts: Buffer[] = [];
  #held = 0;
  #cut = false;

  constructor(options: LineSplitterOptions = {}) {
    this.#max = options.maxLineBytes ?? 1024 * 1024;
  }

  /** Bytes held for the current, unfinished line (at most `maxLineBytes`). */
  get pending(): number {
    return this.#held;
  }

  /** Feeds one chunk; returns the lines it completed, in order. */
  push(chunk: Buffer): SplitLine[] {
    const lines: SplitLine[] = [];
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(0x0a, start)) !== -1) {
      this.#keep(chunk.subarray(start, nl));
      lines.push(this.#take());
      start = nl + 1;
    }
    if (start < chunk.length) this.#keep(chunk.subarray(start));
    return lines;
  }

  /** The partial last line when the stream ends without a newline, or `undefined`. */
  end(): SplitLine | undefined {
    if (this.#held === 0 && !this.#cut) return undefined;
    return this.#take();
  }

  #keep(bytes: Buffer): void {
    const room = this.#max - this.#held;
    if (bytes.length > room) this.#cut = true;
    const kept = bytes.length > room ? bytes.subarray(0, room) : bytes;
    if (kept.length > 0) {
      // Copy: the chunk's memory belongs to the socket and may be large.
      this.#parts.push(Buffer.from(kept));
      this.#held += kept.length;
    }
  }

  #take(): SplitLine {
    let data = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#held);
    // A `\r` kept right before the newline belongs to the line ending (unless the line was cut).
    if (!this.#cut && data.length > 0 && data[data.length - 1] === 0x0d) data = data.subarray(0, -1);
    const line = { data, cut: this.#cut };
    this.#parts = [];
    this.#held = 0;
    this.#cut = false;
    return line;
  }
}
