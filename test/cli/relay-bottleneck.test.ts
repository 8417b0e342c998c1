/** `udpkit relay --rate ... --queue-limit ...` and `--mtu` between a Python sender and a Python sink, on loopback. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { start, waitForStderr, killedAfterEach, type Running } from '../helpers/cli.js';
import { pySend } from '../helpers/py-udp.js';
import { seqSink, seqPayload } from '../helpers/seq-traffic.js';
import { udpUnread } from '../helpers/udp-queues.js';
import { until } from '../helpers/until.js';

const { track } = killedAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'udpkit-bottleneck-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function relayTo(sinkPort: number, args: string[]): Promise<Running & { port: number }> {
  const r = track(start(['relay', '--port', '0', '--bind', '127.0.0.1', '--to', `127.0.0.1:${sinkPort}`, '--json', ...args], { timeoutMs: 60_000 }));
  const port = Number((await waitForStderr(r, /listening on [^;]*?:(\d+)\/udp/))[1]);
  return Object.assign(r, { port });
}

async function stop(r: Running): Promise<{ up: Record<string, number>; kernelDropped: number }> {
  r.child.kill('SIGINT');
  const done = await r.done;
  expect(done.code).toBe(0);
  return JSON.parse(done.stdout) as never;
}

describe('udpkit relay bottleneck and MTU', () => {
  it('--rate 4 --queue-limit 5: of 30 datagrams at once 5 wait in the FIFO, planned to leave in order 250 ms apart; 25 are tail-dropped and counted', async () => {
    const sink = await seqSink();
    try {
      const trace = join(dir, 'bottleneck.jsonl');
      const r = await relayTo(sink.port, ['--rate', '4', '--queue-limit', '5', '--trace', trace]);
      expect(r.stderr).toContain('; rate 4/s, queue 5 datagrams; seed ');
      // One Python process sends all 30 back to back: they reach the relay within a few ms, well inside the first 250 ms.
      await pySend(r.port, Array.from({ length: 30 }, (_, i) => seqPayload(i).toString('latin1')));
      await until(() => udpUnread(r.port) === 0, 10_000, 'the relay reads the burst');
      // Stopping sends what the queue still holds, in its order.
      const stats = await stop(r);
      await until(() => udpUnread(sink.port) === 0, 10_000, 'the sink reads them');
      const got = await sink.stop();
      expect(got.map((d) => d.seq)).toEqual([0, 1, 2, 3, 4]);
      expect(stats.up).toMatchObject({ received: 30, forwarded: 5, tailDropped: 25, rateLimited: 0, queueFull: 0, dropped: 0 });
      expect(stats.kernelDropped).toBe(0);
      const lines = readFileSync(trace, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { t: number; fate: string; delayMs: number });
      expect(lines.map((l) => l.fate)).toEqual([...Array(5).fill('forwarded'), ...Array(25).fill('tail-drop')]);
      // Each leaves 250 ms after the one before: planned at the first arrival + 250 ms x (its place + 1).
      const first = (lines[0] as { t: number }).t;
      lines.slice(0, 5).forEach((l, k) => expect(l.t + l.delayMs - first).toBeCloseTo(250 * (k + 1), 1));
    } finally {
      sink.child.kill();
    }
  }, 60_000);

  it('--mtu 100 drops datagrams over 72 bytes of payload (IPv4: 28 bytes of headers) and counts them as too big', async () => {
    const sink = await seqSink();
    try {
      const r = await relayTo(sink.port, ['--mtu', '100']);
      expect(r.stderr).toContain('; mtu 100; seed ');
      // 16-byte numbered payloads pass; padded to 73 bytes (a 101-byte packet) they do not.
      const payloads = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? seqPayload(i) : Buffer.concat([seqPayload(i), Buffer.alloc(57)])).toString('latin1'));
      await pySend(r.port, payloads);
      await until(() => udpUnread(r.port) === 0, 10_000, 'the relay reads them');
      const stats = await stop(r);
      await until(() => udpUnread(sink.port) === 0, 10_000, 'the sink reads them');
      const got = await sink.stop();
      expect(got.map((d) => d.seq)).toEqual([0, 2, 4, 6, 8]);
      expect(stats.up).toMatchObject({ received: 10, forwarded: 5, tooBig: 5 });
    } finally {
      sink.child.kill();
    }
  });
});
