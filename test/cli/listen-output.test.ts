/**
 * What `udpkit listen` writes, end to end: for a few thousand payloads chosen to hit every rule
 * of the escaping (and large ones), sent by Python, each line shown is exactly what the old
 * formatters wrote for that datagram (test/helpers/format-oracle.ts), in the order sent, and
 * shown + kernel dropped = sent. Its stdout is a pipe the test stops reading for a while (the
 * listener must not reuse the memory of lines the pipe has not taken yet), or a file.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { killedAfterEach, startListener, type Running } from '../helpers/cli.js';
import { payload } from '../helpers/escape-payloads.js';
import { oldJsonLine, oldTextLine } from '../helpers/format-oracle.js';
import { parseSummary } from '../helpers/listen-accounting.js';

const { track } = killedAfterEach();
const SENDER = fileURLToPath(new URL('../fixtures/send_payloads.py', import.meta.url));
const COUNT = 2500;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Sends `payloads` to `port` with send_payloads.py; resolves with its port and how many it sent. */
function sendWithPython(port: number, payloads: readonly Buffer[]): Promise<{ port: number; sent: number }> {
  const file = join(dir!, 'payloads.bin');
  writeFileSync(file, Buffer.concat(payloads.flatMap((p) => [lengthOf(p), p])));
  return new Promise((resolve, reject) => {
    const c = spawn('python3', [SENDER, String(port), file]);
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as { port: number; sent: number }) : reject(new Error(`send_payloads.py exited ${code}: ${err}`))));
  });
}

/** A record's 4-byte big-endian length. */
function lengthOf(p: Buffer): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(p.length);
  return b;
}

/**
 * Sends `marker` from a socket of its own until `shown()` says it is on the output (it may be
 * dropped like any datagram); bounded to 40 sends, each waited for up to half a second.
 */
async function markUntilShown(port: number, marker: string, shown: () => boolean): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  let sent = 0;
  try {
    for (let i = 0; i < 40 && !shown(); i++) {
      await new Promise<void>((r, j) => s.send(marker, port, '127.0.0.1', (e) => (e ? j(e) : r())));
      sent++;
      for (let t = 0; t < 50 && !shown(); t++) await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    s.close();
  }
  return sent;
}

/**
 * Checks that the lines before the markers are the expected lines of payloads sent, in order,
 * some perhaps missing (dropped); `expected(k, line)` is payload k's line (JSON lines take the
 * time from the line itself). Returns how many payload lines there were.
 */
function checkInOrder(lines: readonly string[], count: number, expected: (k: number, line: string) => string, context: string): number {
  let k = 0;
  for (const [n, line] of lines.entries()) {
    while (k < count && expected(k, line) !== line) k++;
    if (k === count) throw new Error(`${context}: line ${n} is no payload's line, in order: ${JSON.stringify(line.slice(0, 300))}`);
    k++;
  }
  return lines.length;
}

async function run(mode: 'text' | 'json', output: 'paused pipe' | 'file'): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'udpkit-output-'));
  const seed = Math.floor(Math.random() * 2 ** 31);
  const context = `seed ${seed}, ${mode} to a ${output}`;
  const payloads = fc.sample(payload, { numRuns: COUNT, seed });
  const outFile = join(dir, 'stdout');
  const fd = output === 'file' ? openSync(outFile, 'w') : undefined;
  let l: Running & { port: number };
  try {
    l = track(await startListener([...(mode === 'json' ? ['--json'] : []), '--no-stop-word', '--linger', '0'], { timeoutMs: 60_000, ...(fd !== undefined ? { stdoutFd: fd } : {}) }));
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  // The output as bytes (one latin1 character each); the pipe's was decoded as UTF-8 on the way.
  const stdout = (): string => (output === 'file' ? readFileSync(outFile, 'latin1') : Buffer.from(l.stdout).toString('latin1'));
  // Not read while the payloads arrive: the pipe fills and the listener's writes wait.
  if (output === 'paused pipe') l.child.stdout!.pause();
  const python = await sendWithPython(l.port, payloads);
  if (output === 'paused pipe') l.child.stdout!.resume();
  const marker = `output test done ${seed}`;
  const markers = await markUntilShown(l.port, marker, () => (output === 'file' ? readFileSync(outFile, 'latin1') : l.stdout).includes(marker));
  expect(stdout(), context).toContain(marker);
  l.child.kill('SIGTERM');
  const done = await l.done;
  expect(done.code, `${context}: ${done.stderr}`).toBe(0);
  const s = parseSummary(done.stderr);
  // Lines are compared as bytes: the oracle's strings encoded as UTF-8, shown a byte a character.
  const all = stdout().split('\n').slice(0, -1);
  const firstMarker = all.findIndex((line) => line.includes(marker));
  const lines = all.slice(0, firstMarker);
  const asBytes = (text: string): string => Buffer.from(text).toString('latin1');
  const expected =
    mode === 'text'
      ? (k: number) => asBytes(oldTextLine(payloads[k]!, 0, payloads[k]!.length, python.port, '127.0.0.1'))
      : (k: number, line: string) => asBytes(oldJsonLine(payloads[k]!, 0, payloads[k]!.length, '127.0.0.1', python.port, 'IPv4', Date.parse(/^\{"time":"([^"]+)"/.exec(line)?.[1] ?? '')));
  const shown = checkInOrder(lines, payloads.length, expected, context);
  for (const line of all.slice(firstMarker)) expect(line, context).toContain(marker);
  console.log(`${context}: ${shown} of ${python.sent} payload lines as expected; ${done.stderr.split('\n').at(-2)}`);
  expect(s.received, context).toBe(all.length);
  expect(s.received + s.kernelDropped, context).toBe(python.sent + markers);
}

describe('listen output, byte for byte, for payloads of every kind', () => {
  it('text lines to a pipe the reader stops reading for a while', () => run('text', 'paused pipe'), 90_000);
  it('JSON lines to a pipe the reader stops reading for a while', () => run('json', 'paused pipe'), 90_000);
  it('text lines to a file', () => run('text', 'file'), 90_000);
});
