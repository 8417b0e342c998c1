/** Ends a `udpkit listen` child and checks its books, for tests that sent it a known number. */
import { expect } from 'vitest';
import { runCli, waitForLines, type Running } from './cli.js';
import { parseSummary, shownLines } from './listen-accounting.js';

/**
 * Stops the listener with SIGINT, checks shown + refused + kernel dropped = `sent` from its
 * summary line, and resolves with the texts it showed, in order.
 */
export async function stopAndAccount(l: Running, sent: number): Promise<string[]> {
  l.child.kill('SIGINT');
  const { stdout, stderr } = await l.done;
  const s = parseSummary(stderr);
  const shown = shownLines(stdout);
  expect(shown.length + (s.refused ?? 0) + s.kernelDropped).toBe(sent);
  expect(s.received).toBe(shown.length);
  return shown.map((d) => d.text);
}

/**
 * `udpkit send --replay FILE 127.0.0.1:PORT --speed 0` into a running listener that should get
 * all `n` UDP packets of the capture: checks the replay's line and exit, then the listener's
 * books; resolves with what it showed.
 */
export async function replayAll(file: string, l: Running & { port: number }, n: number): Promise<string[]> {
  const r = await runCli(['send', '--replay', file, `127.0.0.1:${l.port}`, '--speed', '0']);
  expect(r.stderr).toBe(`replayed ${n} of ${n} UDP packets to 127.0.0.1:${l.port}/udp (0 skipped)\n`);
  expect(r.code).toBe(0);
  await waitForLines(l, n);
  return stopAndAccount(l, n);
}
