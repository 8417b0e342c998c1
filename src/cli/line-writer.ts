/**
 * Collects output lines and writes them once per event-loop turn: one `write` for many
 * datagrams instead of one each, which is what keeps a busy listener from falling behind.
 */
import type { Writable } from 'node:stream';

/** Called when the stream asks us to wait, and when it takes data again. */
export interface FlowHandlers {
  readonly onBlock?: () => void;
  readonly onDrain?: () => void;
}

/**
 * Batches lines to a stream; `end()` resolves when everything reached the stream. While the
 * stream is blocked lines are held, and `onBlock`/`onDrain` let the producer pause meanwhile.
 */
export class LineWriter {
  readonly #out: Writable;
  readonly #flow: FlowHandlers;
  #pending = '';
  #scheduled = false;
  #blocked = false;

  constructor(out: Writable, flow: FlowHandlers = {}) {
    this.#out = out;
    this.#flow = flow;
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
      this.#flow.onBlock?.();
      this.#out.once('drain', () => {
        this.#blocked = false;
        this.#flush();
        if (!this.#blocked) this.#flow.onDrain?.();
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
