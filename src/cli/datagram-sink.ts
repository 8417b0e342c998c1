/**
 * Where `listen` puts each datagram: a line (text, JSON, hex dump) on stdout and, with `--log`,
 * a JSON line appended to a file. While either output is blocked the listener is paused, so the
 * kernel buffers (and, when full, drops and counts) instead of udpkit queueing without bound.
 */
import { closeSync, createWriteStream, fsyncSync, openSync, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { UdpkitError, describeErrno, errnoOf } from '../errors.js';
import { JsonBatchFormatter } from '../format/json-batch.js';
import { HexBatchFormatter, TextBatchFormatter } from '../format/text-batch.js';
import type { DatagramBatch } from '../socket/batch.js';
import type { CaptureEndpoint, CaptureWriter } from '../transport/capture-writer.js';
import { LineWriter } from './line-writer.js';
import { growOutputPipe } from './output-pipe.js';

/** How datagrams are shown on stdout. */
export type OutputMode = 'text' | 'json' | 'hex';

/** What the sink controls upstream when an output blocks. */
export interface Pausable {
  pause(): boolean;
  resume(): boolean;
}

/** An open `--log` file. */
export interface LogFile {
  readonly path: string;
  readonly fd: number;
  readonly stream: WriteStream;
}

/**
 * The one line for a `--log` file that stopped taking data (a full disk, a quota, an I/O error).
 * @example logWriteFailure('/var/log/in.jsonl', enospc) // 'cannot write to --log /var/log/in.jsonl: no space left on device'
 */
export function logWriteFailure(path: string, err: unknown): string {
  return `cannot write to --log ${path}: ${describeErrno(errnoOf(err))}`;
}

/** Opens a log file for appending, now, so a bad path fails before anything is received. */
export function openLog(path: string): LogFile {
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (err) {
    throw new UdpkitError('UDPKIT_IO_FAILED', `cannot open log file ${JSON.stringify(path)}: ${describeErrno(errnoOf(err))}`, {
      syscall: 'open',
      errno: errnoOf(err),
      cause: err,
    });
  }
  return { path, fd, stream: createWriteStream('', { fd, autoClose: false }) };
}

/** A `--pcap` capture: the writer, and the address the datagrams were received on. */
export interface CaptureOutput {
  readonly writer: CaptureWriter;
  readonly local: CaptureEndpoint;
}

/** Formats and writes datagrams; counts what it had to drop where pausing was impossible. */
export class DatagramSink {
  readonly #mode: OutputMode;
  readonly #out: LineWriter;
  readonly #log: LineWriter | undefined;
  readonly #logFile: LogFile | undefined;
  readonly #source: Pausable;
  readonly #text = new TextBatchFormatter();
  readonly #json = new JsonBatchFormatter();
  readonly #hex = new HexBatchFormatter();
  readonly #onLogError: ((err: Error) => void) | undefined;
  readonly #capture: CaptureOutput | undefined;
  #blockedOutputs = 0;
  #paused = false;
  /** Datagrams dropped because an output was blocked and the socket could not be paused. */
  dropped = 0;

  /**
   * `onLogError` hears once that the log file failed; it should stop the run. (A failing stdout
   * is watched for every command by the CLI itself, see output-guard.ts.)
   */
  constructor(stdout: Writable, mode: OutputMode, source: Pausable, log?: LogFile, onLogError?: (err: Error) => void, capture?: CaptureOutput) {
    this.#mode = mode;
    this.#capture = capture;
    // A slow capture reader (a pipe to Wireshark, a slow disk) pauses the socket like stdout does.
    capture?.writer.setFlow(
      () => this.#block(),
      () => this.#drain(),
    );
    this.#source = source;
    this.#onLogError = onLogError;
    // Written every 256 KiB: the formatters then reuse the memory (see writeBatch) while warm.
    const flow = { onBlock: () => this.#block(), onDrain: () => this.#drain(), flushAt: 256 * 1024 };
    growOutputPipe(stdout);
    this.#out = new LineWriter(stdout, flow);
    this.#logFile = log;
    this.#log = log ? new LineWriter(log.stream, { ...flow, ...(onLogError ? { onError: onLogError } : {}) }) : undefined;
  }

  #block(): void {
    if (this.#blockedOutputs++ === 0) this.#paused = this.#source.pause();
  }

  #drain(): void {
    if (--this.#blockedOutputs === 0 && this.#paused) {
      this.#paused = false;
      this.#source.resume();
    }
  }

  /**
   * Shows datagrams [from, to) of a batch. Returns false (and writes nothing) while an output is
   * blocked and the socket could not be paused: those datagrams are counted in `dropped`.
   */
  writeBatch(b: DatagramBatch, from = 0, to = b.count): boolean {
    if (this.#blockedOutputs > 0 && !this.#paused) {
      this.dropped += to - from;
      return false;
    }
    if (this.#out.drained && (this.#log === undefined || this.#log.drained)) {
      // Everything shown so far has gone to the OS: write the next lines over the same memory.
      this.#text.recycle();
      this.#json.recycle();
      this.#hex.recycle();
    }
    const json = this.#mode === 'json' || this.#log ? this.#json.format(b, from, to) : undefined;
    if (this.#mode === 'json') this.#out.chunk(json!);
    else this.#out.chunk((this.#mode === 'text' ? this.#text : this.#hex).format(b, from, to));
    if (this.#log) this.#log.chunk(json!);
    this.#capture?.writer.writeBatch(b, this.#capture.local, from, to);
    return true;
  }

  /** Datagrams shown that the capture could not take (its stream failed or fell far behind). */
  get captureDropped(): number {
    return this.#capture?.writer.dropped ?? 0;
  }

  /** Writes everything pending, then flushes and closes the log file. */
  async end(): Promise<void> {
    await Promise.all([this.#out.end(), this.#log?.end(), this.#capture?.writer.end()]);
    const log = this.#logFile;
    if (log) {
      await new Promise<void>((resolve) => log.stream.end(resolve));
      try {
        fsyncSync(log.fd);
      } catch (err) {
        // A log on a pipe or a special file cannot be synced (EINVAL); its data was written all
        // the same. Anything else (EIO, ENOSPC) means the data may not be on the disk.
        if (errnoOf(err) !== 'EINVAL' && this.#log?.failure === undefined) this.#onLogError?.(err as Error);
      }
      closeSync(log.fd);
    }
  }
}
