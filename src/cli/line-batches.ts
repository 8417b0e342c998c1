/**
 * Standard input split into lines, for `send`, `broadcast` and `send --tcp`, one batch per read.
 *
 * `readLineBatches` gives each line as a Buffer of its own, for callers that keep lines.
 * `readLineSpans` gives them as offsets into the buffer read, valid until the next batch is
 * asked for: `send` hands those to the kernel as they are. That makes no object per line, and a
 * regular file on stdin (`udpkit send < lines.txt`) is read into one buffer, again and again:
 * a stream makes a new 64 KiB buffer per read, which the garbage collector frees late enough
 * that a sender held 30 MB of them, and an object per line makes V8 grow its young generation
 * to 32 MB. With both gone a sender's memory stays flat whatever the input's size.
 */
import { fstatSync, read } from 'node:fs';
import type { Readable } from 'node:stream';
import { UdpkitError, describeErrno, errnoOf } from '../errors.js';
import type { DatagramSpans } from '../socket/datagram-spans.js';

/** How large one message may be, and the error for one that is larger. */
export interface SizeLimit {
  readonly bytes: number;
  /** The error to throw; `size` is undefined when reading stopped at the limit. */
  tooLarge(size: number | undefined): Error;
}

/** Options of {@link readLineBatches} and {@link readLineSpans}. */
export interface LineOptions {
  /** Refuse a line longer than this, naming its number; a line is never held past it. */
  readonly limit?: SizeLimit;
  /** Stop reading (quietly, as at the end of input) when this aborts. */
  readonly signal?: AbortSignal;
}

/** Bytes asked for per read of a file, as a stream would (its highWaterMark). */
const READ_BYTES = 64 * 1024;
/** Lines per batch at most: the span arrays' length. */
const SPANS = 2048;

/** One batch of lines; line `i < count` is `bytes[starts[i], ends[i])`. */
interface Spans extends DatagramSpans {
  bytes: Buffer;
  count: number;
}

function newSpans(): Spans {
  return { bytes: Buffer.alloc(0), starts: new Uint32Array(SPANS), ends: new Uint32Array(SPANS), count: 0 };
}

function lineTooLarge(limit: SizeLimit, lineNo: number, size: number | undefined): Error {
  const err = limit.tooLarge(size);
  err.message = `line ${lineNo}: ${err.message}`;
  return err;
}

/** Where splitting stopped, and why: the unfinished rest, a full batch, or a line too long. */
interface Taken {
  readonly next: number;
  readonly full: boolean;
  /** Set when the line at `next` is longer than the limit (size undefined: not ended yet). */
  readonly tooLong?: { readonly size: number | undefined };
}

/**
 * Fills `out` with the lines of `buf` from `from` on, splitting at each `\n` (and dropping a
 * `\r` before it), up to the batch's size.
 */
function takeSpans(buf: Buffer, from: number, limit: SizeLimit | undefined, out: Spans): Taken {
  out.bytes = buf;
  out.count = 0;
  let start = from;
  let nl: number;
  while (out.count < SPANS && (nl = buf.indexOf(0x0a, start)) !== -1) {
    const end = nl > start && buf[nl - 1] === 0x0d ? nl - 1 : nl;
    if (limit && end - start > limit.bytes) return { next: start, full: false, tooLong: { size: end - start } };
    out.starts[out.count] = start;
    out.ends[out.count] = end;
    out.count++;
    start = nl + 1;
  }
  if (out.count === SPANS) return { next: start, full: true };
  // A trailing \r may belong to a CRLF: one byte of slack before calling the line too long.
  if (limit && buf.length - start > limit.bytes + 1) return { next: start, full: false, tooLong: { size: undefined } };
  return { next: start, full: false };
}

/** The input's last line, without a newline (and without a `\r` that ended the input). */
function lastLine(buf: Buffer, limit: SizeLimit | undefined, lineNo: number, out: Spans): Spans {
  const end = buf[buf.length - 1] === 0x0d ? buf.length - 1 : buf.length;
  if (limit && end > limit.bytes) throw lineTooLarge(limit, lineNo, end);
  out.bytes = buf;
  out.starts[0] = 0;
  out.ends[0] = end;
  out.count = 1;
  return out;
}

/**
 * Splits a byte stream into lines without decoding it, one batch of lines per chunk read (an
 * await per chunk, not per line). Each line has its `\n` (and a `\r` before it) removed; a last
 * line without a newline is yielded too. With a `limit`, the lines before a line too long are
 * yielded, then the generator throws. The lines may be kept.
 */
