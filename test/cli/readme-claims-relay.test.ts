/**
 * README, `udpkit relay`: "`--idle SECONDS` | 60 | A client silent this long loses its upstream
 * socket", and rate-limiting "(`--rate PPS`, `--burst`)", with `--burst` "datagrams let through
 * back to back (default a tenth of a second's worth)" (`relay --help`). The upstream is a Python
 * receiver that reports each datagram's source port, so a new upstream socket shows there.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { killedAfterEach, start, waitForStderr, type Running } from '../helpers/cli.js';
import { whileStopped } from '../helpers/listen-accounting.js';
import { boundUdpPorts } from '../helpers/ports.js';
import { pyReceiver, pySend, type PyReceiver } from '../helpers/py-udp.js';
import { udpUnread } from '../helpers/udp-queues.js';
import { until } from '../helpers/until.js';

const { track } = killedAfterEach();

interface RelayStats {
  readonly up: Record<string, number>;
  readonly down: Record<string, number>;
  readonly sessionsOpened: number;
}

async function startRelay(to: number, args: readonly string[]): Promise<Running & { port: number }> {
  const r = track(start(['relay', '--port', '0', '--to', `127.0.0.1:${to}`, '--json', ...args]));
  const m = await waitForStderr(r, /listening on .*?:(\d+)\/udp/);
  return Object.assign(r, { port: Number(m[1]) });
}

async function stopRelay(r: Running): Promise<RelayStats> {
  r.child.kill('SIGINT');
  const done = await r.done;
  expect(done.code).toBe(0);
  return JSON.parse(done.stdout) as RelayStats;
}

/** One client socket, so that every datagram comes from the same client address and port. */
async function client(): Promise<{ send(text: string, port: number): Promise<void>; close(): void }> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return {
    send: (text, port) => new Promise<void>((resolve, reject) => s.send(text, port, '127.0.0.1', (e) => (e ? reject(e) : resolve()))),
    close: () => s.close(),
  };
}

/** Sends `end` straight to the receiver and waits for it: everything the relay sent came before. */
async function untilEnd(rx: PyReceiver): Promise<string[]> {
  await pySend(rx.port, ['end']);
  await until(() => rx.got.some((d) => d.text === 'end'), 10_000, 'the end marker reaches the receiver');
  return rx.got.map((d) => d.text).filter((t) => t !== 'end');
}

describe('README: relay --idle', () => {
  it('--idle 1: a client silent for 1 s loses its upstream socket; its next datagram comes from a new upstream port', async () => {
    const rx = await pyReceiver({ count: 100 });
    const r = await startRelay(rx.port, ['--idle', '1']);
    const c = await client();
    try {
      await c.send('a', r.port);
      await c.send('b', r.port);
      const [a, b] = await rx.waitFor(2);
      // While the client keeps talking, one upstream socket serves it.
      expect(a!.port).toBe(b!.port);
      const lastAt = performance.now();
      await until(() => !boundUdpPorts().has(a!.port), 10_000, `the relay closes upstream port ${a!.port}`);
      const silent = performance.now() - lastAt;
      console.log(`upstream socket closed after ${silent.toFixed(0)} ms of silence`);
      expect(silent).toBeGreaterThanOrEqual(950);
      expect(silent).toBeLessThan(5000);
      await c.send('c', r.port);
      const [, , cc] = await rx.waitFor(3);
      expect(cc!.text).toBe('c');
      expect(cc!.port).not.toBe(a!.port);
      const stats = await stopRelay(r);
      expect(stats.sessionsOpened).toBe(2);
      expect(stats.up).toMatchObject({ received: 3, forwarded: 3, dropped: 0, rateLimited: 0, queueFull: 0 });
      expect(await untilEnd(rx)).toEqual(['a', 'b', 'c']);
    } finally {
      c.close();
      rx.child.kill('SIGKILL');
    }
  });
});

describe('README: relay --rate with --burst', () => {
  /** Sends `n` datagrams from one client while the relay is stopped, so it reads them all at one moment. */
  async function burstThrough(r: Running & { port: number }, n: number): Promise<void> {
    const c = await client();
    try {
      await whileStopped(r.child, async () => {
        for (let i = 0; i < n; i++) await c.send(`m${i}`, r.port);
      });
      await until(() => udpUnread(r.port) === 0, 10_000, 'the relay reads the burst');
    } finally {
      c.close();
    }
  }

  it('--rate 1 --burst 5: of 20 datagrams at once exactly the first 5 go through, 15 are counted as rate-limited', async () => {
    const rx = await pyReceiver({ count: 100 });
    const r = await startRelay(rx.port, ['--rate', '1', '--burst', '5']);
    try {
      await burstThrough(r, 20);
      await rx.waitFor(5);
      const stats = await stopRelay(r);
      expect(stats.up).toMatchObject({ received: 20, forwarded: 5, rateLimited: 15, dropped: 0, queueFull: 0 });
      expect(await untilEnd(rx)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    } finally {
      rx.child.kill('SIGKILL');
    }
  });

  // A rate whose next token is 500 ms away, so a busy machine cannot blur the count: reading
  // the burst took over 100 ms once, at --rate 10, and let a second datagram through.
  it('--rate 2 without --burst: a tenth of a second\'s worth (rounded up: 1) goes through back to back; 19 are rate-limited', async () => {
    const rx = await pyReceiver({ count: 100 });
    const r = await startRelay(rx.port, ['--rate', '2']);
    try {
      await burstThrough(r, 20);
      await rx.waitFor(1);
      const stats = await stopRelay(r);
      expect(stats.up).toMatchObject({ received: 20, forwarded: 1, rateLimited: 19 });
      expect(await untilEnd(rx)).toEqual(['m0']);
    } finally {
      rx.child.kill('SIGKILL');
    }
  });

  it('--burst without --rate is a usage error: exit 2, one line', async () => {
    const r = track(start(['relay', '--port', '0', '--to', '127.0.0.1:9', '--burst', '5']));
    const done = await r.done;
    expect(done).toMatchObject({ code: 2, stdout: '', stderr: "udpkit: --burst goes with --rate\nhint: see 'udpkit relay --help'\n" });
  });
});
