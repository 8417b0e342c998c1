#!/usr/bin/env node
/** The `udpkit` executable: wires the process to the in-process CLI. */
import type { CliIo } from './io.js';
import { run } from './main.js';

/**
 * npm (`npm start`, `npx`) passes a Ctrl-C on to its child, which got the same SIGINT from the
 * terminal a moment before; a signal this soon after the first is that copy, not a second press.
 */
const SAME_SIGNAL_MS = 500;

const controller = new AbortController();
let firstSignalAt: number | undefined;
const onSignal = (): void => {
  const now = performance.now();
  if (firstSignalAt === undefined) {
    firstSignalAt = now;
    controller.abort();
    return;
  }
  // A second Ctrl-C means "now": do not wait for a clean close.
  if (now - firstSignalAt >= SAME_SIGNAL_MS) process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// Node builds process.stdin and process.stdout on first use, which costs milliseconds at every
// start; a command that never reads stdin (or never writes stdout) should not pay for them.
let stdinUsed = false;
const io: CliIo = {
  get stdin() {
    stdinUsed = true;
    return process.stdin;
  },
  // A failing stdout (a closed pipe, a full disk) is handled by run(): see output-guard.ts.
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  env: process.env,
  signal: controller.signal,
};

let finished = false;
// If a command ever left nothing for the event loop to do before it finished, Node would exit
// with status 0 as if all went well; say so and fail instead.
process.on('beforeExit', () => {
  if (finished) return;
  process.stderr.write('udpkit: internal error: the command stopped before it finished\n');
  process.exit(1);
});

void run(process.argv.slice(2), io).then((code) => {
  finished = true;
  process.exitCode = code;
  // A command may leave stdin paused; only then does it keep the process alive.
  if (stdinUsed) process.stdin.destroy();
});
