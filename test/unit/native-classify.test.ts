/** The addon's per-datagram checks must agree with the JavaScript ones they let us skip. */
import dgram from 'node:dgram';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadNative, nativeLoadError } from '../../src/native/binding.js';
import { PLAIN_JSON, PLAIN_TEXT } from '../../src/socket/batch.js';

const native = loadNative();
if (!native) console.warn(`SKIPPED native classification test: ${String(nativeLoadError())}`);

const expectedFlags = (p: Uint8Array): number => {
  const text = p.every((b) => (b >= 0x20 && b <= 0x7e && b !== 0x5c) || b === 0x09);
  const json = p.every((b) => b >= 0x20 && b <= 0x7e && b !== 0x5c && b !== 0x22);
  return (text ? PLAIN_TEXT : 0) | (json ? PLAIN_JSON : 0);
};

describe.skipIf(!native)('native flags', () => {
  it('match a byte-by-byte check for any payloads', async () => {
    // Long plain text with one byte that matters anywhere in it: the addon checks 64 and 16
    // bytes at a time, so a byte in any block, and in the tail, must be seen.
    const oneOdd = fc
      .integer({ min: 1, max: 300 })
      .chain((n) => fc.tuple(fc.uint8Array({ minLength: n, maxLength: n }), fc.nat({ max: n - 1 }), fc.constantFrom(0x00, 0x09, 0x1f, 0x20, 0x22, 0x5c, 0x7e, 0x7f, 0x80, 0xc3, 0xff)))
      .map(([random, at, b]) => {
        const p = random.map((x) => 0x23 + (x % 0x39)); // '#'..'[': printable, no '"' or '\\'
        p[at] = b;
        return p;
      });
    const payloads = fc.sample(
      fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.stringMatching(/^[\t -~]{0,200}$/).map((s) => new Uint8Array(Buffer.from(s))), oneOdd),
      { numRuns: 600, seed: 42 },
    );
    const socket = new native!.NativeUdp(4, false);
    socket.bind('127.0.0.1', 0, false);
    socket.setRecvBufferSize(8 * 1024 * 1024);
    const seen: Array<[Buffer, number]> = [];
    const done = new Promise<void>((resolve) => {
      socket.startReceiving(
        (count, data, starts, lengths, _ports, _senders, _a, _f, _r, flags) => {
          for (let i = 0; i < count; i++) seen.push([Buffer.from(data.subarray(starts[i]!, starts[i]! + lengths[i]!)), flags[i]!]);
          if (seen.length === payloads.length) resolve();
        },
        () => undefined,
      );
    });
    const sender = dgram.createSocket('udp4');
    for (const p of payloads) await new Promise<void>((r) => sender.send(p, socket.localAddress().port, '127.0.0.1', () => r()));
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`received ${seen.length} of ${payloads.length}, drops ${socket.drops()}`)), 5000))]);
    sender.close();
    socket.close();
    for (const [payload, flags] of seen) expect([payload.toString('hex'), flags]).toEqual([payload.toString('hex'), expectedFlags(payload)]);
  });
});
