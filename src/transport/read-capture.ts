/**
 * `readCapture`: the UDP datagrams of a pcap or pcapng file or stream, in capture order, read
 * in bounded memory by the sans-I/O decoder (src/protocol/capture-read.ts).
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { UdpkitError, describeErrno, errnoOf } from '../errors.js';
import { CaptureDecoder, type CapturePacket, type CaptureSkipReason, type RawCaptureDatagram } from '../protocol/capture-read.js';
import type { DatagramSpans } from '../socket/datagram-spans.js';

export type { CapturePacket, CaptureSkipReason, RawCaptureDatagram } from '../protocol/capture-read.js';

/** What a {@link CaptureReader} has read so far. */
export interface CaptureStats {
  /** Frames read, with UDP or not. */
  readonly frames: number;
  /** Frames that gave no datagram, by reason (`fragment`: IP fragments are not reassembled). */
  readonly skipped: Readonly<Partial<Record<CaptureSkipReason, number>>>;
  /** `'pcap'` or `'pcapng'` once the file's first bytes are read. */
  readonly format: 'pcap' | 'pcapng' | undefined;
}

/** Options of {@link readCapture}. */
export interface ReadCaptureOptions {
  /** Stops reading (the iteration then ends without an error). */
  readonly signal?: AbortSignal;
}

/**
 * An async iterable of a capture's UDP datagrams; read it once. Its `stats` count what was
 * skipped, so a caller can say what it left out.
 */
export class CaptureReader implements AsyncIterable<CapturePacket> {
  readonly #decoder = new CaptureDecoder();
  readonly #source: string | AsyncIterable<Uint8Array>;
  readonly #signal: AbortSignal | undefined;

  constructor(source: string | AsyncIterable<Uint8Array>, options: ReadCaptureOptions = {}) {
    this.#source = source;
    this.#signal = options.signal;
  }

  /** Counts so far (complete once the iteration has ended). */
  get stats(): CaptureStats {
    const d = this.#decoder;
    return { frames: d.frames, skipped: { ...d.skipped }, format: d.format };
  }

  /**
   * The datagrams of each chunk read, as one array: for senders that hand many datagrams to
   * the kernel at once. Within one batch every `data` is a view of the same buffer.
   */
  async *batches(): AsyncGenerator<CapturePacket[], void, undefined> {
    for await (const _ of this.#chunks()) yield* this.#drain();
  }

  /**
   * The datagrams of each chunk read as spans of the buffer they are in, with no object per
   * datagram: what a sender at full speed hands to `Sender.writeSpans` (send the spans before
   * asking for more). `keep` sees each datagram (one object, reused) and says whether it goes in.
   */
  async *spans(keep: (d: RawCaptureDatagram) => boolean = () => true): AsyncGenerator<DatagramSpans, void, undefined> {
    for await (const _ of this.#chunks()) yield* this.#drainSpans(keep);
  }

  /** Pushes each chunk of the source into the decoder, then ends it; yields after each step. */
  async *#chunks(): AsyncGenerator<void, void, undefined> {
    const d = this.#decoder;
    const path = typeof this.#source === 'string' ? this.#source : undefined;
    const chunks = path !== undefined ? createReadStream(path, { highWaterMark: 256 * 1024 }) : this.#source;
    try {
      for await (const chunk of chunks as AsyncIterable<Uint8Array>) {
        if (this.#signal?.aborted === true) return;
        d.push(chunk);
        yield;
      }
    } catch (err) {
      const errno = errnoOf(err);
      throw new UdpkitError('UDPKIT_IO_FAILED', `cannot read ${path === undefined ? 'the capture stream' : JSON.stringify(path)}: ${describeErrno(errno)}`, {
        syscall: 'read',
        ...(errno !== undefined ? { errno } : {}),
        offset: d.offset,
        cause: err,
      });
    } finally {
      if (typeof (chunks as Readable).destroy === 'function') (chunks as Readable).destroy();
    }
    if (this.#signal?.aborted === true) return;
    d.end();
    yield;
  }

  /** What the decoder has ready, as at most one batch; its fault only after those datagrams. */
  *#drain(): Generator<CapturePacket[], void, undefined> {
    const batch: CapturePacket[] = [];
    let fault: unknown;
    try {
      for (let p = this.#decoder.next(); p !== undefined; p = this.#decoder.next()) batch.push(p);
    } catch (err) {
      fault = err;
    }
    if (batch.length > 0) yield batch;
    if (fault !== undefined) throw fault;
  }

  /** As {@link #drain}, as spans: every datagram of one drain lies in the decoder's one buffer. */
  *#drainSpans(keep: (d: RawCaptureDatagram) => boolean): Generator<DatagramSpans, void, undefined> {
    let bytes: Buffer | undefined;
    let starts: Uint32Array = new Uint32Array(256);
    let ends: Uint32Array = new Uint32Array(256);
    let count = 0;
    let fault: unknown;
    try {
      for (let r = this.#decoder.nextRaw(); r !== undefined; r = this.#decoder.nextRaw()) {
        if (!keep(r)) continue;
        bytes = r.bytes;
        if (count === starts.length) {
          starts = grown(starts);
          ends = grown(ends);
        }
        starts[count] = r.start;
        ends[count] = r.end;
        count++;
      }
    } catch (err) {
      fault = err;
    }
    if (bytes !== undefined && count > 0) yield { bytes, starts, ends, count };
    if (fault !== undefined) throw fault;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CapturePacket, void, undefined> {
    for await (const batch of this.batches()) yield* batch;
  }
}

/** Twice the room, same contents. */
function grown(a: Uint32Array): Uint32Array {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * Reads the UDP datagrams of a pcap or pcapng capture (a path, or a stream such as stdin or
 * `tcpdump -w -`). The iteration throws `UDPKIT_CAPTURE_INVALID` (with `offset`) after the
 * datagrams before a fault, and `UDPKIT_IO_FAILED` when the file cannot be read.
 * @example
 * const capture = readCapture('trace.pcapng');
 * for await (const p of capture) console.log(p.time, p.from.port, '->', p.to.port, p.data);
 * console.log(capture.stats.skipped); // { 'not-udp': 12 }
 */
export function readCapture(source: string | Readable | AsyncIterable<Uint8Array>, options: ReadCaptureOptions = {}): CaptureReader {
  return new CaptureReader(source, options);
}
