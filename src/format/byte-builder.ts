/** An output buffer that grows as needed: what the batch formatters write their lines into. */
export class ByteBuilder {
  #out: Buffer;
  #pos = 0;

  /** `expected`: a good guess of the final size, so growing is rare. */
  constructor(expected: number) {
    this.#out = Buffer.allocUnsafe(Math.max(expected, 64));
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#out.length * 2, this.#pos + n));
    this.#out.copy(bigger, 0, 0, this.#pos);
    this.#out = bigger;
  }

  /** Appends bytes [start, end) of `src`. */
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    this.#ensure(end - start);
    this.#out.set(src.subarray(start, end), this.#pos);
    this.#pos += end - start;
  }

  /** Appends text, in `encoding` (latin1 is a byte per character, for ASCII it is the fastest). */
  text(s: string, encoding: 'utf8' | 'latin1' = 'utf8'): void {
    this.#ensure(encoding === 'latin1' ? s.length : Buffer.byteLength(s));
    this.#pos += this.#out.write(s, this.#pos, encoding);
  }

  /** What was written (a view, no copy). */
  result(): Buffer {
    return this.#out.subarray(0, this.#pos);
  }
}
