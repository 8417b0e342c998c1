import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressBytes, foldChecksum, sumPayload, sumWords } from '../../src/protocol/capture-packet.js';
import { captureBuffer } from '../../src/protocol/capture-write.js';
import { CaptureEncoder, type CaptureBatch } from '../../src/protocol/capture-write.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** One datagram "hi" from `from`:5555, received at 1700000000123.456 ms. */
function batchOf(from: string, payload = Buffer.from('hi')): CaptureBatch {
  return {
    count: 1,
    data: payload,
    starts: Uint32Array.of(0),
    lengths: Uint32Array.of(payload.length),
    ports: Uint16Array.of(5555),
    senders: Uint8Array.of(0),
    addresses: [from],
    receivedAt: 1700000000123.456,
  };
}

// Worked by hand. IPv4 header words 4500+001e+4011+7f00+0001+7f00+0001 = 0x18331 -> 0x8332 ->
// checksum 0x7ccd. UDP: pseudo 7f00+0001+7f00+0001+0011+000a = 0xfe1d, header 15b3+2328+000a =
// 0x38e5, payload 6869: 0x19f6b -> 0x9f6c -> checksum 0x6093.
const IPV4_HI = '4500001e 00000000 40117ccd 7f000001 7f000001  15b32328 000a6093 6869';
// IPv6 ::1 -> ::1: pseudo 0001+0001+000a+0011 = 0x1d, + 0x38e5 + 0x6869 = 0xa16b -> 0x5e94.
const IPV6_HI = '60000000 000a1140 ' + '00'.repeat(15) + '01 ' + '00'.repeat(15) + '01  15b32328 000a5e94 6869';

describe('CaptureEncoder, pcapng', () => {
  it('writes a section header and one raw-IP interface with microsecond timestamps', () => {
    expect(new CaptureEncoder().header()).toEqual(
      hex(
        '0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000' +
          ' 01000000 20000000 6500 0000 00000400 0900 0100 06000000 00000000 20000000',
      ),
    );
    expect(new CaptureEncoder({ resolution: 'ns' }).header()[28 + 20]).toBe(9);
  });

  it('writes an IPv4 datagram as one Enhanced Packet Block with both checksums right', () => {
    const { bytes, written } = new CaptureEncoder().encodeBatch(batchOf('127.0.0.1'), { address: '127.0.0.1', port: 9000 });
    expect(written).toBe(1);
    // 1700000000123456 us = 0x00060a24_18202240; 30 bytes of packet padded to 32.
    expect(bytes).toEqual(hex('06000000 40000000 00000000 240a0600 40222018 1e000000 1e000000' + IPV4_HI + '0000 40000000'));
  });

  it('writes an IPv4-mapped sender as IPv4, and the wildcard of its family as the destination of a dual-stack bind', () => {
    const { bytes } = new CaptureEncoder().encodeBatch(batchOf('::ffff:127.0.0.1'), { address: '::', port: 9000 });
    // Destination 0.0.0.0: header words 0x18331 - 0x7f01 = 0x10430 -> 0x0431 -> 0xfbce; UDP
    // 0x7f01 + 0x11 + 0x0a + 0x38e5 + 0x6869 = 0x1206a -> 0x206b -> 0xdf94.
    expect(bytes.subarray(28, 28 + 30)).toEqual(hex('4500001e 00000000 4011fbce 7f000001 00000000  15b32328 000adf94 6869'));
  });

  it('writes an IPv6 datagram with its mandatory UDP checksum', () => {
    const { bytes } = new CaptureEncoder().encodeBatch(batchOf('::1'), { address: '::1', port: 9000 });
    expect(bytes.readUInt32LE(4)).toBe(32 + 52);
    expect(bytes.subarray(28, 28 + 50)).toEqual(hex(IPV6_HI));
  });

  it('encodes part of a batch, many datagrams into one buffer, leaving out a sender that is no address', () => {
    const data = Buffer.from('aabbbcccc');
    const b: CaptureBatch = {
      count: 3,
      data,
      starts: Uint32Array.of(0, 2, 5),
      lengths: Uint32Array.of(2, 3, 4),
      ports: Uint16Array.of(1, 2, 3),
      senders: Uint8Array.of(0, 1, 0),
      addresses: ['10.0.0.1', 'not-an-address'],
      receivedAt: 0,
    };
    const { bytes, written } = new CaptureEncoder({ format: 'pcap' }).encodeBatch(b, { address: '10.0.0.2', port: 7 });
    expect(written).toBe(2);
    expect(bytes.length).toBe(16 + 30 + 16 + 32);
    expect(bytes.subarray(16 + 28, 16 + 30).toString()).toBe('aa');
    expect(bytes.subarray(bytes.length - 4).toString()).toBe('cccc');
  });
});

