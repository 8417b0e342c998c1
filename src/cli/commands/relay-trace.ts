/** `udpkit relay --trace FILE`: the file of one JSON line per datagram, written with a bounded backlog. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { describeErrno, errnoOf, UdpkitError } from '../../errors.js';
import { traceLine } from '../../format/relay.js';

/**
 * Bytes of trace lines that may wait for the disk. Beyond it lines are skipped and counted: a
 * flood through a relay writes about 120 bytes a datagram, faster than a slow disk takes them.
 */
export const TRACE_BACKLOG = 16 * 1024 * 1024;

/** An open trace file: `write` for each datagram's fate, `end` once the relay has closed. */
export interface Trace {
  readonly write: (entry: Parameters<typeof traceLine>[0]) => void;
  readonly skipped: number;
  /** Writing failed (a full disk): the relay stops. */
  readonly failed: boolean;
  /** Ends the file; resolves to a failure line if writing failed. */
  readonly end: () => Promise<string | undefined>;
}

/** Creates the `--trace` file (failing before anything is relayed) and writes lines to it. */
export async function openTrace(path: string, onFailure: () => void): Promise<Trace> {
  const stream: WriteStream = createWriteStream(path);
  let failure: string | undefined;
  stream.on('error', (err) => {
    if (failure !== undefined) return;
    failure = `cannot write to --trace ${path}: ${describeErrno(errnoOf(err))}`;
    onFailure();
  });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) =>
      reject(new UdpkitError('UDPKIT_IO_FAILED', `cannot open trace file ${JSON.stringify(path)}: ${describeErrno(errnoOf(err))}`, { syscall: 'open', errno: errnoOf(err), cause: err })),
    );
  });
  const t = {
    skipped: 0,
    get failed(): boolean {
      return failure !== undefined;
    },
    write: (entry: Parameters<typeof traceLine>[0]): void => {
      if (failure !== undefined || stream.writableLength > TRACE_BACKLOG) t.skipped++;
      else stream.write(traceLine(entry) + '\n');
    },
    end: () =>
      new Promise<string | undefined>((resolve) => {
        if (stream.destroyed) resolve(failure);
        else stream.end(() => resolve(failure));
      }),
  };
  return t;
}
