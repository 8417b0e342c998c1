import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureDecoder } from '../../src/protocol/capture-read.js';
import { epb, ethernet, idb, ipv4, ipv6, nullLink, opb, pcap, shb, sll, sll2, spb, udp } from '../helpers/capture-bytes.js';

const v4 = ipv4('10.0.0.1', '10.0.0.2', udp(4000, 5000, Buffer.from('hello')));
const v6 = ipv6('2001:db8::1', '::2', udp(1, 2, Buffer.from('six')), [{ type: 0, bytes: [0, 0, 1, 4, 0, 0, 0, 0] }]);

/** Valid captures to cut and mutate: every format, byte order and link type the reader knows. */
const VALID: readonly Buffer[] = [
  pcap(1, [{ seconds: 1, fraction: 2, frame: ethernet(v4, [[0x8100, 5]]) }, { seconds: 3, fraction: 4, frame: ethernet(v6) }]),
  pcap(113, [{ seconds: 1, fraction: 2, frame: sll(v4) }, { seconds: 1, fraction: 9, frame: sll(v6) }], { le: false, nano: true }),
  pcap(0, [{ seconds: 1, fraction: 2, frame: nullLink(v4, 2, true) }, { seconds: 1, fraction: 3, frame: nullLink(v6, 30, false) }]),
  Buffer.concat([shb(), idb(276, { tsresol: 9 }), idb(101, { tsresol: 0x8a, tsoffset: 5 }), epb(0, 10n ** 18n, sll2(v4)), epb(1, 7n, v6), spb(sll2(v6)), opb(1, 9n, v4)]),
  Buffer.concat([shb(false), idb(1, { le: false }), epb(0, 5n, ethernet(v4), false), epb(0, 6n, ethernet(v6), false)]),
];

/** Decodes `bytes` fed in chunks; returns the error (if any) and how long it took. */
function decode(bytes: Buffer, chunk: number): { error: unknown; ms: number; packets: number } {
  const started = performance.now();
  const d = new CaptureDecoder();
  let packets = 0;
  let error: unknown;
  try {
    for (let at = 0; at < bytes.length; at += chunk) {
      d.push(bytes.subarray(at, at + chunk));
      while (d.next()) packets++;
    }
    d.end();
    while (d.next()) packets++;
  } catch (err) {
    error = err;
  }
  return { error, ms: performance.now() - started, packets };
}

/** Only the documented error, with an offset inside the file; quickly; no more packets than records. */
function expectWellBehaved(bytes: Buffer, chunk: number): void {
  const { error, ms, packets } = decode(bytes, chunk);
  expect(ms).toBeLessThan(1000);
  // Every record is at least 16 bytes, so no input yields more packets than that allows.
  expect(packets).toBeLessThanOrEqual(Math.floor(bytes.length / 16));
  if (error === undefined) return;
  expect(error).toBeInstanceOf(Error);
  const e = error as Error & { code?: string; offset?: number };
  expect(e.name).toBe('UdpkitError');
  expect(e.code).toBe('UDPKIT_CAPTURE_INVALID');
  expect(Number.isInteger(e.offset)).toBe(true);
  expect(e.offset).toBeGreaterThanOrEqual(0);
  expect(e.offset).toBeLessThanOrEqual(bytes.length);
  expect(e.message).toMatch(/ at byte \d+$/);
}

describe('capture reader against damaged files (fast-check)', () => {
  it('the valid files read whole, in any chunking', () => {
    for (const bytes of VALID) {
      for (const chunk of [1, 3, 64, bytes.length]) {
        const { error, packets } = decode(bytes, chunk);
        expect(error).toBeUndefined();
        expect(packets).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('a truncated file gives its packets before the cut, then UDPKIT_CAPTURE_INVALID, never anything else', () => {
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.nat(), fc.integer({ min: 1, max: 300 }), (valid, cut, chunk) => {
        const bytes = valid.subarray(0, cut % valid.length);
        expectWellBehaved(bytes, chunk);
        // Cut anywhere, a valid file is never read as complete unless the cut fell between records.
        const whole = decode(valid, chunk).packets;
        expect(decode(bytes, chunk).packets).toBeLessThanOrEqual(whole);
      }),
      { numRuns: 400 },
    );
  });

  it('mutated bytes never throw anything but UDPKIT_CAPTURE_INVALID, and never hang', () => {
    const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(fc.constantFrom(...VALID), mutation, fc.integer({ min: 1, max: 300 }), (valid, changes, chunk) => {
        const bytes = Buffer.from(valid);
        for (const [at, value] of changes) bytes[at % bytes.length] = value;
        expectWellBehaved(bytes, chunk);
      }),
      { numRuns: 2000 },
    );
  });

  it('length fields set to extremes (0, small, huge) are refused or skipped, never followed', () => {
    const extremes = [0, 1, 4, 11, 12, 0xfffffff0, 0xffffffff, 0x7fffffff, 1 << 20, (1 << 20) + 4];
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.nat(), fc.constantFrom(...extremes), fc.boolean(), (valid, where, value, le) => {
        const bytes = Buffer.from(valid);
        const at = (where % Math.floor(bytes.length / 4)) * 4;
        if (le) bytes.writeUInt32LE(value >>> 0, at);
        else bytes.writeUInt32BE(value >>> 0, at);
        expectWellBehaved(bytes, 97);
      }),
      { numRuns: 1000 },
    );
  });
});
