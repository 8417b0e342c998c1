#!/usr/bin/env node
/** The `udpkit` executable: wires the process to the in-process CLI. */
import { run } from './main.js';

const controller = new AbortController();
let signals = 0;
const onSignal = (): void => {
  signals++;
  // A second Ctrl-C means "now": do not wait for a clean close.
  if (signals > 1) process.exit(130);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// A closed pipe on stdout (`udpkit listen | head`) ends us quietly, like other Unix tools.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});

void run(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
}).then((code) => {
  process.exitCode = code;
  // Helper sockets and timers are unref()ed; once the command is done nothing keeps us alive
  // except stdin, which a command may have left paused.
  process.stdin.destroy();
});
