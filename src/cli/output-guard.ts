/**
 * No command may fail silently because its standard output failed (a full disk behind
 * `> file`, `/dev/full`, a reader that went away). The guard watches stdout for every command
 * at once: the first failure stops the command as Ctrl-C would (it prints its summary and
 * closes cleanly), then the run ends with one line saying what failed, and exit 1. A reader
 * that went away (`udpkit listen | head`, EPIPE) is the Unix way of saying "enough": the
 * command stops the same way, but quietly and with exit 0.
 */
import { describeErrno, errnoOf } from '../errors.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from './io.js';

/** A command's io whose stdout is watched, and how to end the run once the command returned. */
export interface GuardedOutput {
  /** Hand this to the command: its `signal` also aborts when stdout fails. */
  readonly io: CliIo;
  /**
   * Waits for what the command wrote to stdout to be handled (a failure of its last write
   * surfaces only then), reports a failure on stderr, and returns the exit code to use.
   */
  finish(code: number): Promise<number>;
}

/** Wraps `io` so that a failing stdout stops the command and cannot end the run with exit 0. */
export function guardOutput(io: CliIo): GuardedOutput {
  const controller = new AbortController();
  const stop = (): void => controller.abort(io.signal.reason);
  if (io.signal.aborted) stop();
  else io.signal.addEventListener('abort', stop, { once: true });

  let failure: Error | undefined;
  // Taken from `io` only when the command first uses it: building process.stdout costs time.
  let stdout: CliIo['stdout'] | undefined;
  const watched = (): CliIo['stdout'] => {
    if (stdout === undefined) {
      stdout = io.stdout;
      stdout.on('error', (err: Error) => {
        failure ??= err;
        if (!controller.signal.aborted) controller.abort(err);
      });
    }
    return stdout;
  };

  const guarded: CliIo = {
    get stdin() {
      return io.stdin;
    },
    get stdout() {
      return watched();
    },
    get stderr() {
      return io.stderr;
    },
    env: io.env,
    signal: controller.signal,
  };

  return {
    io: guarded,
    async finish(code) {
      io.signal.removeEventListener('abort', stop);
      const out = stdout;
      if (out !== undefined) {
        if (failure === undefined && out.destroyed !== true && out.writableEnded !== true) {
          // An empty write calls back after every earlier one was handled, with the error if any.
          await new Promise<void>((resolve) =>
            out.write('', (err?: Error | null) => {
              if (err) failure ??= err;
              resolve();
            }),
          );
        }
        // A stream reports a failed write to its callback first and to 'error' a tick later.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (failure === undefined || errnoOf(failure) === 'EPIPE') return code;
      io.stderr.write(`udpkit: cannot write to standard output: ${describeErrno(errnoOf(failure))}\n`);
      return code === EXIT_OK ? EXIT_FAILURE : code;
    },
  };
}
