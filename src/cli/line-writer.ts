/**
 * Collects output lines and writes them once per event-loop turn: one `write` for many
 * datagrams instead of one each, which is what keeps a busy listener from falling behind.
 */
import { WriteStream } from 'node:fs';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';

/** Called when the stream asks us to wait, when it takes data again, and when it fails. */
export interface FlowHandlers {
  readonly onBlock?: () => void;
  readonly onDrain?: () => void;
  /**
   * Called once when the stream fails (a full disk, a reader that went away). Without it an
   * error stays unhandled, as it would without a LineWriter: a failure is never silent.
   */
  readonly onError?: (err: Error) => void;
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
  #failure: Error | undefined;
  #closed = false;
  /** Wakes `end()` when the stream stops for good while it waits for a drain. */
  #gone: (() => void) | undefined;

  readonly #softLimit: number;
  readonly #flushAt: number;
  /** The stream lets go of a chunk once it is written (see {@link drained}). */
  readonly #releases: boolean;

  /**
   * `softLimit`: bytes the stream may hold before we wait for it (default 4 MB). `flushAt`:
   * pending bytes written at once rather than at the end of the turn (default: none), so that
   * the memory they came from is let go, and can be reused, sooner.
   */
  constructor(out: Writable, flow: FlowHandlers & { readonly softLimit?: number; readonly flushAt?: number } = {}) {
    this.#out = out;
    this.#flushAt = flow.flushAt ?? Infinity;
    // Node's own streams to a file, pipe, socket or terminal (stdout to a file is the internal
    // SyncWriteStream, known only by name). A PassThrough, say, hands the chunk itself on to
    // its reader, who may not have read it yet.
    this.#releases = out instanceof Socket || out instanceof WriteStream || out.constructor?.name === 'SyncWriteStream';
    this.#flow = flow;
    this.#softLimit = flow.softLimit ?? SOFT_LIMIT;
    if (flow.onError) out.on('error', (err: Error) => this.#stop(err));
    // A stream destroyed while we wait for 'drain' never sends it: stop waiting.
    out.once('close', () => this.#stop(undefined));
  }

  /** The error that stopped the stream, if one did; lines given after it are dropped. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** The stream failed (`err`) or closed: drop what is pending and whatever comes later. */
  #stop(err: Error | undefined): void {
    this.#closed = true;
    if (err && this.#failure === undefined) {
      this.#failure = err;
      this.#flow.onError?.(err);
    }
    this.#take();
    if (this.#blocked) {
      this.#blocked = false;
      this.#flow.onDrain?.();
    }
    this.#gone?.();
  }

  /** Characters or bytes waiting to be written (grows only while the stream is blocked). */
  get pendingLength(): number {
    return this.#pendingLength;
  }

  /**
   * True when every chunk given so far was written out and is no longer held, here or by the
   * stream, so its memory may be reused. Only known for the streams Node writes to the OS
   * itself; false for any other.
   */
  get drained(): boolean {
    return this.#releases && this.#pendingLength === 0 && this.#out.writableLength === 0;
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
    if (data.length === 0 || this.#closed) return;
    const last = this.#pending[this.#pending.length - 1];
    if (typeof data !== 'string' && typeof last === 'object' && last.buffer === data.buffer && last.byteOffset + last.length === data.byteOffset) {
      // The next piece of the same output buffer (see ByteBuilder): one longer view, no copy.
      this.#pending[this.#pending.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + data.length);
    } else this.#pending.push(data);
    this.#pendingLength += data.length;
    if (this.#pendingLength >= this.#flushAt) this.#writePending();
    else if (!this.#scheduled && !this.#blocked) {
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
    this.#writePending();
  }

  #writePending(): void {
    if (this.#pendingLength === 0 || this.#blocked) return;
    const ok = this.#out.write(joined(this.#take()));
    // A stream that does not say how much it holds is taken at its word.
    if (!ok && (this.#out.writableLength ?? Infinity) >= this.#softLimit) {
      this.#blocked = true;
      this.#flow.onBlock?.();
      this.#out.once('drain', () => {
        if (!this.#blocked) return; // the stream stopped meanwhile; #stop has resumed the producer
        this.#blocked = false;
        this.#flush();
        if (!this.#blocked) this.#flow.onDrain?.();
      });
    }
  }

  /**
   * Writes what is pending and resolves once the stream has taken it, or at once when the
   * stream failed or closed (see `failure`).
   */
  async end(): Promise<void> {
    if (this.#blocked) {
      await new Promise<void>((resolve) => {
        this.#gone = resolve;
        this.#out.once('drain', resolve);
      });
      this.#gone = undefined;
    }
    if (this.#closed || this.#out.destroyed === true) return;
    if (this.#pendingLength > 0) this.#out.write(joined(this.#take()));
    // Even an empty write calls back only after every earlier write was handled.
    await new Promise<void>((resolve) => this.#out.write('', () => resolve()));
  }
}
