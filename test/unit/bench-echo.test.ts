/**
 * The echo fast paths of bench frames: what the server answers in place and what the client
 * reads in its receive buffer must be exactly what decodeBenchFrame accepts, byte for byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BenchOp, answerEchoInPlace, decodeBenchFrame, echoReplyFor, echoReplySeq, encodeBenchFrame, isEchoRequest, stampBenchEcho } from '../../src/protocol/bench-frames.js';

const session = 0x0123_4567_89ab_cdefn;
const HI = 0x0123_4567;
const LO = 0x89ab_cdef;
const request = (seq = 7, sentAt = 1_700_000_000_000_000, length = 64): Buffer => encodeBenchFrame({ kind: 'echo-request', session, seq, sentAt, length });

/** A valid echo request with some bytes changed: sometimes still valid, mostly not. */
const mutated = fc
  .record({ seq: fc.nat(), length: fc.integer({ min: 16, max: 80 }), edits: fc.array(fc.tuple(fc.nat({ max: 79 }), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }) })
  .map(({ seq, length, edits }) => {
    const full = request(seq, 5, Math.max(32, length));
    const b = Buffer.from(full.subarray(0, length));
    for (const [at, v] of edits) if (at < b.length) b[at] = v;
    return b;
  });

describe('echo fast paths', () => {
  it('isEchoRequest accepts exactly the echo requests decodeBenchFrame accepts', () => {
    fc.assert(
      fc.property(mutated, (b) => {
        expect(isEchoRequest(b)).toBe(decodeBenchFrame(b)?.kind === 'echo-request');
      }),
      { numRuns: 5000 },
    );
  });

  it('echoReplySeq reads the seq of exactly the replies of its session that decodeBenchFrame accepts, at any offset', () => {
    fc.assert(
      fc.property(mutated, fc.nat({ max: 100 }), (b, offset) => {
        const reply = Buffer.from(b);
        if (reply.length > 4 && reply[4] === BenchOp.ECHO_REQUEST) reply[4] = BenchOp.ECHO_REPLY;
        const arena = Buffer.alloc(offset + reply.length + 10, 0xee);
        reply.copy(arena, offset);
        const frame = decodeBenchFrame(reply);
        const expected = frame?.kind === 'echo-reply' && frame.session === session ? frame.seq : -1;
        expect(echoReplySeq(arena, offset, reply.length, HI, LO)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it('echoReplySeq refuses another session\'s reply and a request', () => {
    const reply = echoReplyFor(request(41));
    expect(echoReplySeq(reply, 0, reply.length, HI, LO)).toBe(41);
    expect(echoReplySeq(reply, 0, reply.length, HI, LO + 1)).toBe(-1);
    expect(echoReplySeq(request(41), 0, 64, HI, LO)).toBe(-1);
  });

  it('answerEchoInPlace turns a request into the reply echoReplyFor makes, and leaves anything else alone', () => {
    const b = request(3);
    const expected = echoReplyFor(b);
    expect(answerEchoInPlace(b)).toBe(true);
    expect(b).toEqual(expected);
    const reply = Buffer.from(b);
    expect(answerEchoInPlace(reply)).toBe(false);
    expect(reply).toEqual(expected);
    const data = encodeBenchFrame({ kind: 'data', session, seq: 1, sentAt: 2, length: 64 });
    const before = Buffer.from(data);
    expect(answerEchoInPlace(data)).toBe(false);
    expect(data).toEqual(before);
  });

  it('stampBenchEcho rewrites seq and sentAt as encodeBenchFrame writes them', () => {
    const b = request(0, 0);
    stampBenchEcho(b, 123_456, 1_700_000_000_123_456);
    expect(b).toEqual(request(123_456, 1_700_000_000_123_456));
  });
});
