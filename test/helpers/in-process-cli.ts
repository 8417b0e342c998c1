/**
 * Runs the CLI in this process through main.ts's `run(argv, io)`, as bin.ts does, with streams
 * the test reads: for usage errors and option parsing, which need no child process.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';

export interface InProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `udpkit ARGV` in-process. stdin is empty and ended; the stop signal is already aborted, so a
 * command that (wrongly) got past its checks stops at once instead of serving until a timeout.
 */
export async function runInProcess(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<InProcessResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const stdin = new PassThrough();
  stdin.end();
  const controller = new AbortController();
  controller.abort();
  const io: CliIo = { stdin, stdout, stderr, env, signal: controller.signal };
  const code = await run(argv, io);
  // The streams hand on what was written in later turns: read both to their end.
  const ended = Promise.all([once(stdout, 'end'), once(stderr, 'end')]);
  stdout.end();
  stderr.end();
  await ended;
  return { code, stdout: out, stderr: err };
}