export async function* readLineBatches(input: Readable, options: LineOptions = {}): AsyncGenerator<Buffer[]> {
  for await (const spans of streamSpans(input, options)) {
    const lines = new Array<Buffer>(spans.count);
    for (let i = 0; i < spans.count; i++) lines[i] = spans.bytes.subarray(spans.starts[i], spans.ends[i]);
    yield lines;
  }
}

/**
 * The same lines as {@link readLineBatches}, as spans of the buffer read. The batch (the same
 * object every time) and its bytes are valid only until the next batch is asked for. A regular
 * file behind `input` (its `fd`) is read directly, through one buffer, and `input` is not read.
 */
export function readLineSpans(input: Readable, options: LineOptions = {}): AsyncGenerator<DatagramSpans> {
  const fd = (input as { fd?: unknown }).fd;
  return typeof fd === 'number' && isRegularFile(fd) ? fileSpans(fd, options) : streamSpans(input, options);
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

async function* streamSpans(input: Readable, options: LineOptions): AsyncGenerator<Spans> {
  const { limit, signal } = options;
  const onAbort = (): void => void input.destroy();
  if (signal?.aborted) return;
  signal?.addEventListener('abort', onAbort, { once: true });
  const spans = newSpans();
  let rest: Buffer | undefined;
  let lineNo = 0;
  try {
    for await (const chunk of input) {
      const buf: Buffer = rest ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
      let taken: Taken;
      let at = 0;
      do {
        taken = takeSpans(buf, at, limit, spans);
        lineNo += spans.count;
        if (spans.count > 0) yield spans;
        if (signal?.aborted) return;
        if (taken.tooLong) throw lineTooLarge(limit!, lineNo + 1, taken.tooLong.size);
        at = taken.next;
      } while (taken.full);
      rest = at < buf.length ? buf.subarray(at) : undefined;
    }
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (rest) yield lastLine(rest, limit, lineNo + 1, spans);
}

/** One read at the file's current position (stdin's offset, which the shell may have moved). */
function readInto(fd: number, buf: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, offset, buf.length - offset, null, (err, bytesRead) => {
      if (!err) return resolve(bytesRead);
      const errno = errnoOf(err);
      reject(new UdpkitError('UDPKIT_IO_FAILED', `cannot read standard input: ${describeErrno(errno)}`, { syscall: 'read', errno, cause: err }));
    });
  });
}

/**
 * A regular file, read through two buffers in turn: while the lines of one are sent, the next
 * read fills the other (a read waits for the thread pool, and the sender should not), after the
 * unfinished last line, copied over first. A file never makes a read wait for data, so the
 * signal is checked between batches.
 */
async function* fileSpans(fd: number, options: LineOptions): AsyncGenerator<Spans> {
  const { limit, signal } = options;
  // Room for the longest line allowed (and its CRLF) plus a read.
  const bufs = [Buffer.allocUnsafeSlow(READ_BYTES + (limit ? limit.bytes + 2 : 0)), Buffer.allocUnsafeSlow(READ_BYTES + (limit ? limit.bytes + 2 : 0))];
  const spans = newSpans();
  let cur = 0;
  let held = 0;
  let lineNo = 0;
  let reading: Promise<number> = readInto(fd, bufs[0] as Buffer, 0);
  try {
    for (;;) {
      const n = await reading;
      if (signal?.aborted) return;
      const filled = (bufs[cur] as Buffer).subarray(0, held + n);
      if (n === 0) {
        if (held > 0) yield lastLine(filled, limit, lineNo + 1, spans);
        return;
      }
      const restAt = filled.lastIndexOf(0x0a) + 1;
      const rest = filled.length - restAt;
      // A rest over the limit is refused below, once the lines before it are out.
      if (!limit || rest <= limit.bytes + 1) {
        let next = bufs[1 - cur] as Buffer;
        // Only without a limit: a line longer than a buffer makes the next one larger.
        if (rest >= next.length) next = bufs[1 - cur] = Buffer.allocUnsafeSlow(Math.max(next.length, rest) * 2);
        filled.copy(next, 0, restAt);
        reading = readInto(fd, next, rest);
      }
      let taken: Taken;
      let at = 0;
      do {
        taken = takeSpans(filled, at, limit, spans);
        lineNo += spans.count;
        if (spans.count > 0) yield spans;
        if (signal?.aborted) return;
        if (taken.tooLong) throw lineTooLarge(limit!, lineNo + 1, taken.tooLong.size);
        at = taken.next;
      } while (taken.full);
      held = rest;
      cur = 1 - cur;
    }
  } finally {
    // Stopped early (a line too long, an abort, a consumer that broke off): the read started
    // ahead still moves the file's offset, which stdin shares with whoever reads it next; it
    // ends before this does, and whatever it read is not taken.
    await reading.catch(() => undefined);
  }
}
