/**
 * `send --file`, `--raw` and stdin lines read at most one datagram's worth: a source without end
 * (/dev/zero, a pipe that never closes) is refused with the oversized-message line (exit 2) as
 * soon as it passes the limit, and SIGTERM ends a read that waits.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, start, startListener, waitForLines, type Running, killedAfterEach } from '../helpers/cli.js';
import { createLan, probeNetns } from '../helpers/netns-lan.js';
import { waitForUdpSocket } from '../helpers/stdio-child.js';

const HINT = "hint: see 'udpkit send --help'\n";
const OVER_V4 = 'message is more than 65507 bytes; one UDP datagram over IPv4 carries at most 65507';

const { track } = killedAfterEach();

/**
 * Feeds `chunk` to the child's stdin until it exits or `budget` bytes went in, never closing it.
 * Resolves with the bytes written.
 */
async function feedUntilExit(r: Running, chunk: Buffer, budget: number): Promise<number> {
  let written = 0;
  const stdin = r.child.stdin!;
  stdin.on('error', () => undefined); // EPIPE once the child has gone
  while (r.child.exitCode === null && written < budget) {
    const more = stdin.write(chunk);
    written += chunk.length;
    if (!more) await Promise.race([new Promise((resolve) => stdin.once('drain', resolve)), r.done]);
  }
  return written;
}

describe('a message source without end', () => {
  it('send --tcp --file /dev/zero: refused at the TCP line limit before connecting, exit 2', async () => {
    const r = await runCli(['send', '--tcp', '127.0.0.1:9', '--file', '/dev/zero']);
    expect(r).toMatchObject({
      code: 2,
      stderr: `udpkit: message is more than 1048576 bytes; one line over --tcp (what a udpkit TCP listener takes whole) carries at most 1048576\n${HINT}`,
    });
  });

  it('send --tcp --raw --key from an endless pipe: refused at the sealed frame limit, exit 2', async () => {
    const r = start(['send', '--tcp', '127.0.0.1:9', '--raw', '--key', 'k']);
    track(r);
    const written = await feedUntilExit(r, Buffer.alloc(64 * 1024, 0x61), 64 * 1024 * 1024);
    const done = await r.done;
    expect(done).toMatchObject({ code: 2, stderr: `udpkit: message is more than 69944 bytes; one sealed frame over --tcp carries at most 69944\n${HINT}` });
    // It stopped reading soon after the limit, not at the end of the budget.
    expect(written).toBeLessThan(16 * 1024 * 1024);
  });

  it('send --file /dev/zero: refused at the limit, exit 2', async () => {
    const r = await runCli(['send', '127.0.0.1:9', '--file', '/dev/zero']);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: `udpkit: ${OVER_V4}\n${HINT}` });
  });

  it('send --file /dev/zero --key: the limit leaves room for the sealing', async () => {
    const r = await runCli(['send', '[::1]:9', '--file', '/dev/zero', '--key', 'k']);
    expect(r).toMatchObject({ code: 2, stderr: `udpkit: message is more than 65471 bytes; sealed with a key, one UDP datagram over IPv6 carries at most 65471\n${HINT}` });
  });

  it('send --raw from a pipe that never ends: refused without waiting for the end (64 MB offered)', async () => {
    const r = start(['send', '127.0.0.1:9', '--raw']);
    track(r);
    const written = await feedUntilExit(r, Buffer.alloc(64 * 1024, 0x61), 64 * 1024 * 1024);
    const done = await r.done;
    expect(done).toMatchObject({ code: 2, stderr: `udpkit: ${OVER_V4}\n${HINT}` });
    // It stopped reading long before the budget: the pipe and our own buffers hold the rest.
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('stdin lines: a line with no end is refused by its number, after the lines before it were sent', async () => {
    const l = await startListener(['-n', '1']);
    track(l);
    const r = start(['send', `127.0.0.1:${l.port}`]);
    track(r);
    r.child.stdin!.write('first line\n');
    await waitForLines(l, 1);
    const written = await feedUntilExit(r, Buffer.alloc(64 * 1024, 0x62), 64 * 1024 * 1024);
    const done = await r.done;
    expect(done).toMatchObject({ code: 2, stderr: `udpkit: line 2: ${OVER_V4}\n${HINT}` });
    expect(written).toBeLessThan(64 * 1024 * 1024);
    expect((await l.done).stdout).toMatch(/^received message: first line from PORT \d+ on 127\.0\.0\.1\n$/);
  });

  it('a regular file over the limit is refused by its size, before it is read', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'udpkit-big-')), 'big.bin');
    writeFileSync(file, Buffer.alloc(70_000));
    const r = await runCli(['send', '127.0.0.1:9', '--file', file]);
    expect(r).toMatchObject({ code: 2, stderr: `udpkit: message is 70000 bytes; one UDP datagram over IPv4 carries at most 65507\n${HINT}` });
  });
});

describe('SIGTERM while reading', () => {
  it('send --raw waiting on stdin ends at once: nothing sent, exit 0', async () => {
    const r = start(['send', '127.0.0.1:9', '--raw']);
    track(r);
    r.child.stdin!.write('partial, and the writer never closes');
    await waitForUdpSocket(r.child.pid!);
    r.child.kill('SIGTERM');
    const done = await r.done;
    expect(done).toMatchObject({ code: 0, signal: null, stdout: '', stderr: 'sent 0 datagrams (0 bytes) to 127.0.0.1:9/udp\n' });
  });

  it('send from stdin lines ends at once, counting what it sent', async () => {
    const l = await startListener(['-n', '3', '--timeout', '10']);
    track(l);
    const r = start(['send', `127.0.0.1:${l.port}`]);
    track(r);
    r.child.stdin!.write('a\nb\n');
    await waitForLines(l, 2);
    r.child.kill('SIGTERM');
    const done = await r.done;
    expect(done).toMatchObject({ code: 0, signal: null, stderr: `sent 2 datagrams (2 bytes) to 127.0.0.1:${l.port}/udp\n` });
    l.child.kill('SIGTERM');
    const heard = await l.done;
    // Sent 2 = shown 2 + kernel dropped 0.
    expect(heard.stdout.split('\n').slice(0, -1)).toEqual([
      expect.stringMatching(/^received message: a from PORT/),
      expect.stringMatching(/^received message: b from PORT/),
    ]);
    expect(heard.stderr.split('\n').at(-2)).toBe('received 2 datagrams, 2 bytes; kernel dropped 0');
  });
});

// broadcast reads stdin lines with the same code; it is only ever run inside a namespace of its own.
const netns = probeNetns();
describe.skipIf(!netns.ok)(`broadcast from stdin without end (in a network namespace)${netns.ok ? '' : `: skipped, ${netns.reason}`}`, () => {
  it('refuses the line at the IPv4 limit, having sent nothing, exit 2', async () => {
    const lan = await createLan(1);
    try {
      const r = start(['broadcast'], { prefix: lan.hosts[0]!.exec });
      track(r);
      const written = await feedUntilExit(r, Buffer.alloc(64 * 1024, 0x63), 64 * 1024 * 1024);
      const done = await r.done;
      expect(done).toMatchObject({ code: 2, stdout: '', stderr: `udpkit: line 1: ${OVER_V4}\nhint: see 'udpkit broadcast --help'\n` });
      expect(written).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await lan.destroy();
    }
  });
});
