/**
 * Where `listen` puts each datagram: a line (text, JSON, hex dump) on stdout and, with `--log`,
 * a JSON line appended to a file. While either output is blocked the listener is paused, so the
 * kernel buffers (and, when full, drops and counts) instead of udpkit queueing without bound.
 */
import { closeSync, createWriteStream, fsyncSync, openSync, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { UdpkitError, describeErrno, errnoOf } from '../errors.js';
import { formatHexDump, textLine } from '../format/datagram.js';
import { JsonBatchFormatter } from '../format/json-batch.js';
import { TextBatchFormatter } from '../format/text-batch.js';
import type { DatagramBatch } from '../socket/batch.js';
import { LineWriter } from './line-writer.js';

/** How datagrams are shown on stdout. */
export type OutputMode = 'text' | 'json' | 'hex';

/** What the sink controls upstream when an output blocks. */
export interface Pausable {
  pause(): boolean;
  resume(): boolean;
}

/** An open `--log` file. */
export interface LogFile {
  readonly fd: number;
  readonly stream: WriteStream;
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
  return { fd, stream: createWriteStream('', { fd, autoClose: false }) };
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
  #blockedOutputs = 0;
  #paused = false;
  /** Datagrams dropped because an output was blocked and the socket could not be paused. */
  dropped = 0;

  constructor(stdout: Writable, mode: OutputMode, source: Pausable, log?: LogFile) {
    this.#mode = mode;
    this.#source = source;
    const flow = { onBlock: () => this.#block(), onDrain: () => this.#drain() };
    this.#out = new LineWriter(stdout, flow);
    this.#logFile = log;
    this.#log = log ? new LineWriter(log.stream, flow) : undefined;
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
    const json = this.#mode === 'json' || this.#log ? this.#json.format(b, from, to) : undefined;
    if (this.#mode === 'json') this.#out.chunk(json!);
    else if (this.#mode === 'text') this.#out.chunk(this.#text.format(b, from, to));
    else {
      let out = '';
      for (let i = from; i < to; i++) {
        const start = b.starts[i] as number;
        const end = start + (b.lengths[i] as number);
        out += textLine(b.data, start, end, b.ports[i] as number, b.addresses[b.senders[i] as number] as string) + '\n';
        if (end > start) out += formatHexDump(b.data.subarray(start, end)) + '\n';
      }
      this.#out.chunk(out);
    }
    if (this.#log) this.#log.chunk(json!);
    return true;
  }

  /** Writes everything pending, then flushes and closes the log file. */
  async end(): Promise<void> {
    await Promise.all([this.#out.end(), this.#log?.end()]);
    const log = this.#logFile;
    if (log) {
      await new Promise<void>((resolve) => log.stream.end(resolve));
      try {
        fsyncSync(log.fd);
      } catch {
        // A log on a pipe or a special file cannot be synced; its data was written all the same.
      }
      closeSync(log.fd);
    }
  }
}
