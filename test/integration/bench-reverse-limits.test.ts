/**
 * What keeps `--reverse` from being a way to make a bench server flood someone: it sends nothing
 * before GO returns the START_ACK's cookie from the session's own address, and it stops sending
 * to a client that goes silent (SILENT_STOP_MS, 2 s), however long the test it announced.
 * The client here is a plain node:dgram socket speaking the frames by hand.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeBenchFrame, encodeBenchFrame, type BenchFrame } from '../../src/protocol/bench-frames.js';
import { SILENT_STOP_MS } from '../../src/transport/bench-server-traffic.js';
import { benchServer, type BenchServer } from '../../src/transport/bench-server.js';

const servers: BenchServer[] = [];
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const s of sockets.splice(0)) s.close();
});

/** A bound socket that records every frame it gets, with when (ms, monotonic). */
async function client(): Promise<{ socket: dgram.Socket; frames: { at: number; frame: BenchFrame }[]; next: (kind: BenchFrame['kind']) => Promise<BenchFrame> }> {
  const socket = dgram.createSocket('udp4');
  sockets.push(socket);
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const frames: { at: number; frame: BenchFrame }[] = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (msg) => {
    const frame = decodeBenchFrame(msg);
    if (frame) frames.push({ at: performance.now(), frame });
    for (const w of waiters.splice(0)) w();
  });
  const next = (kind: BenchFrame['kind']): Promise<BenchFrame> =>
    new Promise((resolve) => {
      const seen = frames.length;
      const look = (): void => {
        const hit = frames.slice(seen).find((f) => f.frame.kind === kind);
        if (hit) resolve(hit.frame);
        else waiters.push(look);
      };
      look();
    });
  return { socket, frames, next };
}

describe('bench server: its own traffic (--reverse)', () => {
  it('sends nothing before GO brings back the cookie, and starts at seq 0 once it does', async () => {
    const server = await benchServer({ address: '127.0.0.1', port: 0 });
    servers.push(server);
    const port = server.address().port;
    const c = await client();
    c.socket.send(encodeBenchFrame({ kind: 'start', session: 9n, length: 64, durationMs: 300, rate: 1000, direction: 'reverse' }), port, '127.0.0.1');
    const ack = (await c.next('start-ack')) as Extract<BenchFrame, { kind: 'start-ack' }>;
    expect(ack.cookie).toBeTypeOf('bigint');
    // A wrong cookie, then (after its answer would have come) the right one.
    c.socket.send(encodeBenchFrame({ kind: 'go', session: 9n, cookie: ack.cookie! ^ 1n }), port, '127.0.0.1');
    c.socket.send(encodeBenchFrame({ kind: 'sent-request', session: 9n }), port, '127.0.0.1');
    expect(await c.next('sent')).toMatchObject({ sent: 0, final: false });
    expect(c.frames.filter((f) => f.frame.kind === 'data')).toHaveLength(0);
    c.socket.send(encodeBenchFrame({ kind: 'go', session: 9n, cookie: ack.cookie! }), port, '127.0.0.1');
    const first = await c.next('data');
    expect(first).toMatchObject({ kind: 'data', session: 9n, seq: 0, length: 64 });
  });

  it(`stops sending to a client silent for ${SILENT_STOP_MS} ms, long before the test it asked for ends`, async () => {
    const server = await benchServer({ address: '127.0.0.1', port: 0 });
    servers.push(server);
    const port = server.address().port;
    const c = await client();
    // 60 s asked for, at 1000/s.
    c.socket.send(encodeBenchFrame({ kind: 'start', session: 5n, length: 64, durationMs: 60_000, rate: 1000, direction: 'reverse' }), port, '127.0.0.1');
    const ack = (await c.next('start-ack')) as Extract<BenchFrame, { kind: 'start-ack' }>;
    c.socket.send(encodeBenchFrame({ kind: 'go', session: 5n, cookie: ack.cookie! }), port, '127.0.0.1');
    const silentFrom = performance.now();
    await c.next('data');
    // Then silence: wait until the data stops (a gap of 500 ms, 500 datagrams' worth), at most 10 s.
    const stoppedAt = await new Promise<number>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('the server was still sending after 10 s')), 10_000);
      const watch = setInterval(() => {
        const last = c.frames.at(-1)!.at;
        if (performance.now() - last < 500) return;
        clearInterval(watch);
        clearTimeout(deadline);
        resolve(last);
      }, 50);
    });
    const data = c.frames.filter((f) => f.frame.kind === 'data').length;
    // It stopped after about 2 s of silence (a little more on a busy machine), not 60 s.
    expect(stoppedAt - silentFrom).toBeGreaterThanOrEqual(SILENT_STOP_MS - 50);
    expect(stoppedAt - silentFrom).toBeLessThan(SILENT_STOP_MS + 2000);
    expect(data).toBeLessThanOrEqual(Math.ceil(stoppedAt - silentFrom) + 5);
    expect(data).toBeGreaterThan(1000);
  });
});
