import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BENCH_DATA_HEADER_LENGTH,
  BenchOp,
  decodeBenchFrame,
  echoReplyFor,
  encodeBenchFrame,
  formatSessionId,
  stampBenchData,
  type BenchFrame,
} from '../../src/protocol/bench-frames.js';

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const safe = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const sized = fc.integer({ min: BENCH_DATA_HEADER_LENGTH, max: 2000 });

const frames: fc.Arbitrary<BenchFrame> = fc.oneof(
  fc.record({ kind: fc.constant('data' as const), session: u64, seq: safe, sentAt: safe, length: sized }),
  fc.record({ kind: fc.constant('start' as const), session: u64, length: fc.integer({ min: 28, max: 65535 }), durationMs: u32, rate: u32 }),
  fc.record({ kind: fc.constant('start-ack' as const), session: u64, status: fc.constantFrom('accepted' as const, 'busy' as const) }),
  fc.record({ kind: fc.constant('start' as const), session: u64, length: fc.integer({ min: 28, max: 65535 }), durationMs: u32, rate: u32, direction: fc.constantFrom('reverse' as const, 'bidir' as const) }),
  fc.record({ kind: fc.constant('start-ack' as const), session: u64, status: fc.constantFrom('accepted' as const, 'busy' as const), cookie: u64 }),
  fc.record({ kind: fc.constant('go' as const), session: u64, cookie: u64 }),
  fc.record({ kind: fc.constant('sent-request' as const), session: u64 }),
  fc.record({ kind: fc.constant('sent' as const), session: u64, final: fc.boolean(), sent: safe }),
  fc.record({ kind: fc.constant('result-request' as const), session: u64, final: fc.boolean(), sent: safe }),
  fc.record({ kind: fc.constant('result-request' as const), session: u64, final: fc.boolean(), sent: safe, extended: fc.constant(true) }),
  fc.record({
    kind: fc.constant('result' as const),
    session: u64,
    final: fc.boolean(),
    stats: fc.record({
      received: safe,
      duplicates: safe,
      outOfOrder: safe,
      late: safe,
      // Carried as whole nanoseconds.
      jitterUs: fc.integer({ min: 0, max: 2 ** 40 }).map((ns) => ns / 1000),
      spanUs: safe,
      kernelDrops: fc.option(safe, { nil: undefined }),
    }, { requiredKeys: ['received', 'duplicates', 'outOfOrder', 'late', 'jitterUs', 'spanUs', 'kernelDrops'] }).chain((stats) =>
      fc.option(fc.record({ sumUs: safe, count: safe, maxUs: safe }), { nil: undefined }).map((delay) => (delay ? { ...stats, delay } : stats)),
    ),
  }),
  fc.record({ kind: fc.constantFrom('echo-request' as const, 'echo-reply' as const), session: u64, seq: safe, sentAt: safe, length: fc.integer({ min: 32, max: 2000 }) }),
);

/** A valid frame, then one byte changed or the length changed: what a corrupted datagram looks like. */
const damaged = fc
  .tuple(frames, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: -40, max: 40 }))
  .map(([f, at, byte, resize]) => {
    const buf = encodeBenchFrame(f);
    const copy = Buffer.alloc(Math.max(0, buf.length + resize));
    buf.copy(copy);
    if (copy.length > 0) copy[at % copy.length] = byte;
    return copy;
  });

