import { describe, expect, it } from 'vitest';
import { CaptureDecoder, type CapturePacket } from '../../src/protocol/capture-read.js';
import { epb, ethernet, idb, ipv4, ipv6, nullLink, opb, pcap, shb, sll, sll2, spb, udp, block } from '../helpers/capture-bytes.js';

interface Decoded {
  readonly packets: CapturePacket[];
  readonly error: (Error & { code?: string; offset?: number }) | undefined;
  readonly decoder: CaptureDecoder;
}

/** Feeds `bytes` in chunks of `chunk` bytes, draining after each, as readCapture does. */
function decode(bytes: Uint8Array, chunk = bytes.length || 1): Decoded {
  const decoder = new CaptureDecoder();
  const packets: CapturePacket[] = [];
  try {
    for (let at = 0; at < bytes.length; at += chunk) {
      decoder.push(bytes.subarray(at, at + chunk));
      for (let p = decoder.next(); p; p = decoder.next()) packets.push(p);
    }
    decoder.end();
    for (let p = decoder.next(); p; p = decoder.next()) packets.push(p);
  } catch (err) {
    return { packets, error: err as Error, decoder };
  }
  return { packets, error: undefined, decoder };
}

const hello = Buffer.from('hello');
const v4 = ipv4('10.0.0.1', '10.0.0.2', udp(4000, 5000, hello));
const v6 = ipv6('2001:db8::1', 'fe80::2:0:0:3', udp(4001, 5001, Buffer.from('six')));

function simple(p: CapturePacket): [string, number, string, number, string, string] {
  return [p.from.address, p.from.port, p.to.address, p.to.port, p.from.family, p.data.toString()];
}

describe('classic pcap', () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      it(`reads ${le ? 'little' : 'big'}-endian ${nano ? 'nanosecond' : 'microsecond'} files, times included`, () => {
        const fraction = nano ? 123_456_789 : 123_456;
        const bytes = pcap(101, [{ seconds: 1_700_000_000, fraction, frame: v4 }, { seconds: 1_700_000_001, fraction: 0, frame: v6 }], { le, nano });
        for (const chunk of [bytes.length, 7, 1]) {
          const { packets, error } = decode(bytes, chunk);
          expect(error).toBeUndefined();
          expect(packets.map(simple)).toEqual([
            ['10.0.0.1', 4000, '10.0.0.2', 5000, 'IPv4', 'hello'],
            ['2001:db8::1', 4001, 'fe80::2:0:0:3', 5001, 'IPv6', 'six'],
          ]);
          expect(packets[0]!.time).toBeCloseTo(nano ? 1_700_000_000_123.456789 : 1_700_000_000_123.456, 3);
          expect(packets[1]!.time).toBe(1_700_000_001_000);
        }
      });
    }
  }

  it('reads every link type: Ethernet with 802.1Q and 802.1ad tags, SLL, SLL2, raw IP numbers, null/loop in both orders', () => {
    const cases: [number, Buffer][] = [
      [1, ethernet(v4)],
      [1, ethernet(v6, [[0x88a8, 10], [0x8100, 20]])],
      [113, sll(v4)],
      [276, sll2(v6)],
      [101, v6],
      [12, v4],
      [14, v4],
      [228, v4],
      [229, v6],
      [0, nullLink(v4, 2, true)],
      [0, nullLink(v6, 30, false)],
      [108, nullLink(v4, 2, false)],
      [108, nullLink(v6, 24, true)],
      [0, nullLink(v6, 28, true)],
    ];
    for (const [link, frame] of cases) {
      const { packets, error } = decode(pcap(link, [{ seconds: 1, fraction: 0, frame }]));
      expect(error, `link ${link}`).toBeUndefined();
      expect(packets.length, `link ${link}`).toBe(1);
      expect(['hello', 'six']).toContain(packets[0]!.data.toString());
    }
  });

  it('skips IPv4 options and IPv6 extension headers (hop-by-hop, routing, destination, atomic fragment)', () => {
    const withOptions = ipv4('1.2.3.4', '5.6.7.8', udp(1, 2, hello), { options: [0x94, 4, 0, 0, 1, 1, 1, 0] });
    const extensions = [
      { type: 0, bytes: [0, 0, 1, 4, 0, 0, 0, 0] },
      { type: 43, bytes: [0, 2, 0, 0, 0, 0, 0, 0, ...Array<number>(16).fill(0)] },
      { type: 44, bytes: [0, 0, 0, 0, 0, 0, 0, 9] },
      { type: 60, bytes: [0, 0, 1, 4, 0, 0, 0, 0] },
    ];
    const withExtensions = ipv6('::1', '::2', udp(3, 4, hello), extensions);
    const { packets } = decode(pcap(101, [{ seconds: 1, fraction: 0, frame: withOptions }, { seconds: 1, fraction: 0, frame: withExtensions }]));
    expect(packets.map(simple)).toEqual([
      ['1.2.3.4', 1, '5.6.7.8', 2, 'IPv4', 'hello'],
      ['::1', 3, '::2', 4, 'IPv6', 'hello'],
    ]);
  });

  it('counts what it skips, by reason, and keeps Ethernet padding out of the payload', () => {
    const padded = Buffer.concat([ethernet(ipv4('1.1.1.1', '2.2.2.2', udp(1, 2, Buffer.from('x')))), Buffer.alloc(20, 0xee)]);
    const records = [
      ethernet(ipv4('1.1.1.1', '2.2.2.2', Buffer.alloc(20), { protocol: 6 })),
      ethernet(Buffer.alloc(28), [], 0x0806),
      ethernet(ipv4('1.1.1.1', '2.2.2.2', udp(1, 2, hello), { fragment: 0x2000 })),
      ethernet(ipv4('1.1.1.1', '2.2.2.2', Buffer.from('tail'), { fragment: 0x0010 })),
      ethernet(ipv6('::1', '::2', udp(1, 2, hello), [{ type: 44, bytes: [0, 0, 0, 1, 0, 0, 0, 9] }])),
      padded,
    ].map((frame) => ({ seconds: 1, fraction: 0, frame }));
    const cut = { seconds: 1, fraction: 0, frame: ethernet(v4), captured: 40 };
    const { packets, error, decoder } = decode(pcap(1, [...records, cut]));
    expect(error).toBeUndefined();
    expect(packets.map((p) => p.data.toString())).toEqual(['x']);
    expect(decoder.skipped).toEqual({ 'not-udp': 1, 'not-ip': 1, fragment: 3, truncated: 1 });
    expect(decoder.frames).toBe(7);
    const other = decode(pcap(147, [{ seconds: 1, fraction: 0, frame: v4 }]));
    expect(other.decoder.skipped).toEqual({ 'link-type': 1 });
  });
});

