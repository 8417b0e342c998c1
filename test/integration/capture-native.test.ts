/**
 * The addon's capture encoder (native/capture.cc) against the TypeScript one it replaces
 * (src/protocol/capture-write.ts): byte for byte the same files, both formats, IPv4, IPv6 and
 * mapped senders, payloads of any size up to the largest. Skipped, saying why, when the addon
 * is not built or UDPKIT_NATIVE=0.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadNative, nativeLoadError } from '../../src/native/binding.js';
import { CaptureEncoder, captureBuffer, type CaptureBatch, type CaptureFormat } from '../../src/protocol/capture-write.js';
import { thrown } from '../helpers/thrown.js';

const native = loadNative();
if (!native) console.warn(`SKIPPED native capture encoder tests: ${String(nativeLoadError())}`);

const SENDERS = ['127.0.0.1', '10.1.2.3', '::1', 'fe80::1%lo', '::ffff:192.168.7.9', '2001:db8::ff:1', 'not-an-ip'];
const LOCALS = ['127.0.0.1', '0.0.0.0', '::', '::1', '::ffff:127.0.0.1', '2001:db8::5'];

/** A batch laid out as the listener's: payloads one after another in `data`, at odd offsets too. */
function batchOf(items: readonly { sender: number; port: number; size: number; gap: number; fill: number }[]): CaptureBatch {
  const used = [...new Set(items.map((d) => d.sender))];
  let size = 0;
  for (const d of items) size += d.gap + d.size;
  const data = Buffer.alloc(size);
  const starts = new Uint32Array(items.length);
  const lengths = new Uint32Array(items.length);
  const ports = new Uint16Array(items.length);
  const senders = new Uint8Array(items.length);
  let at = 0;
  items.forEach((d, i) => {
    at += d.gap;
    starts[i] = at;
    lengths[i] = d.size;
    ports[i] = d.port;
    senders[i] = used.indexOf(d.sender);
    for (let j = 0; j < d.size; j++) data[at + j] = (d.fill + j * 131 + (j >> 8)) & 0xff;
    at += d.size;
  });
  return { count: items.length, data, starts, lengths, ports, senders, addresses: used.map((k) => SENDERS[k]!), receivedAt: 1_764_495_000_123.456 };
}

function encode(format: CaptureFormat, b: CaptureBatch, local: { address: string; port: number }, withNative: boolean): { bytes: Buffer; written: number } {
  const enc = new CaptureEncoder({ format }, withNative ? native!.encodeCapture : undefined);
  return enc.encodeBatch(b, local);
}

const datagram = fc.record({
  sender: fc.integer({ min: 0, max: SENDERS.length - 1 }),
  port: fc.integer({ min: 0, max: 65535 }),
  size: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 65400, max: 65535 })),
  gap: fc.integer({ min: 0, max: 3 }),
  fill: fc.integer({ min: 0, max: 255 }),
});

describe.skipIf(!native)('encodeCapture (native addon)', () => {
  it('writes the same bytes as the TypeScript encoder, both formats, any senders and sizes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<CaptureFormat>('pcapng', 'pcap'),
        fc.constantFrom(...LOCALS),
        fc.integer({ min: 0, max: 65535 }),
        fc.array(datagram, { minLength: 1, maxLength: 64 }),
        (format, address, port, items) => {
          const b = batchOf(items);
          const ts = encode(format, b, { address, port }, false);
          const c = encode(format, b, { address, port }, true);
          expect(c.written).toBe(ts.written);
          expect(c.bytes.equals(ts.bytes)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes the largest payloads each family allows and leaves out longer ones', () => {
    for (const format of ['pcapng', 'pcap'] as const) {
      const b = batchOf([
        { sender: 0, port: 1, size: 65507, gap: 1, fill: 255 },
        { sender: 0, port: 2, size: 65508, gap: 0, fill: 255 },
        { sender: 2, port: 3, size: 65527, gap: 1, fill: 7 },
        { sender: 2, port: 4, size: 65528, gap: 0, fill: 7 },
        { sender: 4, port: 5, size: 0, gap: 0, fill: 0 },
      ]);
      const ts = encode(format, b, { address: '::', port: 9 }, false);
      const c = encode(format, b, { address: '::', port: 9 }, true);
      expect(c.written).toBe(3);
      expect(c.bytes.equals(ts.bytes)).toBe(true);
    }
  });

  it('refuses an output without room and indexes outside the batch, writing nothing past them', () => {
    const b = batchOf([{ sender: 0, port: 7, size: 100, gap: 0, fill: 1 }]);
    const hosts = new Uint8Array(36);
    hosts[0] = 4;
    const { out } = captureBuffer(64);
    const state = new Uint32Array(4);
    const call = (to: number, o: Uint8Array, h = hosts) => thrown(() => native!.encodeCapture(true, b.data, b.starts, b.lengths, b.ports, b.senders, h, 0, to, 9, o, state));
    expect(call(1, out)).toMatchObject({ name: 'RangeError', code: 'UDPKIT_INVALID_ARGUMENT', message: 'out has too little room' });
    expect(call(2, captureBuffer(4096).out)).toMatchObject({ name: 'RangeError', message: 'datagrams outside the batch' });
    expect(call(1, captureBuffer(4096).out, new Uint8Array(35))).toMatchObject({ name: 'RangeError', message: 'a sender outside hosts' });
    const short = { ...b, lengths: Uint32Array.of(101) };
    expect(thrown(() => native!.encodeCapture(false, short.data, short.starts, short.lengths, b.ports, b.senders, hosts, 0, 1, 9, captureBuffer(4096).out, state))).toMatchObject({
      name: 'RangeError',
      message: 'a datagram outside data',
    });
    expect(thrown(() => native!.encodeCapture(false, b.data, b.starts, b.lengths, b.ports, b.senders, hosts, 0, 1, 9, captureBuffer(4096).out, new Uint32Array(3)))).toMatchObject({
      name: 'RangeError',
      message: 'state must hold 4 numbers',
    });
  });
});
