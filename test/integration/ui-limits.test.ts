/**
 * `udpkit ui`'s limits against a hostile client: request bodies capped (413), broken JSON refused
 * (400) on every JSON endpoint, broadcast addresses refused unless asked, and event streams
 * capped, resumable and never able to keep the process alive. Loopback only; nothing broadcast.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directedBroadcast } from '../../src/net/broadcast-address.js';
import { readEvents, stalledClient, type SseReader } from '../helpers/sse.js';
import { startUi, type RunningUi } from '../helpers/ui.js';

const MAX_BODY = 256 * 1024;
const MAX_STREAMS = 32;

/** POSTs `body` without a Content-Length (chunked, in 16 KiB pieces) and resolves with the status. */
function postChunked(ui: RunningUi, path: string, body: Buffer): Promise<number> {
  const u = new URL(ui.base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'POST', headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // The server answers before it has read everything (that is the point), then may close the
    // connection on the rest: an error after the answer is expected, one before it is a failure.
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('error', (err) => (answered ? undefined : reject(err)));
    for (let at = 0; at < body.length; at += 16 * 1024) req.write(body.subarray(at, at + 16 * 1024));
    req.end();
  });
}

async function udpSender(): Promise<UdpSocket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}
const sendUdp = (s: UdpSocket, text: string, port: number): Promise<void> =>
  new Promise((resolve, reject) => s.send(text, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));

describe('udpkit ui request limits', () => {
  let ui: RunningUi;
  beforeAll(async () => {
    ui = await startUi();
  });
  afterAll(async () => {
    await ui?.stop();
  });

  it('answers malformed or non-object JSON with 400 on every JSON endpoint, and does nothing', async () => {
    const bodies = ['{"port":', '', '[]', 'null', '"x"', '{"port": 0,}', '{"host": "127.0.0.1"'];
    for (const path of ['/api/listeners', '/api/send', '/api/saved']) {
      for (const body of bodies) {
        const res = await ui.api(path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        expect({ path, body, status: res.status }).toEqual({ path, body, status: 400 });
        expect(((await res.json()) as { error: string }).error).toMatch(/JSON/);
      }
    }
    expect(await (await ui.api('/api/listeners')).json()).toEqual([]);
    expect(await (await ui.api('/api/saved')).json()).toEqual([]);
  });

  it(`refuses a body over ${MAX_BODY} bytes with 413, with or without Content-Length, and accepts one at the limit`, async () => {
    const message = (total: number): string => {
      const head = { name: 'big', host: '127.0.0.1', port: 5000, mode: 'text', payload: '' };
      return JSON.stringify({ ...head, payload: 'a'.repeat(total - JSON.stringify(head).length) });
    };
    const over = message(MAX_BODY + 1);
    expect(over.length).toBe(MAX_BODY + 1);
    const res = await ui.api('/api/saved', { method: 'POST', body: over, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: `request body larger than ${MAX_BODY} bytes` });
    expect(await postChunked(ui, '/api/saved', Buffer.from(over))).toBe(413);
    expect(await postChunked(ui, '/api/saved', Buffer.alloc(8 * 1024 * 1024, 'a'))).toBe(413);
    expect(existsSync(join(ui.configHome, 'udpkit', 'saved.json'))).toBe(false);

    const at = message(MAX_BODY);
    expect((await ui.api('/api/saved', { method: 'POST', body: at, headers: { 'content-type': 'application/json' } })).status).toBe(201);
    const kept = JSON.parse(readFileSync(join(ui.configHome, 'udpkit', 'saved.json'), 'utf8')) as { payload: string }[];
    expect(kept.map((m) => m.payload.length)).toEqual([JSON.parse(at).payload.length]);
    expect((await ui.api('/api/saved/big', { method: 'DELETE' })).status).toBe(200);
  });

  it('refuses a send to a broadcast address unless Broadcast is ticked (400, nothing sent)', async () => {
    const targets = new Set(['255.255.255.255', '::ffff:255.255.255.255']);
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (a.family === 'IPv4') targets.add(directedBroadcast(a.address, a.netmask) ?? '255.255.255.255');
    }
    expect(targets.size).toBeGreaterThan(2); // lo's 127.255.255.255 at least
    for (const host of targets) {
      for (const extra of [{}, { broadcast: false }, { ack: true }]) {
        const res = await ui.api('/api/send', { method: 'POST', json: { host, port: 9, payload: 'nope', mode: 'text', ...extra } });
        expect({ host, extra, status: res.status }).toEqual({ host, extra, status: 400 });
        expect(((await res.json()) as { error: string }).error).toMatch(/is a broadcast address: tick Broadcast to send there$/);
      }
    }
  });
});