describe('CaptureEncoder, classic pcap', () => {
  it('writes the microsecond magic, version 2.4, snaplen 262144 and link type 101', () => {
    expect(new CaptureEncoder({ format: 'pcap' }).header()).toEqual(hex('d4c3b2a1 0200 0400 00000000 00000000 00000400 65000000'));
  });

  it('writes seconds, microseconds and both lengths before each packet', () => {
    const bytes = new CaptureEncoder({ format: 'pcap' }).encodeDatagram(Buffer.from('hi'), { address: '127.0.0.1', port: 5555 }, { address: '127.0.0.1', port: 9000 }, 1700000000123.456);
    // 1700000000 s = 0x6553f100, 123456 us = 0x0001e240.
    expect(bytes).toEqual(hex('00f15365 40e20100 1e000000 1e000000' + IPV4_HI));
  });

  it('carries microseconds into the next second', () => {
    const bytes = new CaptureEncoder({ format: 'pcap' }).encodeDatagram(Buffer.from('x'), { address: '::1', port: 1 }, { address: '::1', port: 2 }, 1999.9996);
    expect([bytes!.readUInt32LE(0), bytes!.readUInt32LE(4)]).toEqual([2, 0]);
  });

  it('refuses endpoints of different families', () => {
    expect(new CaptureEncoder().encodeDatagram(Buffer.from('x'), { address: '::1', port: 1 }, { address: '127.0.0.1', port: 2 }, 0)).toBeUndefined();
  });
});

describe('addresses and checksums', () => {
  it.each([
    ['192.168.1.20', [192, 168, 1, 20]],
    ['::ffff:10.1.2.3', [10, 1, 2, 3]],
    ['::', new Array(16).fill(0)],
    ['fe80::1%eth0', [0xfe, 0x80, ...new Array(13).fill(0), 1]],
    ['2001:db8::1.2.3.4', [0x20, 0x01, 0x0d, 0xb8, ...new Array(8).fill(0), 1, 2, 3, 4]],
    ['1:2:3:4:5:6:7:8', [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
  ])('parses %s', (text, bytes) => {
    expect([...addressBytes(text)!]).toEqual(bytes);
  });

  it.each(['256.1.1.1', '1.2.3', '1:2:3:4:5:6:7:8:9', '1::2::3', 'localhost', ''])('refuses %j', (text) => {
    expect(addressBytes(text)).toBeUndefined();
  });

  it('sums 32 bits at a time (sumPayload) exactly as 16 bits at a time, at any offset and length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.nat(600), fc.nat(600), (bytes, a, b) => {
        const { out, words } = captureBuffer(bytes.length + 8);
        out.set(bytes, 0);
        const start = a % bytes.length;
        const length = b % (bytes.length - start + 1);
        expect(foldChecksum(sumPayload(out, words, start, length))).toBe(foldChecksum(sumWords(out, start, start + length)));
      }),
      { numRuns: 2000 },
    );
  });

  it('sums like a plain word-by-word loop, at any length and offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(8), (bytes, cut) => {
        const start = Math.min(cut, bytes.length);
        let slow = 0;
        for (let i = start; i < bytes.length; i += 2) slow += ((bytes[i] as number) << 8) | (bytes[i + 1] ?? 0);
        expect(foldChecksum(sumWords(bytes, start, bytes.length))).toBe(foldChecksum(slow));
      }),
    );
  });
});
