/**
 * CaptureWriter to a file, with more than its buffers hold (several megabytes, written while the
 * next batches are encoded): tcpdump reads back every datagram, in order, byte for byte.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CaptureWriter } from '../../src/transport/capture-writer.js';
import { tcpdumpRead } from '../helpers/tcpdump-read.js';

/** A batch of `n` datagrams of `size` bytes, each starting with its number. */
function batch(first: number, n: number, size: number) {
  const data = Buffer.alloc(n * size, 0x2e);
  for (let i = 0; i < n; i++) data.write(String(first + i).padStart(8, '0'), i * size);
  return {
    count: n,
    data,
    starts: Uint32Array.from({ length: n }, (_, i) => i * size),
    lengths: new Uint32Array(n).fill(size),
    ports: new Uint16Array(n).fill(40000),
    senders: Uint8Array.from({ length: n }, (_, i) => i % 2),
    addresses: ['127.0.0.1', '::1'],
    receivedAt: 1700000000000 + first,
  };
}

describe('CaptureWriter to a file', () => {
  it.each(['pcapng', 'pcap'] as const)('%s: 8,000 datagrams of 1201 bytes in batches of 64 and 1, all read back in order', async (format) => {
    const dir = mkdtempSync(join(tmpdir(), 'udpkit-capw-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'big.cap');
    const w = CaptureWriter.open(file, { format });
    let sent = 0;
    while (sent < 8000) {
      const n = Math.min(sent % 640 === 0 ? 1 : 64, 8000 - sent);
      expect(w.writeBatch(batch(sent, n, 1201), { address: '::', port: 9000 })).toBe(true);
      sent += n;
      // Some turns end between batches, as they do under a listener.
      if (sent % 512 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await w.end();
    expect([w.written, w.dropped, w.failure]).toEqual([8000, 0, undefined]);
    const { packets } = await tcpdumpRead(readFileSync(file));
    expect(packets.length).toBe(8000);
    packets.forEach((p, i) => {
      expect(p.payload.subarray(0, 8).toString()).toBe(String(i).padStart(8, '0'));
      expect(p.payload.length).toBe(1201);
      expect([p.src, p.dst]).toEqual(p.src === '::1' ? ['::1', '::'] : ['127.0.0.1', '0.0.0.0']);
    });
    expect(packets.every((p) => p.text.includes('[udp sum ok]'))).toBe(true);
  }, 60_000);
});
