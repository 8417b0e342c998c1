/** End to end: `udpkit relay` between real clients and `udpkit listen`, on loopback. */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/protocol/impairment-decide.js';
import { validateImpairment } from '../../src/protocol/impairment-options.js';
import { seededRandom } from '../../src/protocol/seeded-random.js';
import { runCli, start, startListener, waitForLines, waitForStderr, type Running, killedAfterEach } from '../helpers/cli.js';

const { track } = killedAfterEach();

async function listener(args: string[]): Promise<Running & { port: number }> {
  const l = await startListener(args);
  track(l);
  return l;
}

async function startRelay(to: number, args: string[] = []): Promise<Running & { port: number }> {
  const r = start(['relay', '--port', '0', '--to', `127.0.0.1:${to}`, '--json', ...args]);
  track(r);
  const m = await waitForStderr(r, /listening on .*?:(\d+)\/udp/);
  return Object.assign(r, { port: Number(m[1]) });
}

/** Stops a relay with SIGINT and reads its JSON summary. */
async function stop(r: Running): Promise<{ up: Record<string, number>; down: Record<string, number>; seed: number; sessionsOpened: number }> {
  r.child.kill('SIGINT');
  const done = await r.done;
  expect(done.code).toBe(0);
  return JSON.parse(done.stdout) as never;
}

const numbers = (n: number): string => Array.from({ length: n }, (_, i) => `${i}\n`).join('');
const texts = (stdout: string): string[] => stdout.split('\n').filter((l) => l !== '').map((l) => /^received message: (.*) from PORT/.exec(l)?.[1] ?? l);

/** A node:dgram client that sends `messages` to `port` and resolves with the first `expect` replies (10 s at most). */
async function client(port: number, messages: readonly string[], expect: number): Promise<string[]> {
  const socket = dgram.createSocket('udp4');
  const got: string[] = [];
  const enough = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    socket.on('message', (m) => {
      got.push(m.toString());
      if (got.length === expect) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  for (const m of messages) socket.send(m, port, '127.0.0.1');
  await enough;
  socket.close();
  return got;
}

describe('udpkit relay', () => {
  it('forwards 200 datagrams in order with no impairment, and counts them', async () => {
    const l = await listener(['-n', '200', '--no-stop-word']);
    const r = await startRelay(l.port);
    expect(r.stderr).toMatch(/^listening on \*:\d+\/udp; relaying to 127\.0\.0\.1:\d+\/udp; no impairment; seed \d+\n$/);
    expect((await runCli(['send', `127.0.0.1:${r.port}`, '-q'], { input: numbers(200) })).code).toBe(0);
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(texts(done.stdout)).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
    const stats = await stop(r);
    expect(stats.up).toEqual({ received: 200, forwarded: 200, dropped: 0, duplicated: 0, reordered: 0, rateLimited: 0, queueFull: 0, corrupted: 0, tailDropped: 0, tooBig: 0, failed: 0, refused: 0 });
    expect(stats.sessionsOpened).toBe(1);
  });

  it('with --loss 0.5 --seed 1 lets through about half, exactly those the core picks for seed 1; the counts add up', async () => {
    // The same decisions as the relay's core makes, one per datagram in arrival order.
    const settings = validateImpairment({ loss: 0.5 });
    const random = seededRandom(1);
    const expected = Array.from({ length: 200 }, (_, i) => (decide(settings, random).lost ? undefined : String(i))).filter((x) => x !== undefined);
    expect(expected.length).toBeGreaterThan(70);
    expect(expected.length).toBeLessThan(130);

    const l = await listener(['--no-stop-word']);
    const r = await startRelay(l.port, ['--loss', '0.5', '--seed', '1']);
    expect(r.stderr).toContain('; loss 50%; seed 1\n');
    await runCli(['send', `127.0.0.1:${r.port}`, '-q'], { input: numbers(200) });
    expect(texts((await waitForLines(l, expected.length)).join('\n'))).toEqual(expected);
    const { up, seed } = await stop(r);
    expect(seed).toBe(1);
    expect(up).toMatchObject({ received: 200, forwarded: expected.length, dropped: 200 - expected.length });
  });

  it('sends each reply back to the client that asked, for two clients at once', async () => {
    const l = await listener(['--echo', '--no-stop-word']);
    const r = await startRelay(l.port);
    const [a, b] = await Promise.all([
      runCli(['send', `127.0.0.1:${r.port}`, 'alpha', '-w', '5', '-q']),
      runCli(['send', `127.0.0.1:${r.port}`, 'beta', '-w', '5', '-q']),
    ]);
    expect(a.stdout).toBe(`received message: alpha from PORT ${r.port} on 127.0.0.1\n`);
    expect(b.stdout).toBe(`received message: beta from PORT ${r.port} on 127.0.0.1\n`);
    const [x, y] = await Promise.all([client(r.port, ['x1', 'x2', 'x3'], 3), client(r.port, ['y1', 'y2', 'y3'], 3)]);
    expect(x).toEqual(['x1', 'x2', 'x3']);
    expect(y).toEqual(['y1', 'y2', 'y3']);
    const stats = await stop(r);
    expect(stats.sessionsOpened).toBe(4);
    expect(stats.down).toMatchObject({ received: 8, forwarded: 8 });
  });

  it('--delay 200 holds datagrams back at least 200 ms each way', async () => {
    const l = await listener(['--echo', '--no-stop-word']);
    const r = await startRelay(l.port, ['--delay', '200']);
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const sentAt = performance.now();
    socket.send('slow', r.port, '127.0.0.1');
    await once(socket, 'message');
    const rtt = performance.now() - sentAt;
    socket.close();
    expect(rtt).toBeGreaterThanOrEqual(400);
    expect(rtt).toBeLessThan(5000);
    await waitForLines(l, 1);
    await stop(r);
  });

  it('with --dup 1 --up-only sends every datagram twice one way only', async () => {
    const l = await listener(['--echo', '--no-stop-word']);
    const r = await startRelay(l.port, ['--dup', '1', '--up-only']);
    expect(r.stderr).toContain('; dup 100% (up only);');
    expect(await client(r.port, ['twice'], 2)).toEqual(['twice', 'twice']);
    const { up, down } = await stop(r);
    expect(up).toMatchObject({ received: 1, forwarded: 1, duplicated: 1 });
    expect(down).toMatchObject({ received: 2, forwarded: 2, duplicated: 0 });
  });

  it('exits 2 on usage errors and 1 with one line when it cannot bind', async () => {
    const bad = await runCli(['relay', '--port', '0', '--to', '127.0.0.1:9', '--loss', '2']);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toContain('udpkit: --loss must be a rate from 0 to 1 (or 0% to 100%), got "2"\n');
    for (const args of [['--port', '0'], ['--port', '0', '--to', '127.0.0.1'], ['--port', '70000', '--to', '127.0.0.1:9'], ['--port', '0', '--to', '127.0.0.1:9', '--jitter', 'x']]) {
      expect((await runCli(['relay', ...args])).code).toBe(2);
    }
    const l = await listener([]);
    const busy = await runCli(['relay', '--port', String(l.port), '--to', '127.0.0.1:9']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toBe(`udpkit: cannot bind [::]:${l.port}/udp: port ${l.port}/udp is already in use\n`);
  });
});
