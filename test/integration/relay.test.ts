/** relay() over real loopback sockets: an echo server upstream, node:dgram clients in front. */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { relay, type Relay, type RelayOptions } from '../../src/transport/relay.js';
import { rejection } from '../helpers/thrown.js';

/** A socket that keeps every message it gets, and can wait for a number of them. */
interface Peer {
  readonly socket: dgram.Socket;
  readonly port: number;
  readonly got: string[];
  /** Resolves when `n` messages have come (rejects after 10 s). */
  wait(n: number): Promise<string[]>;
}

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

async function peer(type: 'udp4' | 'udp6' = 'udp4', echo = false): Promise<Peer> {
  const socket = dgram.createSocket(type);
  const got: string[] = [];
  let waiter: (() => void) | undefined;
  socket.on('message', (m, from) => {
    got.push(m.toString());
    if (echo) socket.send(m, from.port, from.address);
    waiter?.();
  });
  socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1');
  await once(socket, 'listening');
  cleanup.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const wait = (n: number): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${n}: ${got.join(',')}`)), 10_000);
      waiter = () => {
        if (got.length < n) return;
        clearTimeout(timer);
        resolve(got.slice(0, n));
      };
      waiter();
    });
  return { socket, port: socket.address().port, got, wait };
}

async function started(upstream: Peer, options: Omit<RelayOptions, 'upstream'> = {}, host = '127.0.0.1'): Promise<Relay> {
  const r = await relay({ upstream: { host, port: upstream.port }, ...options });
  cleanup.push(() => r.close());
  return r;
}

/** Polls `condition` every 20 ms; fails after 5 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`still false after 5 s: ${condition.toString()}`);
}

const sendAll = (from: Peer, r: Relay, messages: readonly string[]): void => {
  for (const m of messages) from.socket.send(m, r.address().port, '127.0.0.1');
};

describe('relay()', () => {
  it('with reorder 1 lets every second datagram overtake the one before, on real sockets', async () => {
    const up = await peer();
    const r = await started(up, { reorder: 1, seed: 3 });
    const c = await peer();
    sendAll(c, r, ['a', 'b', 'c', 'd']);
    expect(await up.wait(4)).toEqual(['b', 'a', 'd', 'c']);
    expect(r.stats.up).toMatchObject({ received: 4, forwarded: 4, reordered: 2 });
    expect(r.seed).toBe(3);
  });

  it('sends what it still holds when closed, and closes on abort', async () => {
    const up = await peer();
    const controller = new AbortController();
    const r = await started(up, { delayMs: 60_000, signal: controller.signal });
    const c = await peer();
    sendAll(c, r, ['late']);
    await until(() => r.stats.up.received === 1);
    // Held for a minute; the abort sends it now.
    expect(up.got).toEqual([]);
    controller.abort();
    expect(await up.wait(1)).toEqual(['late']);
    await r.close();
    expect(r.state).toBe('closed');
    expect(r.stats).toMatchObject({ kernelDropped: 0, up: { received: 1, forwarded: 1, queueFull: 0 } });
  });

  it('refuses an upstream that is its own port on this machine (it would loop), before binding', async () => {
    const taken = await peer();
    for (const host of ['127.0.0.1', '::ffff:127.0.0.1', '0.0.0.0']) {
      const err = await rejection(relay({ upstream: { host, port: taken.port }, port: taken.port }));
      expect(err).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
      expect((err as Error).message).toBe(`the upstream ${host.includes(':') ? `[${host}]` : host}:${taken.port} is this relay's own port ${taken.port} on this machine: datagrams would go round in a loop`);
    }
  });

  it('rate-limits with a token bucket and counts what it refused', async () => {
    const up = await peer();
    const r = await started(up, { rate: 1, burst: 5 });
    const c = await peer();
    sendAll(c, r, Array.from({ length: 20 }, (_, i) => String(i)));
    expect(await up.wait(5)).toEqual(['0', '1', '2', '3', '4']);
    await r.close();
    expect(r.stats.up).toMatchObject({ received: 20, forwarded: 5, rateLimited: 15 });
  });

  it('relays to an IPv6 upstream and back, and gives a new client the place of the longest silent one', async () => {
    const up = await peer('udp6', true);
    const r = await started(up, { maxSessions: 1 }, '::1');
    expect(r.upstream).toMatchObject({ address: '::1', family: 6 });
    const a = await peer();
    const b = await peer();
    sendAll(a, r, ['from a']);
    expect(await a.wait(1)).toEqual(['from a']);
    sendAll(b, r, ['from b']);
    expect(await b.wait(1)).toEqual(['from b']);
    expect(r.stats).toMatchObject({ sessions: 1, sessionsOpened: 2 });
    sendAll(a, r, ['a again']);
    expect(await a.wait(2)).toEqual(['from a', 'a again']);
    expect(b.got).toEqual(['from b']);
  });

  it('forgets a client after the idle timeout', async () => {
    const up = await peer();
    const r = await started(up, { idleTimeoutMs: 1000 });
    const c = await peer();
    sendAll(c, r, ['hello']);
    await up.wait(1);
    expect(r.stats.sessions).toBe(1);
    await until(() => r.stats.sessions === 0);
  });

  it('refuses bad options with coded errors before binding anything', async () => {
    const up = await peer();
    expect(await rejection(relay({ upstream: { host: '127.0.0.1', port: 0 } }))).toMatchObject({ code: 'UDPKIT_INVALID_PORT' });
    expect(await rejection(relay({ upstream: { host: '127.0.0.1', port: up.port }, loss: 2 }))).toBeInstanceOf(RangeError);
    expect(await rejection(relay({ upstream: { host: 'bad host', port: up.port } }))).toMatchObject({ code: 'UDPKIT_INVALID_HOST' });
    expect(await rejection(relay({ upstream: { host: '127.0.0.1', port: up.port }, seed: -1 }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
  });
});
