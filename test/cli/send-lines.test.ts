/**
 * `udpkit send` with stdin lines: a regular file is read through reused buffers and sent as
 * spans (src/cli/line-batches.ts), a pipe as a stream. Both must give the same datagrams, byte
 * for byte, whatever falls on the 64 KiB reads; --interval sends them one at a time.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BIN, killedAfterEach, runCli } from '../helpers/cli.js';
import { udpDrops } from '../helpers/udp-drops.js';

const dir = mkdtempSync(join(tmpdir(), 'udpkit-send-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { listener } = killedAfterEach();

const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** A node:dgram receiver with a large buffer that keeps every payload. */
async function receiver(): Promise<{ port: number; got: Buffer[] }> {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  sockets.push(s);
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const got: Buffer[] = [];
  s.on('message', (m: Buffer) => got.push(m));
  return { port: s.address().port, got };
}

/** Waits for `n` datagrams, or for the kernel to have dropped the rest (then the test fails on the count). */
async function received(r: { port: number; got: Buffer[] }, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (r.got.length + udpDrops(r.port) < n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** `udpkit send 127.0.0.1:PORT` with a file as stdin, the way a shell's `< file` gives it. */
async function sendFile(port: number, path: string): Promise<{ code: number | null; stderr: string }> {
  const fd = openSync(path, 'r');
  try {
    const child = spawn(process.execPath, [BIN, 'send', `127.0.0.1:${port}`], { stdio: [fd, 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, stderr };
  } finally {
    closeSync(fd);
  }
}

describe('send: stdin lines', () => {
  // Lines that cross the 64 KiB reads at varying offsets, CRLF ends, empty lines, bytes that are
  // not text, a line of 60,000 bytes, and a last line without a newline.
  const lines: Buffer[] = [
    ...Array.from({ length: 1700 }, (_, i) => Buffer.from(`line ${i} ${'x'.repeat(i % 61)}`)),
    Buffer.alloc(0),
    Buffer.from([0x00, 0xff, 0x80, 0x1b, 0x0d, 0x41]),
    Buffer.alloc(60_000, 0x4c),
    ...Array.from({ length: 300 }, (_, i) => Buffer.from(`after ${i}`)),
    Buffer.from('last, no newline'),
  ];
  const content = Buffer.concat(lines.flatMap((l, i) => (i === lines.length - 1 ? [l] : [l, Buffer.from(i % 3 === 0 ? '\r\n' : '\n')])));
  const bytes = lines.reduce((n, l) => n + l.length, 0);

  it('a file on stdin and the same bytes through a pipe give the same datagrams, in order', async () => {
    const path = join(dir, 'lines.txt');
    writeFileSync(path, content);
    const fromFile = await receiver();
    const f = await sendFile(fromFile.port, path);
    expect(f).toEqual({ code: 0, stderr: `sent ${lines.length} datagrams (${bytes} bytes) to 127.0.0.1:${fromFile.port}/udp\n` });
    const fromPipe = await receiver();
    const p = await runCli(['send', `127.0.0.1:${fromPipe.port}`], { input: content });
    expect(p).toMatchObject({ code: 0, stderr: `sent ${lines.length} datagrams (${bytes} bytes) to 127.0.0.1:${fromPipe.port}/udp\n` });
    await received(fromFile, lines.length);
    await received(fromPipe, lines.length);
    // Shown + kernel dropped = sent; the receive buffer holds them all, so nothing was dropped.
    expect([fromFile.got.length, udpDrops(fromFile.port)]).toEqual([lines.length, 0]);
    expect([fromPipe.got.length, udpDrops(fromPipe.port)]).toEqual([lines.length, 0]);
    const hex = (bs: Buffer[]): string[] => bs.map((b) => b.toString('hex'));
    expect(hex(fromFile.got)).toEqual(hex(lines));
    expect(hex(fromPipe.got)).toEqual(hex(lines));
  });

  it('--interval sends them one at a time, in order, waiting between them', async () => {
    const l = await listener(['-n', '3']);
    const path = join(dir, 'three.txt');
    writeFileSync(path, 'one\ntwo\nthree\n');
    const started = Date.now();
    const fd = openSync(path, 'r');
    const child = spawn(process.execPath, [BIN, 'send', `127.0.0.1:${l.port}`, '--interval', '60'], { stdio: [fd, 'ignore', 'pipe'] });
    const [code] = (await once(child, 'close')) as [number | null];
    closeSync(fd);
    expect(code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(120);
    const done = await l.done;
    expect(done.stdout.split('\n').map((s) => s.replace(/ from PORT \d+ on 127\.0\.0\.1$/, ''))).toEqual(['received message: one', 'received message: two', 'received message: three', '']);
  });
});
