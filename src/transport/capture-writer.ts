/**
 * Writes a capture file (capture-write.ts encodes it) to a file or a stream such as stdout: the
 * header at once, then what it is given, gathered into one write per event-loop turn (or per
 * 256 KiB).
 *
 * A file is written with synchronous `writev` calls on the listener's own thread, as Node writes
 * stdout to a file: a write to the page cache takes microseconds. Handing the writes to the
 * thread pool instead (fs.WriteStream, or queued async `writev`) cost more than it saved: on two
 * cores the pool thread competed with the receiving loop, every write meant two thread switches,
 * and each queued write needed a fresh 1 MiB buffer (page faults) where one warm buffer does.
 * A disk that is slow makes the writes slow, and the listener with them: the kernel buffers what
 * arrives meanwhile and counts its drops, and memory stays bounded without a queue. A stream
 * keeps memory bounded another way: past `softLimit` bytes not yet taken it calls `onBlock` (a
 * listener pauses its socket), and past `hardLimit` it drops datagrams and counts them in
 * `dropped`.
 *
 * Longer than most files (about 300 lines): the file and the stream paths share one batching,
 * one pair of bounds and one way to finish on every exit; the bytes come from capture-write.ts.
 */
import { closeSync, fsyncSync, openSync, writeSync, writevSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { UdpkitError, describeErrno, errnoOf } from '../errors.js';
import { loadNative } from '../native/binding.js';
import { CaptureEncoder, captureBuffer, type CaptureBatch, type CaptureEncoderOptions, type CaptureEndpoint } from '../protocol/capture-write.js';

export type { CaptureFormat, CaptureEndpoint } from '../protocol/capture-write.js';

/** How a {@link CaptureWriter} writes and whom it tells when the stream is slow or fails. */
export interface CaptureWriterOptions extends CaptureEncoderOptions {
  /** A stream only: bytes it may hold before `onBlock` (default 4 MiB). */
  readonly softLimit?: number;
  /** Bytes held (by a stream, or pending in turn) before datagrams are dropped and counted (default 16 MiB). */
  readonly hardLimit?: number;
  readonly onBlock?: () => void;
  readonly onDrain?: () => void;
  /** Called once when writing fails (a full disk, a reader gone); later datagrams are dropped. */
  readonly onError?: (err: Error) => void;
}

const FLUSH_AT = 256 * 1024;
/**
 * A file's batches are encoded into one buffer, written out when full (or at the end of the
 * turn) and then reused at once: a fresh buffer per batch made the garbage collector run for
 * hundreds of megabytes a second of them.
 */
const SLAB = 1024 * 1024;
/** Chunks per flush at most (one per batch; a batch may hold one datagram): under IOV_MAX. */
const MAX_CHUNKS = 512;

type Slab = { out: Buffer; words: Uint32Array };

/**
 * One capture being written. {@link CaptureWriter.open} for a file, or construct it with a
 * stream; give it datagrams, and `await end()` on every way out so the file is complete.
 * @example
 * const cap = CaptureWriter.open('/tmp/in.pcapng');
 * listener.onBatch((b) => void cap.writeBatch(b, listener.address()));
 * // ... later
 * await cap.end();
 */
export class CaptureWriter {
  readonly #out: Writable | undefined;
  readonly #fd: number | undefined;
  readonly #encoder: CaptureEncoder;
  readonly #options: CaptureWriterOptions;
  #onBlock: (() => void) | undefined;
  #onDrain: (() => void) | undefined;
  #pending: Buffer[] = [];
  /** A file's buffer being filled and how much of it is (see SLAB). */
  readonly #slab: Slab | undefined;
  #slabUsed = 0;
  #pendingBytes = 0;
  #scheduled = false;
  #blocked = false;
  #failed = false;
  #closed = false;
  /** Datagrams given to the file or stream. */
  written = 0;
  /** Datagrams left out: after a failure, over a stream's `hardLimit`, or not encodable. */
  dropped = 0;
  /** The error that stopped writing, if one did. */
  failure: Error | undefined;

  /**
   * Writes to the stream `out` (its header at once). {@link CaptureWriter.open} passes a file
   * descriptor instead, whose header it has written; `end()` syncs and closes it.
   */
  constructor(out: Writable | number, options: CaptureWriterOptions = {}) {
    this.#options = options;
    this.#onBlock = options.onBlock;
    this.#onDrain = options.onDrain;
    // The addon encodes batches when it is built (some 3 times less CPU per datagram than JS).
    this.#encoder = new CaptureEncoder(options, loadNative()?.encodeCapture);
    if (typeof out === 'number') {
      this.#fd = out;
      this.#slab = captureBuffer(SLAB);
    }
    else {
      this.#out = out;
      out.on('error', (err: Error) => this.#fail(err));
      this.#push(this.#encoder.header());
    }
  }

  /**
   * Creates (or truncates) `path` and writes the header now, so that a bad path or a full disk
   * fails before anything is received. Throws `UDPKIT_IO_FAILED` naming the path.
   */
  static open(path: string, options: CaptureWriterOptions = {}): CaptureWriter {
    let fd: number | undefined;
    let step: 'open' | 'write' = 'open';
    try {
      fd = openSync(path, 'w');
      step = 'write';
      writeSync(fd, new CaptureEncoder(options).header());
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      throw new UdpkitError('UDPKIT_IO_FAILED', `cannot ${step} capture file ${JSON.stringify(path)}: ${describeErrno(errnoOf(err))}`, {
        syscall: step,
        errno: errnoOf(err),
        cause: err,
      });
    }
    return new CaptureWriter(fd, options);
  }

  /** The file format being written. */
  get format(): CaptureEncoder['format'] {
    return this.#encoder.format;
  }

  /** Who pauses when the stream is slow, when that is known only after the writer was opened. */
  setFlow(onBlock: () => void, onDrain: () => void): void {
    this.#onBlock = onBlock;
    this.#onDrain = onDrain;
  }

  /** True while the stream holds more than `softLimit` (the producer should pause). */
  get blocked(): boolean {
    return this.#blocked;
  }

  #fail(err: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    this.failure = err;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#blocked) {
      this.#blocked = false;
      this.#onDrain?.();
    }
    this.#options.onError?.(err);
  }

  /** Whether `n` more datagrams may be taken now; counts them as dropped if not. */
  #room(n: number): boolean {
    const held = this.#pendingBytes + (this.#out === undefined ? 0 : this.#out.writableLength);
    if (!this.#failed && !this.#closed && held < (this.#options.hardLimit ?? 16 * 1024 * 1024)) return true;
    this.dropped += n;
    return false;
  }

  /**
   * Datagrams [from, to) of a batch received on `local` (see CaptureEncoder.encodeBatch).
   * Returns false when they were dropped (writing failed, or a stream holds `hardLimit`).
   */
  writeBatch(b: CaptureBatch, local: CaptureEndpoint, from = 0, to = b.count): boolean {
    if (to <= from || !this.#room(to - from)) return to <= from;
    if (this.#slab !== undefined) {
      const length = this.#encoder.batchLength(b, from, to);
      if (length <= SLAB) {
        if (this.#slabUsed + length > SLAB) this.#flush();
        if (this.#failed) return this.#room(to - from);
        // A full slab has been written out by the flush and is filled again from its start.
        const slab = this.#slab;
        const { end, written } = this.#encoder.encodeBatchInto(b, local, from, to, slab.out, slab.words, this.#slabUsed);
        this.#slabUsed = end;
        this.written += written;
        this.dropped += to - from - written;
        this.#schedule();
        return true;
      }
    }
    const { bytes, written } = this.#encoder.encodeBatch(b, local, from, to);
    this.written += written;
    this.dropped += to - from - written;
    if (written > 0) this.#push(bytes);
    return true;
  }

  /** One datagram from `from` to `to` at `atMs` (ms since the epoch); false when dropped. */
  writeDatagram(payload: Uint8Array, from: CaptureEndpoint, to: CaptureEndpoint, atMs: number): boolean {
    if (!this.#room(1)) return false;
    const bytes = this.#encoder.encodeDatagram(payload, from, to, atMs);
    if (bytes === undefined) {
      this.dropped++;
      return false;
    }
    this.written++;
    this.#push(bytes);
    return true;
  }

  #push(bytes: Buffer): void {
    // After what the slab holds, which came first.
    if (this.#slabUsed > 0) this.#flush();
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes >= FLUSH_AT || this.#pending.length >= MAX_CHUNKS) this.#flush();
    else this.#schedule();
  }

  #schedule(): void {
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
  }

  #flush(): void {
    if (this.#failed) return;
    if (this.#fd !== undefined) {
      const chunks = this.#pending;
      if (this.#slabUsed > 0) chunks.push(this.#slab!.out.subarray(0, this.#slabUsed));
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#slabUsed = 0;
      // Written before the slab is filled again: the kernel has copied it when writev returns.
      if (chunks.length > 0) this.#writeFile(this.#fd, chunks);
      return;
    }
    if (this.#pendingBytes === 0) return;
    const chunks = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    const out = this.#out!;
    // One writev for the turn's batches, without copying them into one buffer first.
    out.cork();
    for (const c of chunks) out.write(c);
    out.uncork();
    if (!this.#blocked && out.writableLength >= (this.#options.softLimit ?? 4 * 1024 * 1024)) {
      this.#blocked = true;
      this.#onBlock?.();
      out.once('drain', () => {
        if (!this.#blocked) return; // failed meanwhile: #fail has resumed the producer
        this.#blocked = false;
        this.#onDrain?.();
      });
    }
  }

  /** Writes `chunks` to the file now, IOV_MAX at a time, going on after a short write. */
  #writeFile(fd: number, chunks: Buffer[]): void {
    let rest = chunks;
    while (rest.length > 0) {
      const part = rest.slice(0, MAX_CHUNKS);
      let n: number;
      try {
        n = writevSync(fd, part);
      } catch (err) {
        this.#fail(err as Error);
        return;
      }
      if (n === 0) {
        this.#fail(Object.assign(new Error('write wrote nothing'), { code: 'EIO' }));
        return;
      }
      // Drop what was written; a short write (rare on a file) leaves part of a chunk.
      let i = 0;
      while (i < part.length && n >= part[i]!.length) n -= part[i++]!.length;
      rest = rest.slice(i);
      if (n > 0) rest[0] = rest[0]!.subarray(n);
    }
  }

  /**
   * Writes what is pending and waits until it has been taken; a file is then synced to disk
   * and closed (a stream such as stdout stays open). Resolves, never rejects: a failure goes to
   * `onError` and `failure`. Datagrams given after it are dropped.
   */
  async end(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    const out = this.#out;
    if (out !== undefined) {
      if (!this.#failed && !out.destroyed) await new Promise<void>((resolve) => out.write('', () => resolve()));
      return;
    }
    const fd = this.#fd!;
    try {
      fsyncSync(fd);
    } catch (err) {
      // A pipe or special file cannot be synced (EINVAL); its data was written all the same.
      if (errnoOf(err) !== 'EINVAL') this.#fail(err as Error);
    }
    closeSync(fd);
  }
}
