import { describe, expect, it } from 'vitest';
import { decodeBenchFrame, encodeBenchFrame, type BenchFrame } from '../../src/protocol/bench-frames.js';
import { BenchSessions, type BenchStep } from '../../src/protocol/bench-sessions.js';

const alice = { address: '192.0.2.1', port: 40000 };
const mallory = { address: '192.0.2.66', port: 40000 };

const start = (session: bigint): Buffer => encodeBenchFrame({ kind: 'start', session, length: 64, durationMs: 1000, rate: 100 });
const data = (session: bigint, seq: number, sentAt = seq * 1000): Buffer => encodeBenchFrame({ kind: 'data', session, seq, sentAt, length: 64 });
const ask = (session: bigint, final: boolean, sent = 0): Buffer => encodeBenchFrame({ kind: 'result-request', session, final, sent });
/** The core takes milliseconds; these tests count microseconds, the unit of the frames' stamps. */
const us = (micros: number): number => micros / 1000;

function replyOf(step: BenchStep): BenchFrame | undefined {
  return step.kind === 'reply' || step.kind === 'started' ? decodeBenchFrame(step.data) : undefined;
}

describe('BenchSessions', () => {
  it('runs a session: START, data, an interim count, then the final RESULT with kernel drops', () => {
    const s = new BenchSessions({ idleTimeoutMs: 1000 });
    const started = s.handleDatagram(start(1n), alice, us(0));
    expect(started.kind).toBe('started');
    expect(replyOf(started)).toEqual({ kind: 'start-ack', session: 1n, status: 'accepted' });
    s.noteStartDrops(1n, 10);
    // A lost ACK makes the client ask again: same answer, no new session.
    expect(replyOf(s.handleDatagram(start(1n), alice, us(5)))).toMatchObject({ kind: 'start-ack', status: 'accepted' });
    expect(s.size).toBe(1);

    for (const seq of [0, 1, 3, 3, 2]) expect(s.handleDatagram(data(1n, seq), alice, us(seq * 1000 + 100)).kind).toBe('none');
    const interim = replyOf(s.handleDatagram(ask(1n, false, 5), alice, us(4000)));
    expect(interim).toMatchObject({ kind: 'result', final: false, stats: { received: 4, duplicates: 1, outOfOrder: 1, kernelDrops: undefined } });

    expect(s.handleDatagram(ask(1n, true, 5), alice, us(5000))).toEqual({ kind: 'finishing', session: 1n });
    // Asked again while the driver reads the drop counter: it answers once it has.
    expect(s.handleDatagram(ask(1n, true, 5), alice, us(5001)).kind).toBe('none');
    const done = s.finish(1n, 13)!;
    expect(done.summary).toMatchObject({
      id: '0000000000000001',
      peer: alice,
      ended: 'finished',
      length: 64,
      durationMs: 1000,
      rate: 100,
      sent: 5,
      received: 4,
      lost: 1,
      duplicates: 1,
      outOfOrder: 1,
      late: 0,
      kernelDrops: 3,
      // First arrival at 100 µs, last (seq 2) at 2100.
      spanUs: 2000,
    });
    expect(decodeBenchFrame(done.data)).toMatchObject({ kind: 'result', final: true, stats: { received: 4, kernelDrops: 3 } });
    expect(s.finish(1n, 20)).toBeUndefined();

    // The result is frozen: a late datagram changes nothing and a repeated request gets the same bytes.
    s.handleDatagram(data(1n, 4), alice, us(6000));
    const again = s.handleDatagram(ask(1n, true, 5), alice, us(7000));
    expect(again.kind === 'reply' && again.data.equals(done.data)).toBe(true);
  });

  it('answers an extended request with delay variation, and an older client the old way', () => {
    const s = new BenchSessions();
    s.handleDatagram(start(1n), alice, us(0));
    // Transit 100, 150, 120 µs: variation over the least so far 0, 50, 20.
    s.handleDatagram(data(1n, 0, 0), alice, us(100));
    s.handleDatagram(data(1n, 1, 1000), alice, us(1150));
    s.handleDatagram(data(1n, 2, 2000), alice, us(2120));
    const extended = encodeBenchFrame({ kind: 'result-request', session: 1n, final: false, sent: 3, extended: true });
    const reply = s.handleDatagram(extended, alice, us(3000));
    expect(reply.kind === 'reply' && reply.data.length).toBe(96);
    expect(replyOf(reply)).toMatchObject({ kind: 'result', final: false, stats: { received: 3, delay: { sumUs: 70, count: 3, maxUs: 50 } } });
    const old = s.handleDatagram(ask(1n, false, 3), alice, us(3001));
    expect(old.kind === 'reply' && old.data.length).toBe(72);
    expect((replyOf(old) as { stats: object }).stats).not.toHaveProperty('delay');
    // The final answer follows the final request's wish, and so does a repeat of it.
    expect(s.handleDatagram(encodeBenchFrame({ kind: 'result-request', session: 1n, final: true, sent: 3, extended: true }), alice, us(4000)).kind).toBe('finishing');
    const done = s.finish(1n, undefined)!;
    expect(done.data.length).toBe(96);
    expect(done.summary.delay).toEqual({ sumUs: 70, count: 3, maxUs: 50 });
    const repeat = s.handleDatagram(ask(1n, true, 3), alice, us(4001));
    expect(repeat.kind === 'reply' && repeat.data.length).toBe(72);
  });

  it('reverse: sends only after GO returns the cookie from the START_ACK, and tells what it sent', () => {
    const s = new BenchSessions({ cookie: () => 0xc0ffeen });
    const reverseStart = encodeBenchFrame({ kind: 'start', session: 1n, length: 100, durationMs: 500, rate: 2000, direction: 'reverse' });
    expect(replyOf(s.handleDatagram(reverseStart, alice, us(0)))).toEqual({ kind: 'start-ack', session: 1n, status: 'accepted', cookie: 0xc0ffeen });
    const sentRequest = encodeBenchFrame({ kind: 'sent-request', session: 1n });
    expect(replyOf(s.handleDatagram(sentRequest, alice, us(1)))).toEqual({ kind: 'sent', session: 1n, final: false, sent: 0 });
    // A wrong cookie, or the right one from elsewhere: nothing is sent.
    expect(s.handleDatagram(encodeBenchFrame({ kind: 'go', session: 1n, cookie: 1n }), alice, us(2)).kind).toBe('none');
    expect(s.handleDatagram(encodeBenchFrame({ kind: 'go', session: 1n, cookie: 0xc0ffeen }), mallory, us(3)).kind).toBe('none');
    const go = encodeBenchFrame({ kind: 'go', session: 1n, cookie: 0xc0ffeen });
    const step = s.handleDatagram(go, alice, us(4));
    expect(step).toMatchObject({ kind: 'send', session: 1n, length: 100, durationMs: 500, rate: 2000 });
    // A repeated GO is answered, and starts nothing more.
    expect(s.handleDatagram(go, alice, us(5)).kind).toBe('reply');
    s.noteSent(1n, 400, false);
    expect(s.heardWithin(1n, 2000, us(5) + 1999)).toBe(true);
    expect(s.heardWithin(1n, 2000, us(5) + 2000)).toBe(false);
    s.noteSent(1n, 1000, true);
    expect(replyOf(s.handleDatagram(sentRequest, alice, us(6)))).toEqual({ kind: 'sent', session: 1n, final: true, sent: 1000 });
    expect(s.handleDatagram(ask(1n, true, 0), alice, us(7)).kind).toBe('finishing');
    expect(s.finish(1n, 0)!.summary).toMatchObject({ direction: 'reverse', sent: 0, received: 0, sentToClient: 1000 });
    // A forward session has no cookie: GO and SENT_REQUEST are ignored.
    s.handleDatagram(start(2n), alice, us(8));
    expect(s.handleDatagram(encodeBenchFrame({ kind: 'go', session: 2n, cookie: 0xc0ffeen }), alice, us(9)).kind).toBe('none');
    expect(s.handleDatagram(encodeBenchFrame({ kind: 'sent-request', session: 2n }), alice, us(9)).kind).toBe('none');
  });

  it('computes jitter from send timestamps and arrival times', () => {
    const s = new BenchSessions();
    s.handleDatagram(start(2n), alice, us(0));
    // Transit 100, 150, 120, 240 µs: the RFC 3550 example of the stats tests.
    for (const [seq, arrived] of [[0, 100], [1, 20_150], [2, 40_120], [3, 60_240]] as const) s.handleDatagram(data(2n, seq, seq * 20_000), alice, us(arrived));
    s.handleDatagram(ask(2n, true, 4), alice, us(70_000));
    expect(s.finish(2n, undefined)!.summary).toMatchObject({ jitterUs: 12.00439453125, kernelDrops: undefined, lost: 0 });
  });

  it('tells a client the server is busy beyond maxSessions, and keeps a session to its peer', () => {
    const s = new BenchSessions({ maxSessions: 1 });
    s.handleDatagram(start(1n), alice, us(0));
    expect(replyOf(s.handleDatagram(start(2n), alice, us(1)))).toMatchObject({ session: 2n, status: 'busy' });
    // Another peer cannot take over, feed or end a session whose id it learnt.
    expect(replyOf(s.handleDatagram(start(1n), mallory, us(2)))).toMatchObject({ session: 1n, status: 'busy' });
    s.handleDatagram(data(1n, 0), mallory, us(3));
    expect(s.handleDatagram(ask(1n, true, 1), mallory, us(4)).kind).toBe('none');
    expect(replyOf(s.handleDatagram(ask(1n, false, 1), alice, us(5)))).toMatchObject({ stats: { received: 0 } });
    expect(s.ignored).toBe(2);
  });

  it('echoes for anyone without keeping state, and ignores what is not a bench frame', () => {
    const s = new BenchSessions();
    const request = encodeBenchFrame({ kind: 'echo-request', session: 9n, seq: 1, sentAt: 2, length: 64 });
    expect(replyOf(s.handleDatagram(request, mallory, us(0)))).toEqual({ kind: 'echo-reply', session: 9n, seq: 1, sentAt: 2, length: 64 });
    expect(s.handleDatagram(Buffer.from('bye'), alice, us(0)).kind).toBe('none');
    expect(s.handleDatagram(data(5n, 0), alice, us(0)).kind).toBe('none');
    expect(s.size).toBe(0);
    expect(s.ignored).toBe(2);
  });

  it('expires silent sessions: a running one is reported, a finished one just goes', () => {
    const s = new BenchSessions({ idleTimeoutMs: 1 });
    s.handleDatagram(start(1n), alice, us(0));
    s.handleDatagram(data(1n, 0), alice, us(10));
    s.handleDatagram(start(2n), alice, us(100));
    s.handleDatagram(ask(2n, true, 0), alice, us(200));
    s.finish(2n, 0);
    expect(s.nextDeadline()).toBe(us(1010));
    expect(s.handleTimeout(us(1009))).toEqual([]);
    const expired = s.handleTimeout(us(1010));
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({ id: '0000000000000001', ended: 'expired', received: 1, sent: undefined, lost: undefined });
    expect(s.nextDeadline()).toBe(us(1200));
    expect(s.handleTimeout(us(1200))).toEqual([]);
    expect(s.size).toBe(0);
    expect(s.nextDeadline()).toBeUndefined();
  });

  it('takeData counts data frames in place exactly as handleDatagram does, and declines all else', () => {
    // The same frames through handleDatagram only, and through takeData wherever it takes them.
    const frames = [0, 1, 3, 3, 2, 7, 5].map((seq) => data(3n, seq, seq * 900));
    const run = (fast: boolean) => {
      const s = new BenchSessions();
      s.handleDatagram(start(3n), alice, 0);
      let taken = 0;
      frames.forEach((f, i) => {
        // A batch buffer: the frame at an offset, other bytes around it.
        const buf = Buffer.concat([Buffer.alloc(5, 0xee), f, Buffer.alloc(3, 0xee)]);
        const now = 1 + i;
        if (fast && s.takeData(buf, 5, f.length, alice.address, alice.port, now)) taken++;
        else s.handleDatagram(f, alice, now);
      });
      s.handleDatagram(ask(3n, true, 8), alice, 20);
      return { taken, summary: s.finish(3n, undefined)!.summary };
    };
    const slow = run(false);
    const fast = run(true);
    // The first frame makes the session known to takeData; it takes every one after that.
    expect(fast.taken).toBe(frames.length - 1);
    expect(fast.summary).toEqual(slow.summary);
    expect(fast.summary).toMatchObject({ received: 6, duplicates: 1, outOfOrder: 2, lost: 2 });

    const s = new BenchSessions({ idleTimeoutMs: 1 });
    const take = (f: Buffer, peer = alice, now = 0.01) => s.takeData(f, 0, f.length, peer.address, peer.port, now);
    s.handleDatagram(start(4n), alice, 0);
    expect(take(data(4n, 0))).toBe(false); // no data frame counted by handleDatagram yet
    s.handleDatagram(data(4n, 0), alice, 0.001);
    expect(take(data(4n, 1))).toBe(true);
    expect(take(data(4n, 2), mallory)).toBe(false);
    expect(take(data(4n, 2), { address: alice.address, port: 40001 })).toBe(false);
    expect(take(data(5n, 2))).toBe(false);
    expect(take(data(4n + (1n << 32n), 2))).toBe(false); // the other half of the id differs
    const unknownSeq = data(4n, 2);
    unknownSeq.fill(0xff, 12, 20);
    expect(take(unknownSeq)).toBe(false);
    expect(s.handleDatagram(unknownSeq, alice, 0.011).kind).toBe('none');
    expect(take(data(4n, 2).subarray(0, 27))).toBe(false);
    expect(take(start(4n))).toBe(false);
    // Idle past the timeout: the session goes, and takeData no longer knows it.
    expect(s.handleTimeout(5)).toHaveLength(1);
    expect(take(data(4n, 3), alice, 5.001)).toBe(false);
  });
});
