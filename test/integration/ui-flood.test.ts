/**
 * `udpkit ui` under a flood of the worst datagrams for it (64 KiB, not UTF-8) with a frozen tab
 * attached: it stays up and bounded, lets the oldest log entries go (and says how many), drops
 * the frozen stream, and accounts for every datagram sent. Loopback only.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { procMemory } from '../helpers/proc-memory.js';
import { dechunk, drain, parseEvents, readEvents, stalledClient } from '../helpers/sse.js';
import { startUi, type RunningUi } from '../helpers/ui.js';
import { askUntil, floodUi, listenerOn, MAX_PAYLOAD as SIZE } from '../helpers/ui-flood.js';

const FLOOD = 1_600;
interface LogReport {
  entries: number;
  bytes: number;
  maxBytes: number;
  evicted: number;
  oldestId: number;
  newestId: number;
  streams: { open: number; dropped: number };
  exports: { open: number; max: number };
}

describe('udpkit ui under a flood of 64 KiB non-UTF-8 datagrams', () => {
  let ui: RunningUi;
  let stalled: Socket;
  let port: number;

  const json = async <T>(path: string): Promise<T> => {
    const res = await ui.api(path);
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };
  const listener = () => listenerOn(ui, port);

  beforeAll(async () => {
    ui = await startUi();
    const res = await ui.api('/api/listeners', { method: 'POST', json: { port: 0, address: '127.0.0.1' } });
    expect(res.status).toBe(201);
    port = ((await res.json()) as { port: number }).port;
    stalled = await stalledClient(Number(new URL(ui.base).port), `/api/events?token=${ui.token}`);
    await askUntil(() => json<LogReport>('/api/log'), (l) => l.streams.open === 1);
  });
  afterAll(async () => {
    stalled?.destroy();
    await ui?.stop();
  });

  it(`stays alive and under 300 MB through ${FLOOD} datagrams of ${SIZE} bytes, paced by what it has taken`, async () => {
    const sent = FLOOD;
    await floodUi(ui, port, { count: FLOOD, between: () => expect(ui.proc.child.exitCode).toBeNull() });
    const l = await listener();
    const log = await json<LogReport>('/api/log');
    const mem = procMemory(ui.proc.child.pid!);
    console.log(
      `ui flood: sent ${sent}, received ${l.received}, kernel dropped ${l.kernelDropped}, log ${log.entries} entries ${log.bytes} bytes, evicted ${log.evicted}, VmHWM ${(mem.hwm / 2 ** 20).toFixed(0)} MiB, VmRSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB`,
    );
    // Every datagram is accounted for: in the log, let go by the log, or dropped by the kernel.
    expect(l.kernelDropped).not.toBeNull();
    expect(l.received + l.kernelDropped!).toBe(sent);
    expect(log.entries + log.evicted).toBe(l.received);
    expect(log.newestId).toBe(l.received);
    expect(log.evicted).toBeGreaterThan(0);
    expect(log.bytes).toBeLessThanOrEqual(log.maxBytes);
    expect(mem.hwm).toBeLessThan(300 * 2 ** 20);
  }, 180_000);

  it('still answers the API quickly, and has dropped the stalled stream', async () => {
    const t0 = performance.now();
    await listener();
    expect(performance.now() - t0).toBeLessThan(1000);
    const log = await json<LogReport>('/api/log');
    expect(log.streams).toMatchObject({ open: 0, dropped: 1 });
    // The server closed it: what the frozen tab had been sent is a prefix of the log, then the end.
    const got = parseEvents(dechunk(await drain(stalled)).toString('utf8')).events;
    const ids = got.filter((e) => e.event === 'datagram').map((e) => Number(e.id));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
  });

  it('tells a stream resuming from an evicted id how many it missed, then carries on from the oldest kept', async () => {
    const log = await json<LogReport>('/api/log');
    const stream = await readEvents(`${ui.base}/api/events`, { authorization: `Bearer ${ui.token}`, 'last-event-id': '1' });
    expect(stream.status).toBe(200);
    await stream.until((e) => e.event === 'datagram');
    const [ready, missed, first] = stream.events;
    expect(ready).toMatchObject({ event: 'ready' });
    expect(JSON.parse(ready!.data)).toEqual({ resumed: true, oldestId: log.oldestId, newestId: log.newestId, evicted: log.evicted });
    expect(missed).toMatchObject({ event: 'missed' });
    expect(JSON.parse(missed!.data)).toEqual({ count: log.oldestId - 2, next: log.oldestId });
    expect(first).toMatchObject({ event: 'datagram', id: String(log.oldestId) });
    const shown = JSON.parse(first!.data) as { size: number; hex: string; truncated: boolean; evicted: number };
    expect(shown).toMatchObject({ size: SIZE, truncated: true });
    expect(shown.hex).toHaveLength(2 * 1024);
    await stream.close();
  });

  it('runs at most 4 exports at once; one never read holds a line, not the log', async () => {
    const path = `/api/log/export?token=${ui.token}`;
    const stuck = await Promise.all([1, 2, 3, 4].map(() => stalledClient(Number(new URL(ui.base).port), path)));
    try {
      await askUntil(() => json<LogReport>('/api/log'), (l) => l.exports.open === 4);
      const refused = await ui.api('/api/log/export');
      expect(refused.status).toBe(503);
      expect(await refused.json()).toEqual({ error: 'too many exports running (4); wait for one to finish' });
      const mem = procMemory(ui.proc.child.pid!);
      console.log(`ui with 4 stalled exports: VmRSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB, VmHWM ${(mem.hwm / 2 ** 20).toFixed(0)} MiB`);
      expect(mem.rss).toBeLessThan(300 * 2 ** 20);
      stuck.pop()!.destroy();
      await askUntil(() => json<LogReport>('/api/log'), (l) => l.exports.open === 3);
      const log = await json<LogReport>('/api/log');
      const res = await ui.api(`/api/log/export?after=${log.oldestId - 1}&through=${log.oldestId + 9}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="udpkit-log.jsonl"');
      const lines = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: number; size: number; hex: string });
      expect(lines.map((l) => l.id)).toEqual(Array.from({ length: 10 }, (_, i) => log.oldestId + i));
      for (const l of lines) expect([l.size, l.hex.length, l.hex.slice(0, 2)]).toEqual([SIZE, 2 * SIZE, 'ff']);
    } finally {
      for (const s of stuck) s.destroy();
    }
  });
});
