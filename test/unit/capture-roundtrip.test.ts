/**
 * Issue 14's property: what the capture writer writes, the capture reader reads back as the same
 * datagrams (sender, destination, payload, time to the file's resolution), for both formats,
 * both timestamp resolutions, IPv4, IPv6 and IPv4-mapped senders, whatever chunks the bytes
 * arrive in. The two sides were written apart, each against tcpdump; this ties them together.
 */
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { CaptureDecoder } from '../../src/protocol/capture-read.js';
import { CaptureEncoder, type CaptureBatch, type CaptureFormat, type CaptureResolution } from '../../src/protocol/capture-write.js';

interface Sent {
  readonly from: string;
  readonly fromPort: number;
  readonly payload: Uint8Array;
}

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
// Dotted forms (::a.b.c.d, ::ffff:a.b.c.d) are left to `mapped`, which says what they mean.
const ipv6 = fc.ipV6().filter((a) => !a.includes('.'));
const mapped = ipv4.map((a) => `::ffff:${a}`);

/** One batch from several senders, all of one family (as one socket receives them). */
const batches = fc.oneof(
  fc.record({ family: fc.constant(4 as const), local: fc.constantFrom('0.0.0.0', '127.0.0.1', '10.77.0.2'), senders: fc.array(fc.oneof(ipv4, mapped), { minLength: 1, maxLength: 4 }) }),
  fc.record({ family: fc.constant(6 as const), local: fc.constantFrom('::', '::1', 'fe80::1'), senders: fc.array(ipv6, { minLength: 1, maxLength: 4 }) }),
).chain(({ family, local, senders }) =>
  fc.record({
    family: fc.constant(family),
    local: fc.constant(local),
    localPort: fc.integer({ min: 1, max: 65535 }),
    sent: fc.array(
      fc.record({
        from: fc.constantFrom(...senders),
        fromPort: fc.integer({ min: 1, max: 65535 }),
        payload: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 1000, maxLength: 3000 })),
      }),
      { minLength: 1, maxLength: 20 },
    ),
    // Milliseconds since the epoch with a fraction finer than a microsecond.
    receivedAt: fc.integer({ min: 1_000_000_000_000, max: 4_000_000_000_000 }).chain((ms) => fc.nat(999_999).map((ns) => ms + ns / 1e6)),
  }),
);

function batchOf(sent: readonly Sent[], receivedAt: number): CaptureBatch {
  const addresses = [...new Set(sent.map((s) => s.from))];
  const data = Buffer.concat(sent.map((s) => s.payload));
  const starts = new Uint32Array(sent.length);
  let at = 0;
  sent.forEach((s, i) => {
    starts[i] = at;
    at += s.payload.length;
  });
  return {
    count: sent.length,
    data,
    starts,
    lengths: Uint32Array.from(sent, (s) => s.payload.length),
    ports: Uint16Array.from(sent, (s) => s.fromPort),
    senders: Uint8Array.from(sent, (s) => addresses.indexOf(s.from)),
    addresses,
    receivedAt,
  };
}

/** Feeds `bytes` to a decoder in chunks cut at `cuts` (fractions of the length), and reads all. */
function readBack(bytes: Buffer, cuts: readonly number[]) {
  const d = new CaptureDecoder();
  const out: { from: string; fromPort: number; to: string; toPort: number; data: Buffer; time: number }[] = [];
  const take = (): void => {
    for (let p = d.next(); p; p = d.next()) {
      out.push({ from: p.from.address, fromPort: p.from.port, to: p.to.address, toPort: p.to.port, data: Buffer.from(p.data), time: p.time });
    }
  };
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, bytes.length]) {
    d.push(bytes.subarray(from, to));
    take();
    from = to;
  }
  d.end();
  take();
  return out;
}

/** The address a reader should see: canonical (RFC 5952), IPv4-mapped senders as IPv4. */
function plain(a: string): string {
  const ip = ipaddr.parse(a);
  if (ip.kind() === 'ipv4') return ip.toString();
  const v6 = ip as ipaddr.IPv6;
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toRFC5952String();
}
/** The destination the writer records: the bound address, or its family's wildcard. */
const destination = (local: string, from: string): string => (local === '::' || local === '0.0.0.0' ? (plain(from).includes(':') ? '::' : '0.0.0.0') : local);

describe('capture: write, then read back', () => {
  for (const [format, resolution] of [['pcapng', 'us'], ['pcapng', 'ns'], ['pcap', 'us']] as [CaptureFormat, CaptureResolution][]) {
    it(`${format} (${resolution}): the same datagrams, in order, whatever the chunks`, () => {
      fc.assert(
        fc.property(batches, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), (b, cuts) => {
          const enc = new CaptureEncoder({ format, resolution });
          const batch = batchOf(b.sent, b.receivedAt);
          const { bytes, written } = enc.encodeBatch(batch, { address: b.local, port: b.localPort });
          expect(written).toBe(b.sent.length);
          const back = readBack(Buffer.concat([enc.header(), bytes]), cuts);
          expect(back).toHaveLength(b.sent.length);
          const unit = resolution === 'ns' ? 1e-6 : 1e-3;
          back.forEach((p, i) => {
            const s = b.sent[i]!;
            expect(p.from).toBe(plain(s.from));
            expect(p.fromPort).toBe(s.fromPort);
            expect(p.to).toBe(destination(b.local, s.from));
            expect(p.toPort).toBe(b.localPort);
            expect(p.data.equals(Buffer.from(s.payload))).toBe(true);
            // The time truncated to the file's unit (a float's last digits aside).
            expect(Math.abs(p.time - b.receivedAt)).toBeLessThan(unit + 1e-6);
          });
        }),
        { numRuns: 300 },
      );
    });
  }

  it('one datagram at a time (the relay and the page) reads back as well', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(ipv4, ipv4), fc.tuple(ipv6, ipv6)), fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 1, max: 65535 }), (pair, payload, port) => {
        const enc = new CaptureEncoder();
        const record = enc.encodeDatagram(payload, { address: pair[0], port }, { address: pair[1], port: 9 }, 1_700_000_000_000.5);
        expect(record).toBeDefined();
        const [p] = readBack(Buffer.concat([enc.header(), record!]), []);
        expect(p).toMatchObject({ from: plain(pair[0]), fromPort: port, to: plain(pair[1]), toPort: 9 });
        expect(p!.data.equals(Buffer.from(payload))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