describe('udpkit ui event streams', () => {
  let ui: RunningUi;
  let udp: UdpSocket;
  let port: number;
  const streams: SseReader[] = [];
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${ui.token}` });
  const openStreams = async (): Promise<number> => ((await (await ui.api('/api/log')).json()) as { streams: { open: number } }).streams.open;

  beforeAll(async () => {
    ui = await startUi();
    const res = await ui.api('/api/listeners', { method: 'POST', json: { port: 0, address: '127.0.0.1' } });
    port = ((await res.json()) as { port: number }).port;
    udp = await udpSender();
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    udp?.close();
    await ui?.stop();
  });

  it('resumes a reconnecting stream after its Last-Event-ID, without repeats or gaps', async () => {
    for (let i = 1; i <= 5; i++) await sendUdp(udp, `m${i}`, port);
    const first = await readEvents(`${ui.base}/api/events`, auth());
    await first.until((e) => e.id === '5');
    await first.close();
    for (let i = 6; i <= 8; i++) await sendUdp(udp, `m${i}`, port);
    const again = await readEvents(`${ui.base}/api/events`, { ...auth(), 'last-event-id': '5' });
    await again.until((e) => e.id === '8');
    const texts = again.events.filter((e) => e.event === 'datagram').map((e) => (JSON.parse(e.data) as { text: string }).text);
    expect(texts).toEqual(['m6', 'm7', 'm8']);
    expect(again.events.map((e) => e.event)).toEqual(['ready', 'datagram', 'datagram', 'datagram']);
    expect(JSON.parse(again.events[0]!.data)).toEqual({ resumed: true, oldestId: 1, newestId: 8, evicted: 0 });
    await again.close();
    // An id this server never issued (a restarted UI) starts from the beginning.
    const fresh = await readEvents(`${ui.base}/api/events`, { ...auth(), 'last-event-id': '999' });
    await fresh.until((e) => e.id === '8');
    expect(fresh.events.filter((e) => e.event === 'datagram').map((e) => e.id)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    await fresh.close();
  });

  it(`caps open streams at ${MAX_STREAMS} (503 past it) while the API and every open stream keep up`, async () => {
    await expect.poll(openStreams, { timeout: 10_000 }).toBe(0);
    const attempts = await Promise.all(Array.from({ length: 100 }, () => readEvents(`${ui.base}/api/events`, auth())));
    const open = attempts.filter((s) => s.status === 200);
    const refused = attempts.filter((s) => s.status === 503);
    streams.push(...open);
    expect([open.length, refused.length]).toEqual([MAX_STREAMS, 100 - MAX_STREAMS]);
    await Promise.all(refused.map((s) => s.ended));
    const res = await ui.api('/api/events');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toEqual({ error: `too many event streams open (${MAX_STREAMS}); close another page and reload` });

    const newest = 8 + 300;
    const sending = (async () => {
      for (let i = 9; i <= newest; i++) await sendUdp(udp, `n${i}`, port);
    })();
    const t0 = performance.now();
    expect((await ui.api('/api/listeners')).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(1000);
    await sending;
    await Promise.all(open.map((s) => s.until((e) => e.id === String(newest))));
    for (const s of open) expect(s.events.filter((e) => e.event === 'datagram').map((e) => Number(e.id))).toEqual(Array.from({ length: newest }, (_, i) => i + 1));
    const listener = ((await (await ui.api('/api/listeners')).json()) as { received: number; kernelDropped: number }[])[0]!;
    expect(listener.received + listener.kernelDropped).toBe(newest);

    // A closed stream frees its place.
    await open[0]!.close();
    await expect.poll(openStreams, { timeout: 10_000 }).toBe(MAX_STREAMS - 1);
    const next = await readEvents(`${ui.base}/api/events`, auth());
    streams.push(next);
    expect(next.status).toBe(200);
  });
});

describe('udpkit ui stopping', () => {
  it('exits 0 promptly on the first SIGTERM with reading and stalled streams open and a slow send under way', async () => {
    const ui = await startUi();
    const res = await ui.api('/api/listeners', { method: 'POST', json: { port: 0, address: '127.0.0.1' } });
    const { port } = (await res.json()) as { port: number };
    const readers = await Promise.all([1, 2, 3].map(() => readEvents(`${ui.base}/api/events`, { authorization: `Bearer ${ui.token}` })));
    const stalled = await Promise.all([1, 2].map(() => stalledClient(Number(new URL(ui.base).port), `/api/events?token=${ui.token}`)));
    await expect.poll(async () => ((await (await ui.api('/api/log')).json()) as { streams: { open: number } }).streams.open, { timeout: 10_000 }).toBe(5);
    const udp = await udpSender();
    const big = 'x'.repeat(60_000);
    for (let i = 0; i < 200; i++) await sendUdp(udp, big, port);
    await Promise.all(readers.map((r) => r.until((e) => e.event === 'datagram')));
    // A send of 5 datagrams 30 s apart: under way once the first one is here.
    const first = new Promise((resolve) => udp.once('message', resolve));
    const slow = ui
      .api('/api/send', { method: 'POST', json: { host: '127.0.0.1', port: udp.address().port, payload: 'slow', count: 5, intervalMs: 30_000 } })
      .then((r) => r.status, () => 'cut off');
    await first;
    const t0 = performance.now();
    ui.proc.child.kill('SIGTERM');
    const done = await ui.proc.done;
    const ms = performance.now() - t0;
    expect({ code: done.code, signal: done.signal }).toEqual({ code: 0, signal: null });
    expect(ms).toBeLessThan(3000);
    await Promise.all(readers.map((r) => r.ended));
    expect(await slow).toBe('cut off');
    udp.close();
    for (const s of stalled) s.destroy();
    await ui.stop();
  });
});
