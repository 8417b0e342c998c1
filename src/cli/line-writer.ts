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

/** One chunk for one write: strings joined, or bytes concatenated when any chunk is bytes. */
function joined(chunks: ReadonlyArray<string | Buffer>): string | Buffer {
  if (chunks.length === 1) return chunks[0]!;
  if (chunks.every((c) => typeof c === 'string')) return chunks.join('');
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

/**
 * How much may wait in the stream's own buffer before we call it blocked. Node says "wait" past
 * 16 KB, which a fast reader drains at once; pausing the socket that often costs more than it
 * saves, so we wait only past this, which still bounds memory.
 */
const SOFT_LIMIT = 4 * 1024 * 1024;

/**
 * Batches lines to a stream; `end()` resolves when everything reached the stream. While the
 * stream is blocked lines are held, and `onBlock`/`onDrain` let the producer pause meanwhile.
 */
export class LineWriter {
  readonly #out: Writable;
  readonly #flow: FlowHandlers;
  #pending: Array<string | Buffer> = [];
  #pendingLength = 0;
  #scheduled = false;
  #blocked = false;

  readonly #softLimit: number;

  /** `softLimit`: bytes the stream may hold before we wait for it (default 4 MB). */
  constructor(out: Writable, flow: FlowHandlers & { readonly softLimit?: number } = {}) {
    this.#out = out;
    this.#flow = flow;
    this.#softLimit = flow.softLimit ?? SOFT_LIMIT;
  }

  /** Characters or bytes waiting to be written (grows only while the stream is blocked). */
  get pendingLength(): number {
    return this.#pendingLength;
  }

  /** True while the stream has asked us to wait (a slow pipe or terminal). */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Adds one line (without its newline). */
  line(text: string): void {
    this.chunk(text + '\n');
  }

  /** Adds text or bytes that already end in a newline (many lines at once). */
  chunk(data: string | Buffer): void {
    if (data.length === 0) return;
    this.#pending.push(data);
    this.#pendingLength += data.length;
    if (!this.#scheduled && !this.#blocked) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #take(): Array<string | Buffer> {
    const chunks = this.#pending;
    this.#pending = [];
    this.#pendingLength = 0;
    return chunks;
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#pendingLength === 0 || this.#blocked) return;
    const ok = this.#out.write(joined(this.#take()));
    // A stream that does not say how much it holds is taken at its word.
    if (!ok && (this.#out.writableLength ?? Infinity) >= this.#softLimit) {
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
    if (this.#pendingLength > 0) this.#out.write(joined(this.#take()));
    // Even an empty write calls back only after every earlier write was handled.
    await new Promise<void>((resolve) => this.#out.write('', () => resolve()));
  }
}
