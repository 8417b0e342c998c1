import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTRY_OVERHEAD } from '../../src/protocol/memory-budget.js';
import { EventLog } from '../../src/ui/event-log.js';
import { DISPLAY_BYTES, exportLine } from '../../src/ui/log-entry.js';
import { parseEvents } from '../helpers/sse.js';

const from = { address: '192.0.2.7', port: 4000, family: 'IPv4' as const };
const datagram = (data: Buffer | string, receivedAt = Date.UTC(2024, 0, 2, 3, 4, 5, 678)) => ({
  listenerId: 1,
  port: 5000,
  receivedAt,
  from,
  data: typeof data === 'string' ? Buffer.from(data) : data,
});
/** The JSON an entry's event carries. */
const shown = (event: Buffer): Record<string, unknown> => {
  const [e] = parseEvents(event.toString('utf8')).events;
  return JSON.parse(e!.data) as Record<string, unknown>;
};

describe('EventLog', () => {
  it('numbers entries 1, 2, 3 and frames each as one server-sent event with that id', () => {
    const log = new EventLog();
    const a = log.add(datagram('hello\x01'));
    const b = log.add(datagram('again'));
    expect([a.id, b.id, log.oldestId, log.newestId, log.size]).toEqual([1, 2, 1, 2, 2]);
    expect(a.event.toString()).toMatch(/^id: 1\nevent: datagram\ndata: \{.*\}\n\n$/);
    expect(shown(a.event)).toEqual({
      id: 1,
      evicted: 0,
      listenerId: 1,
      port: 5000,
      time: '2024-01-02T03:04:05.678Z',
      from,
      size: 6,
      text: 'hello\\x01',
      hex: '68656c6c6f01',
      truncated: false,
    });
    expect(log.get(2)).toBe(b);
    expect(log.get(3)).toBeUndefined();
  });

  it('lets the oldest go past its entry bound, counts them, and says so in later events', () => {
    const log = new EventLog({ maxEntries: 3 });
    for (let i = 1; i <= 5; i++) log.add(datagram(`m${i}`));
    expect(log.stats()).toMatchObject({ entries: 3, evicted: 2, oldestId: 3, newestId: 5 });
    expect(log.get(2)).toBeUndefined();
    expect(shown(log.get(5)!.event)).toMatchObject({ id: 5, evicted: 2, text: 'm5' });
  });

  it('lets the oldest go past its byte bound, charging payload, event and overhead', () => {
    const payload = Buffer.alloc(10_000, 0x41);
    const one = new EventLog().add(datagram(payload));
    const cost = payload.length + one.event.length + ENTRY_OVERHEAD;
    const log = new EventLog({ maxBytes: 3 * cost + 100 });
    for (let i = 0; i < 10; i++) log.add(datagram(payload));
    expect(log.stats()).toMatchObject({ entries: 3, evicted: 7, oldestId: 8, newestId: 10 });
    expect(log.stats().bytes).toBeLessThanOrEqual(3 * cost + 100);
  });

  it('counts a datagram larger than the whole budget as let go at once', () => {
    const log = new EventLog({ maxBytes: 4096 });
    log.add(datagram('small'));
    const big = log.add(datagram(Buffer.alloc(8000)));
    expect(log.stats()).toMatchObject({ entries: 0, evicted: 2, oldestId: 3, newestId: 2, bytes: 0 });
    expect(log.get(big.id)).toBeUndefined();
    const next = log.add(datagram('next'));
    expect([next.id, log.size, log.oldestId]).toEqual([3, 1, 3]);
  });

  it('never holds more than its bounds, and keeps ids consecutive, whatever arrives', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 200 }), fc.integer({ min: 1, max: 20 }), (sizes, maxEntries) => {
        const log = new EventLog({ maxEntries, maxBytes: 20_000 });
        for (const n of sizes) log.add(datagram(Buffer.alloc(n, 0x61)));
        const s = log.stats();
        expect(s.entries).toBeLessThanOrEqual(maxEntries);
        expect(s.bytes).toBeLessThanOrEqual(20_000);
        expect(s.entries + s.evicted).toBe(sizes.length);
        for (let id = s.oldestId; id <= s.newestId; id++) expect(log.get(id)?.id).toBe(id);
      }),
    );
  });

  it(`shows the first ${DISPLAY_BYTES} bytes of a long payload as flat text and hex, and exports it whole`, () => {
    const data = Buffer.alloc(65_507);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
    data[0] = 0xff;
    const e = new EventLog().add(datagram(data));
    const s = shown(e.event) as { text: string; hex: string; truncated: boolean; size: number };
    expect(s).toMatchObject({ size: 65_507, truncated: true, hex: data.toString('hex', 0, DISPLAY_BYTES) });
    expect(s.text.startsWith('\\xff')).toBe(true);
    // Under 4 characters a byte however hostile, so the event stays a few kilobytes.
    expect(e.event.length).toBeLessThan(4 * DISPLAY_BYTES + 2 * DISPLAY_BYTES + 400);
    const line = JSON.parse(exportLine(e)) as { id: number; size: number; hex: string; text: string };
    expect(line).toMatchObject({ id: 1, size: 65_507, hex: data.toString('hex') });
    expect(line.text.length).toBeGreaterThan(65_507);
  });
});