describe('pcapng', () => {
  for (const le of [true, false]) {
    it(`reads ${le ? 'little' : 'big'}-endian sections: several interfaces with their own link types and resolutions, EPB, SPB, OPB`, () => {
      const bytes = Buffer.concat([
        shb(le),
        idb(1, { le }),
        idb(101, { le, tsresol: 9 }),
        idb(113, { le, tsresol: 0x80 | 10, tsoffset: 100 }),
        block(0x80000001, Buffer.alloc(100, 1), le),
        epb(0, 1_700_000_000_123_456n, ethernet(v4), le),
        epb(1, 1_700_000_000_123_456_789n, v6, le),
        epb(2, 3n * 1024n + 512n, sll(v4), le),
        spb(ethernet(v6), le),
        opb(1, 2_000_000_000n, v4, le),
        block(5, Buffer.alloc(16), le),
      ]);
      for (const chunk of [bytes.length, 5, 1]) {
        const { packets, error, decoder } = decode(bytes, chunk);
        expect(error).toBeUndefined();
        expect(decoder.format).toBe('pcapng');
        expect(packets.map((p) => [p.data.toString(), p.from.port])).toEqual([
          ['hello', 4000],
          ['six', 4001],
          ['hello', 4000],
          ['six', 4001],
          ['hello', 4000],
        ]);
        expect(packets[0]!.time).toBeCloseTo(1_700_000_000_123.456, 3);
        expect(packets[1]!.time).toBeCloseTo(1_700_000_000_123.456789, 4);
        // 3.5 s at 2^-10 s resolution, plus if_tsoffset 100 s.
        expect(packets[2]!.time).toBe(103_500);
        // The simple packet has no time of its own: it keeps the previous packet's.
        expect(packets[3]!.time).toBe(103_500);
        expect(packets[4]!.time).toBe(2000);
      }
    });
  }

  it('starts a new interface list with each section', () => {
    const bytes = Buffer.concat([shb(), idb(1), epb(0, 1n, ethernet(v4)), shb(false), idb(101, { le: false }), epb(0, 2n, v6, false)]);
    expect(decode(bytes).packets.map((p) => p.data.toString())).toEqual(['hello', 'six']);
  });
});

describe('faults: UDPKIT_CAPTURE_INVALID with the byte offset, after the packets before it', () => {
  const twoRecords = pcap(101, [{ seconds: 1, fraction: 0, frame: v4 }, { seconds: 2, fraction: 0, frame: v4 }]);

  const cases: [string, Buffer, number, RegExp, number][] = [
    ['empty', Buffer.alloc(0), 0, /empty file/, 0],
    ['not a capture', Buffer.from('GET / HTTP/1.1\r\n\r\n'), 0, /not a pcap or pcapng capture \(magic 47455420\)/, 0],
    ['a file header cut short', twoRecords.subarray(0, 10), 0, /cut short: 10 of 24 bytes of a file header/, 0],
    ['the second record cut short', twoRecords.subarray(0, twoRecords.length - 3), 1, /cut short/, 24 + 16 + v4.length],
    ['a record header cut short', twoRecords.subarray(0, 24 + 16 + v4.length + 5), 1, /cut short: 5 of 16 bytes/, 24 + 16 + v4.length],
  ];
  for (const [name, bytes, before, message, offset] of cases) {
    it(name, () => {
      for (const chunk of [bytes.length || 1, 3]) {
        const { packets, error } = decode(bytes, chunk);
        expect(packets.length).toBe(before);
        expect(error?.code).toBe('UDPKIT_CAPTURE_INVALID');
        expect(error?.message).toMatch(message);
        expect(error?.offset).toBe(offset);
      }
    });
  }

  it('a record longer than any capture holds, and a pcapng block whose lengths differ', () => {
    const huge = Buffer.from(twoRecords);
    huge.writeUInt32LE(0x7fffffff, 24 + 8);
    expect(decode(huge).error?.message).toMatch(/packet record of 2147483647 bytes.* at byte 24$/);
    const ng = Buffer.concat([shb(), idb(101), epb(0, 1n, v4)]);
    ng.writeUInt32LE(999, ng.length - 4);
    const r = decode(ng);
    expect(r.error?.message).toMatch(/two lengths differ at byte 48$/);
    const orphan = decode(Buffer.concat([shb(), epb(3, 1n, v4)]));
    expect(orphan.error?.message).toMatch(/interface 3, which no block described at byte 28$/);
  });

  it('the error is thrown again by every later call', () => {
    const d = new CaptureDecoder();
    d.push(Buffer.from('nonsense'));
    expect(() => d.next()).toThrow(/not a pcap/);
    expect(() => d.next()).toThrow(/not a pcap/);
  });
});