describe('bench frames', () => {
  it('round-trip every kind', () => {
    fc.assert(
      fc.property(frames, (f) => {
        const decoded = decodeBenchFrame(encodeBenchFrame(f));
        expect(decoded).toEqual(f);
      }),
    );
  });

  it('decode never throws, on any bytes or on damaged frames', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => void decodeBenchFrame(bytes)));
    fc.assert(fc.property(damaged, (bytes) => void decodeBenchFrame(bytes)), { numRuns: 2000 });
  });

  it('lays out a data frame as docs/protocol.md says', () => {
    const f = encodeBenchFrame({ kind: 'data', session: 0x0102030405060708n, seq: 0x0a0b, sentAt: 1_700_000_000_123_456, length: 32 });
    expect(f.toString('hex')).toBe(
      '554b0142' + '0102030405060708' + '0000000000000a0b' + '00060a2418202240' + '00000000',
    );
  });

  it('lays out START and pads RESULT_REQUEST to the size of RESULT', () => {
    const start = encodeBenchFrame({ kind: 'start', session: 1n, length: 64, durationMs: 5000, rate: 10_000 });
    expect(start.toString('hex')).toBe('554b0143' + '01000000' + '0000000000000001' + '00000040' + '00001388' + '00002710');
    const request = encodeBenchFrame({ kind: 'result-request', session: 1n, final: true, sent: 5 });
    const result = encodeBenchFrame({
      kind: 'result',
      session: 1n,
      final: true,
      stats: { received: 5, duplicates: 0, outOfOrder: 0, late: 0, jitterUs: 1.5, spanUs: 9, kernelDrops: undefined },
    });
    expect(request.length).toBe(result.length);
    expect(request.subarray(0, 24).toString('hex')).toBe('554b0143' + '03010000' + '0000000000000001' + '0000000000000005');
    // Unknown kernel drops: all ones.
    expect(result.subarray(64).toString('hex')).toBe('ffffffffffffffff');
  });

  it('carries delay variation in the 96-byte extended RESULT, asked for by a 96-byte request', () => {
    const request = encodeBenchFrame({ kind: 'result-request', session: 1n, final: false, sent: 5, extended: true });
    const stats = { received: 4, duplicates: 0, outOfOrder: 0, late: 0, jitterUs: 1, spanUs: 9, kernelDrops: undefined, delay: { sumUs: 70, count: 4, maxUs: 40 } };
    const result = encodeBenchFrame({ kind: 'result', session: 1n, final: false, stats });
    expect([request.length, result.length, request[5], result[5]]).toEqual([96, 96, 0x02, 0x02]);
    expect(result.subarray(72).toString('hex')).toBe('0000000000000046' + '0000000000000004' + '0000000000000028');
    expect(decodeBenchFrame(result)).toEqual({ kind: 'result', session: 1n, final: false, stats });
  });

  it('lays out a reverse START, the START_ACK with its cookie, GO and SENT as docs/protocol.md says', () => {
    const start = encodeBenchFrame({ kind: 'start', session: 1n, length: 64, durationMs: 1000, rate: 10, direction: 'bidir' });
    expect([start.length, start[5]]).toEqual([28, 0x08]);
    const ack = encodeBenchFrame({ kind: 'start-ack', session: 1n, status: 'accepted', cookie: 0x0102030405060708n });
    expect(ack.subarray(16).toString('hex')).toBe('00000000' + '0102030405060708');
    const go = encodeBenchFrame({ kind: 'go', session: 1n, cookie: 0x0102030405060708n });
    expect([go.length, go[4], go.subarray(16).toString('hex')]).toEqual([28, 7, '0102030405060708' + '00000000']);
    const sent = encodeBenchFrame({ kind: 'sent', session: 1n, final: true, sent: 300 });
    expect([sent.length, sent[4], sent[5], sent.subarray(16).toString('hex')]).toEqual([28, 9, 1, '000000000000012c' + '00000000']);
    expect(encodeBenchFrame({ kind: 'sent-request', session: 1n }).length).toBe(28);
  });

  it('answers an echo with the same bytes and the reply op', () => {
    const req = encodeBenchFrame({ kind: 'echo-request', session: 7n, seq: 3, sentAt: 99, length: 100 });
    const reply = echoReplyFor(req);
    expect(reply[4]).toBe(BenchOp.ECHO_REPLY);
    expect(decodeBenchFrame(reply)).toEqual({ kind: 'echo-reply', session: 7n, seq: 3, sentAt: 99, length: 100 });
    expect(req[4]).toBe(BenchOp.ECHO_REQUEST);
  });

  it('stamps a copied template in place', () => {
    const template = encodeBenchFrame({ kind: 'data', session: 5n, seq: 0, sentAt: 0, length: 64 });
    const frame = Buffer.from(template);
    stampBenchData(frame, 2 ** 40 + 1, 123);
    expect(decodeBenchFrame(frame)).toEqual({ kind: 'data', session: 5n, seq: 2 ** 40 + 1, sentAt: 123, length: 64 });
  });

  const valid = {
    start: encodeBenchFrame({ kind: 'start', session: 1n, length: 64, durationMs: 1, rate: 1 }),
    ack: encodeBenchFrame({ kind: 'start-ack', session: 1n, status: 'accepted' }),
    data: encodeBenchFrame({ kind: 'data', session: 1n, seq: 1, sentAt: 1, length: 28 }),
    request: encodeBenchFrame({ kind: 'result-request', session: 1n, final: false, sent: 1 }),
    extended: encodeBenchFrame({ kind: 'result-request', session: 1n, final: false, sent: 1, extended: true }),
    reverse: encodeBenchFrame({ kind: 'start', session: 1n, length: 64, durationMs: 1000, rate: 10, direction: 'reverse' }),
    go: encodeBenchFrame({ kind: 'go', session: 1n, cookie: 7n }),
  };
  const edit = (buf: Buffer, at: number, bytes: number[]): Buffer => {
    const copy = Buffer.from(buf);
    copy.set(bytes, at);
    return copy;
  };
  it.each([
    ['plain text', Buffer.from('hello bench')],
    ['a sealed frame', edit(valid.data, 3, [0x53])],
    ['version 2', edit(valid.data, 2, [2])],
    ['a data frame shorter than its header', valid.data.subarray(0, 27)],
    ['a sequence number above 2^53', edit(valid.data, 12, [0x00, 0x20])],
    ['an unknown op', edit(valid.start, 4, [9])],
    ['a START one byte short', valid.start.subarray(0, 27)],
    ['a START with one byte more', Buffer.concat([valid.start, Buffer.alloc(1)])],
    ['a START announcing datagrams shorter than the header', edit(valid.start, 16, [0, 0, 0, 27])],
    ['a START_ACK with an unknown status', edit(valid.ack, 16, [2])],
    ['a START_ACK with reserved bytes set', edit(valid.ack, 18, [1])],
    ['a START with the final flag', edit(valid.start, 5, [1])],
    ['a RESULT_REQUEST with an unknown flag', edit(valid.request, 5, [4])],
    ['a 72-byte RESULT_REQUEST with the extended flag', edit(valid.request, 5, [2])],
    ['an extended RESULT_REQUEST without the flag', edit(valid.extended, 5, [0])],
    ['a RESULT_REQUEST not padded', valid.request.subarray(0, 24)],
    ['a RESULT_REQUEST with an unknown count', edit(valid.request, 16, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
    ['reserved header bytes set', edit(valid.start, 6, [0, 1])],
    ['a START asking for reverse and bidir at once', edit(valid.reverse, 5, [0x0c])],
    ['a START with an unknown direction flag', edit(valid.reverse, 5, [0x10])],
    ['a GO with its padding set', edit(valid.go, 27, [1])],
    ['a GO cut short', valid.go.subarray(0, 24)],
    ['a control frame cut short', valid.start.subarray(0, 15)],
  ])('rejects %s', (_what, bytes) => {
    expect(decodeBenchFrame(bytes)).toBeUndefined();
  });

  it('shows session ids as 16 hex digits', () => {
    expect(formatSessionId(0xabn)).toBe('00000000000000ab');
    expect(formatSessionId(2n ** 64n - 1n)).toBe('ffffffffffffffff');
  });
});
