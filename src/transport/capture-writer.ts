/**
 * Writes a capture file (capture-write.ts encodes it) to a file or a stream such as stdout:
 * the header at once, then what it is given, gathered into one write per event-loop turn (or per
 * 256 KiB). Memory stays bounded: past `softLimit` bytes not yet taken by the OS it calls
 * `onBlock` (a listener pauses its socket, so the kernel buffers and counts drops), and past
 * `hardLimit` it drops datagrams and counts them in `dropped` (for producers that cannot pause).
 */
import { closeSync, createWriteStream, fsyncSync, openSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { UdpkitError, describeErrno, errnoOf } from '../errors.js';
import { CaptureEncoder, type CaptureBatch, type CaptureEncoderOptions, type CaptureEndpoint } from '../protocol/capture-write.js';

export type { CaptureFormat, CaptureEndpoint } from '../protocol/capture-write.js';

/** How a {@link CaptureWriter} writes and whom it tells when the stream is slow or fails. */
export interface CaptureWriterOptions extends CaptureEncoderOptions {
  /** Bytes held (here and in the stream) before `onBlock` (default 4 MiB). */
  readonly softLimit?: number;
  /** Bytes held before datagrams are dropped and counted (default 16 MiB). */
  readonly hardLimit?: number;
  readonly onBlock?: () => void;
  readonly onDrain?: () => void;
  /** Called once when the stream fails (a full disk, a reader gone); later datagrams are dropped. */
  readonly onError?: (err: Error) => void;
}

const FLUSH_AT = 256 * 1024;

/**
 * One capture being written. Construct it with a stream ({@link CaptureWriter.open} for a file),
 * give it datagrams, and `await end()` on every way out so the file is complete.
 * @example
 * const cap = CaptureWriter.open('/tmp/in.pcapng');
 * listener.onBatch((b) => void cap.writeBatch(b, listener.address()));
 * // ... later
 * await cap.end();
 */
export class CaptureWriter {
  readonly #out: Writable;
  readonly #fd: number | undefined;
  readonly #encoder: CaptureEncoder;
  readonly #options: CaptureWriterOptions;
  #onBlock: (() => void) | undefined;
  #onDrain: (() => void) | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #scheduled = false;
  #blocked = false;
  #failed = false;
  /** Datagrams written to the capture (given to the stream). */
  written = 0;
  /** Datagrams left out: over `hardLimit`, after a failure, or not encodable. */
  dropped = 0;
  /** The error that stopped the stream, if one did. */
  failure: Error | undefined;

  /**
   * Writes the file's header to `out` at once. `fd` (from {@link CaptureWriter.open}, which has
   * written the header itself): the file under `out`, synced and closed by `end()`.
   */
  constructor(out: Writable, options: CaptureWriterOptions = {}, fd?: number) {
    this.#out = out;
    this.#fd = fd;
    this.#options = options;
    this.#onBlock = options.onBlock;
    this.#onDrain = options.onDrain;
    this.#encoder = new CaptureEncoder(options);
    out.on('error', (err: Error) => this.#fail(err));
    if (fd === undefined) this.#push(this.#encoder.header());
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
    return new CaptureWriter(createWriteStream('', { fd, autoClose: false }), options, fd);
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

  #held(): number {
    return this.#pendingBytes + this.#out.writableLength;
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
    if (!this.#failed && this.#held() < (this.#options.hardLimit ?? 16 * 1024 * 1024)) return true;
    this.dropped += n;
    return false;
  }

  /**
   * Datagrams [from, to) of a batch received on `local` (see CaptureEncoder.encodeBatch).
   * Returns false when they were dropped (the stream failed or holds `hardLimit`).
   */
  writeBatch(b: CaptureBatch, local: CaptureEndpoint, from = 0, to = b.count): boolean {
    if (to <= from || !this.#room(to - from)) return to <= from;
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
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes >= FLUSH_AT) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
  }

  #flush(): void {
    if (this.#pendingBytes === 0 || this.#failed) return;
    const chunk = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#out.write(chunk);
    if (!this.#blocked && this.#out.writableLength >= (this.#options.softLimit ?? 4 * 1024 * 1024)) {
      this.#blocked = true;
      this.#onBlock?.();
      this.#out.once('drain', () => {
        if (!this.#blocked) return; // failed meanwhile: #fail has resumed the producer
        this.#blocked = false;
        this.#onDrain?.();
      });
    }
  }

  /**
   * Writes what is pending and waits until the stream has taken it; for a file, syncs it to
   * disk and closes it (a stream such as stdout stays open). Resolves, never rejects: a failure
   * goes to `onError` and `failure`.
   */
  async end(): Promise<void> {
    this.#flush();
    if (!this.#failed && !this.#out.destroyed) await new Promise<void>((resolve) => this.#out.write('', () => resolve()));
    const fd = this.#fd;
    if (fd === undefined) return;
    if (!this.#out.destroyed) await new Promise<void>((resolve) => this.#out.end(resolve));
    try {
      fsyncSync(fd);
    } catch (err) {
      // A pipe or special file cannot be synced (EINVAL); its data was written all the same.
      if (errnoOf(err) !== 'EINVAL') this.#fail(err as Error);
    }
    closeSync(fd);
  }
}
