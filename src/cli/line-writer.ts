/**
 * Collects output lines and writes them once per event-loop turn: one `write` for many
 * datagrams instead of one each, which is what keeps a busy listener from falling behind.
 */
import type { Writable } from 'node:stream';

/** Batches lines to a stream; `end()` resolves when everything reached the stream. */
export class LineWriter {
  readonly #out: Writable;
  #pending = '';
  #scheduled = false;
  #blocked = false;

  constructor(out: Writable) {
    this.#out = out;
  }

  /** Bytes waiting to be written (grows only while the stream is blocked). */
  get pendingLength(): number {
    return this.#pending.length;
  }

  /** True while the stream has asked us to wait (a slow pipe or terminal). */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Adds one line (without its newline). */
  line(text: string): void {
    this.#pending += text + '\n';
    if (!this.#scheduled && !this.#blocked) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#pending === '' || this.#blocked) return;
    const chunk = this.#pending;
    this.#pending = '';
    if (!this.#out.write(chunk)) {
      this.#blocked = true;
      this.#out.once('drain', () => {
        this.#blocked = false;
        this.#flush();
      });
    }
  }

  /** Writes what is pending and resolves once the stream has taken it. */
  async end(): Promise<void> {
    if (this.#blocked) await new Promise((resolve) => this.#out.once('drain', resolve));
    const chunk = this.#pending;
    this.#pending = '';
    // Even an empty write calls back only after every earlier write was handled.
    await new Promise<void>((resolve) => this.#out.write(chunk, () => resolve()));
  }
}
