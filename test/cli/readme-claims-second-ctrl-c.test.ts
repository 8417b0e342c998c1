/**
 * A first Ctrl-C ends `udpkit listen` cleanly: it waits for what it still owes (its output to
 * be written; `--linger` seconds of acknowledgements for `--ack` senders, README "udpkit send
 * --ack"). A second Ctrl-C means "now": exit 130 at once (README, Exit codes). A copy of the
 * first signal that npm passes on within 500 ms is not a second press (see signals.test.ts),
 * so the second signal here is sent at least 600 ms after the first.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { encodeAck, encodeData } from '../../src/protocol/reliable-frames.js';
import { killedAfterEach } from '../helpers/cli.js';
import { boundUdpPorts } from '../helpers/ports.js';
import { pyFlood } from '../helpers/py-udp.js';
import { udpDrops } from '../helpers/udp-drops.js';
import { until } from '../helpers/until.js';

const { listener } = killedAfterEach();

/** A second press, as a person makes it: well apart from the first. */
async function secondPressAfter(firstAt: number): Promise<void> {
  await until(() => performance.now() - firstAt >= 600, 5000, '600 ms since the first SIGINT');
}

/** Sends SIGINT and resolves with how long the child took to exit, and how. */
async function interruptAndTime(l: Awaited<ReturnType<typeof listener>>): Promise<{ code: number | null; ms: number; stderr: string }> {
  const at = performance.now();
  l.child.kill('SIGINT');
  const done = await l.done;
  return { code: done.code, ms: performance.now() - at, stderr: done.stderr };
}

describe('README: a second Ctrl-C exits at once', () => {
  it('while the first waits for a stdout nobody reads: the socket is closed, the process waits; the second exits 130 at once', async () => {
    const l = await listener(['--no-stop-word'], { timeoutMs: 60_000 });
    l.child.stdout!.pause();
    // Fill the pipe and udpkit's output buffer: the listener pauses and the kernel drops.
    await pyFlood(l.port, 30_000, 1000);
    await until(() => udpDrops(l.port) > 0, 30_000, 'the listener is blocked on its output');
    const firstAt = performance.now();
    l.child.kill('SIGINT');
    // The graceful stop has begun: the socket is gone, the summary waits for the output.
    await until(() => !boundUdpPorts().has(l.port), 15_000, `the listener closes port ${l.port}`);
    await secondPressAfter(firstAt);
    expect(l.child.exitCode).toBe(null);
    expect(l.stderr).toBe(`listening on *:${l.port}/udp (IPv4 and IPv6)\n`);
    const second = await interruptAndTime(l);
    console.log(`second SIGINT: exit ${second.code} after ${second.ms.toFixed(0)} ms`);
    expect(second.code).toBe(130);
    expect(second.ms).toBeLessThan(3000);
    // "Now" means now: no summary, no stack trace.
    expect(second.stderr).toBe(`listening on *:${l.port}/udp (IPv4 and IPv6)\n`);
  }, 90_000);

  it('while the first lingers (--linger 60), still acknowledging an --ack sender whose ACK was lost: the second exits 130 at once', async () => {
    const l = await listener(['--linger', '60']);
    const s = dgram.createSocket('udp4');
    const acks: Buffer[] = [];
    const ackArrived = (): Promise<void> => new Promise((resolve) => s.once('message', () => resolve()));
    s.on('message', (m) => acks.push(m));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const frame = encodeData(Buffer.alloc(8, 7), 0, Buffer.from('before'));
    try {
      let acked = ackArrived();
      s.send(frame, l.port, '127.0.0.1');
      await acked;
      const firstAt = performance.now();
      l.child.kill('SIGINT');
      // Its ACK was "lost": the sender resends, and the stopping listener answers again.
      acked = ackArrived();
      s.send(frame, l.port, '127.0.0.1');
      await acked;
      expect(acks.map((a) => a.toString('hex'))).toEqual([encodeAck(Buffer.alloc(8, 7), 1, []).toString('hex'), encodeAck(Buffer.alloc(8, 7), 1, []).toString('hex')]);
      await secondPressAfter(firstAt);
      expect(l.child.exitCode).toBe(null);
      const second = await interruptAndTime(l);
      console.log(`second SIGINT while lingering: exit ${second.code} after ${second.ms.toFixed(0)} ms`);
      expect(second.code).toBe(130);
      expect(second.ms).toBeLessThan(3000);
      expect(l.stdout).toMatch(/^received message: before from PORT \d+ on 127\.0\.0\.1\n$/);
      expect(second.stderr).toBe(`listening on *:${l.port}/udp (IPv4 and IPv6); stops on "bye"\n`);
    } finally {
      s.close();
    }
  });

  it('a single Ctrl-C while lingering with nothing owed ends cleanly, exit 0, with the summary', async () => {
    const l = await listener(['--linger', '60']);
    const first = await interruptAndTime(l);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe(`listening on *:${l.port}/udp (IPv4 and IPv6); stops on "bye"\nreceived 0 datagrams, 0 bytes; kernel dropped 0\n`);
  });
});
