import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTRY_OVERHEAD } from '../../src/protocol/memory-budget.js';
import { decodeReliableFrame, encodeAck, encodeData } from '../../src/protocol/reliable-frames.js';
import { ReliableReceiver, type ReliableReceipt, type ReliableRefusal } from '../../src/protocol/reliable-receiver.js';
import { ESTABLISHED_AFTER, SESSION_COST } from '../../src/protocol/session-table.js';
import { sessionId } from './reliable-sim.js';

const A = sessionId(0xa);
const B = sessionId(0xb);
const data = (id: Buffer, seq: number, text = `${id.readUInt32BE(4)}:${seq}`): Buffer => encodeData(id, seq, Buffer.from(text));
const texts = (r: ReliableReceipt | undefined): string[] => (r?.deliver ?? []).map((p) => p.toString());
const ackOf = (r: ReliableReceipt | undefined): unknown => (r?.ack === undefined ? undefined : decodeReliableFrame(r.ack));
/** Sender `name` on port 1; `name` is its address. */
const at = (address: string, port = 1) => ({ address, port });
const p = at('p');
const refusedTotal = (rx: ReliableReceiver): number => Object.values(rx.refusedBy).reduce((a, b) => a + b, 0);
const only = (counts: Partial<Record<ReliableRefusal, number>>): Record<ReliableRefusal, number> => ({
  duplicate: 0, window: 0, memory: 0, evicted: 0, gap: 0, 'after-stop': 0, ...counts,
});

describe('ReliableReceiver', () => {
  it('delivers in order, holds early arrivals, and acknowledges cumulatively and selectively', () => {
    const rx = new ReliableReceiver();
    expect(texts(rx.handleDatagram(data(A, 0), p, 0))).toEqual(['10:0']);
    const early = rx.handleDatagram(data(A, 2), p, 1);
    expect(early).toMatchObject({ deliver: [], refused: undefined });
    expect(ackOf(early)).toEqual({ kind: 'ack', sessionId: A, cumulative: 1, selective: [2] });
    rx.handleDatagram(data(A, 4), p, 2);
    expect(rx.held).toBe(2);
    const filled = rx.handleDatagram(data(A, 1), p, 3);
    expect(texts(filled)).toEqual(['10:1', '10:2']);
    expect(ackOf(filled)).toMatchObject({ cumulative: 3, selective: [4] });
    expect(texts(rx.handleDatagram(data(A, 3), p, 4))).toEqual(['10:3', '10:4']);
    expect(rx.held).toBe(0);
    expect(rx.usedBytes).toBe(SESSION_COST);
  });

  it('re-acknowledges duplicates without delivering them again, and counts them', () => {
    const rx = new ReliableReceiver();
    rx.handleDatagram(data(A, 0), p, 0);
    rx.handleDatagram(data(A, 2), p, 0);
    for (const seq of [0, 2]) {
      const again = rx.handleDatagram(data(A, seq), p, 1);
      expect(again).toMatchObject({ deliver: [], refused: 'duplicate' });
      expect(ackOf(again)).toMatchObject({ cumulative: 1, selective: [2] });
    }
    expect(rx.refusedBy).toEqual(only({ duplicate: 2 }));
  });

  it('keeps copies of held payloads: the datagram buffer may be reused', () => {
    const rx = new ReliableReceiver();
    const datagram = data(A, 1, 'one');
    rx.handleDatagram(datagram, p, 0);
    datagram.fill(0);
    expect(texts(rx.handleDatagram(data(A, 0, 'zero'), p, 1))).toEqual(['zero', 'one']);
  });

  it('never acknowledges what it did not accept: beyond maxBuffered (window) or the memory budget', () => {
    // Room for two held entries of 10 payload bytes in all.
    const rx = new ReliableReceiver({ maxBuffered: 3, maxBufferedBytes: 2 * ENTRY_OVERHEAD + 10 });
    rx.handleDatagram(data(A, 0), p, 0);
    expect(rx.handleDatagram(data(A, 5), p, 0)).toEqual({ key: expect.any(String), ack: undefined, deliver: [], refused: 'window' });
    expect(ackOf(rx.handleDatagram(data(A, 4, 'x'), p, 0))).toMatchObject({ cumulative: 1, selective: [4] });
    expect(rx.handleDatagram(data(A, 3, 'ten bytes!'), p, 0)).toMatchObject({ ack: undefined, refused: 'memory' }); // 1 + 10 > 10
    expect(ackOf(rx.handleDatagram(data(A, 3, 'nine byte'), p, 0))).toMatchObject({ selective: [3, 4] });
    expect(rx.usedBytes).toBe(SESSION_COST + 2 * ENTRY_OVERHEAD + 10);
    expect(rx.refusedBy).toEqual(only({ window: 1, memory: 1 }));
    // An unknown session starting beyond the buffer is not even created.
    expect(rx.handleDatagram(data(B, 4), p, 0)).toMatchObject({ ack: undefined, refused: 'window' });
    expect(rx.size).toBe(1);
  });

  it('charges empty held messages at their real cost: a flood of them stops at the budget', () => {
    const rx = new ReliableReceiver({ maxBufferedBytes: 1 << 20 });
    for (let s = 0; s < 64; s++) {
      for (let seq = 1; seq <= 256; seq++) rx.handleDatagram(encodeData(sessionId(s), seq, Buffer.alloc(0)), at('10.0.0.1', s), 0);
    }
    // 1 MiB holds 2,048 empty messages at 512 bytes each, not 16,384 at "0 bytes"; the rest are refused.
    expect(rx.held).toBe(2048);
    expect(rx.refusedBy).toEqual(only({ memory: 64 * 256 - 2048 }));
    expect(rx.usedBytes).toBe(64 * SESSION_COST + (1 << 20));
    expect(rx.evictions).toBe(0);
  });

  it('keeps two interleaved sessions apart: by session id and by peer', () => {
    const rx = new ReliableReceiver();
    const got: string[] = [];
    const arrivals: [Buffer, string, number][] = [[A, 'p', 1], [B, 'p', 0], [A, 'q', 0], [A, 'p', 0], [B, 'p', 1], [A, 'q', 1]];
    for (const [id, peer, seq] of arrivals) got.push(...texts(rx.handleDatagram(data(id, seq, `${peer}${id.readUInt32BE(4)}:${seq}`), at(peer), 0)));
    expect(got).toEqual(['p11:0', 'q10:0', 'p10:0', 'p10:1', 'p11:1', 'q10:1']);
    expect(rx.size).toBe(3);
  });

  it('does not confuse a restarted sender (new session id) with the old one', () => {
    const rx = new ReliableReceiver();
    for (let seq = 0; seq < 5; seq++) rx.handleDatagram(data(A, seq), p, 0);
    // The old session's late seq 6 is held; the new session's seq 0 is delivered at once.
    expect(texts(rx.handleDatagram(data(A, 6), p, 1))).toEqual([]);
    const fresh = rx.handleDatagram(data(B, 0), p, 1);
    expect(texts(fresh)).toEqual(['11:0']);
    expect(ackOf(fresh)).toEqual({ kind: 'ack', sessionId: B, cumulative: 1, selective: [] });
    expect(texts(rx.handleDatagram(data(A, 5), p, 2))).toEqual(['10:5', '10:6']);
  });

  it('forgets idle sessions at its deadline; what they held is counted as gap', () => {
    const rx = new ReliableReceiver({ sessionIdleMs: 1000 });
    expect(rx.nextDeadline()).toBeUndefined();
    rx.handleDatagram(data(A, 0), p, 0);
    rx.handleDatagram(data(A, 2), p, 0);
    rx.handleDatagram(data(B, 0), p, 500);
    expect(rx.nextDeadline()).toBe(1000);
    rx.handleTimeout(999);
    expect(rx.size).toBe(2);
    rx.handleTimeout(1000);
    expect(rx.size).toBe(1);
    expect(rx.held).toBe(0);
    expect(rx.refusedBy).toEqual(only({ gap: 1 }));
    expect(rx.usedBytes).toBe(SESSION_COST);
    expect(rx.nextDeadline()).toBe(1500);
  });

  it('holds at most maxSessions; an evicted session\'s retransmissions are refused until its idle time passes', () => {
    const rx = new ReliableReceiver({ maxSessions: 2, sessionIdleMs: 1000 });
    rx.handleDatagram(data(A, 0), at('a'), 0);
    rx.handleDatagram(data(A, 0), at('b'), 1);
    rx.handleDatagram(data(A, 1), at('a'), 2); // a progressed since b did: b goes first
    rx.handleDatagram(data(A, 0), at('c'), 3);
    expect(rx.size).toBe(2);
    expect(rx.evictions).toBe(1);
    // b's ACK may have been lost; its retransmission must not be delivered a second time.
    expect(rx.handleDatagram(data(A, 0), at('b'), 4)).toEqual({ key: expect.any(String), ack: undefined, deliver: [], refused: 'evicted' });
    expect(texts(rx.handleDatagram(data(A, 2), at('a'), 5))).toEqual(['10:2']);
    expect(rx.nextDeadline()).toBe(1003); // c's idleness, or b's eviction at 3
    rx.handleTimeout(3000);
    expect(rx.size).toBe(0);
    expect(rx.nextDeadline()).toBeUndefined();
    expect(texts(rx.handleDatagram(data(A, 0, 'b again'), at('b'), 3000))).toEqual(['b again']);
    for (let i = 0; i < 50; i++) rx.handleDatagram(data(sessionId(100 + i), 0), at(`x${i}`), 4000 + i);
    expect(rx.size).toBe(2);
  });

  it('limits sessions per source address: a source at its limit evicts only its own', () => {
    const rx = new ReliableReceiver({ maxSessions: 100, maxSessionsPerSource: 3 });
    rx.handleDatagram(data(A, 0), at('other', 7), 0);
    for (let i = 0; i < 50; i++) rx.handleDatagram(data(sessionId(i), 0), at('flood', 1000 + i), 1 + i);
    expect(rx.size).toBe(4);
    expect(rx.evictions).toBe(47);
    // The other source's session is still there: its next message is delivered.
    expect(texts(rx.handleDatagram(data(A, 1), at('other', 7), 100))).toEqual(['10:1']);
    // The flood's last three survive; the earlier ones were evicted.
    expect(texts(rx.handleDatagram(data(sessionId(49), 1), at('flood', 1049), 101))).toEqual(['49:1']);
    expect(rx.handleDatagram(data(sessionId(0), 1), at('flood', 1000), 102)?.refused).toBe('evicted');
  });

  it('evicts idle sessions, then those on probation, then the established one whose progress is oldest', () => {
    const rx = new ReliableReceiver({ maxSessions: 3, maxSessionsPerSource: 10, sessionIdleMs: 10_000 });
    const real = at('h', 1);
    // A real sender delivers ESTABLISHED_AFTER messages, then pauses (it is the idlest from then on).
    for (let seq = 0; seq < ESTABLISHED_AFTER; seq++) rx.handleDatagram(data(A, seq), real, seq);
    // A flood of forged one-frame sessions from the same address: they only push each other out.
    for (let i = 0; i < 1025; i++) expect(texts(rx.handleDatagram(encodeData(sessionId(i), 0, Buffer.alloc(0)), at('h', 2), 100 + i))).toEqual(['']);
    expect(rx.evictions).toBe(1025 - 2);
    expect(texts(rx.handleDatagram(data(A, ESTABLISHED_AFTER), real, 2000))).toEqual([`10:${ESTABLISHED_AFTER}`]);
    // A session that holds messages but never delivers is activity without progress: on probation.
    const holder = at('h', 3);
    for (let seq = 1; seq <= 20; seq++) rx.handleDatagram(data(B, seq), holder, 2000 + seq);
    // (Its arrival evicted the older of the two forged sessions left, as did the next newcomer.)
    const second = at('h', 4);
    for (let seq = 0; seq < ESTABLISHED_AFTER; seq++) rx.handleDatagram(data(A, seq), second, 2100 + seq);
    // Full with two established sessions: a newcomer evicts the holder (probation), not either of them.
    rx.handleDatagram(data(A, 0), at('h', 5), 2200);
    expect(rx.handleDatagram(data(B, 21), holder, 2201)?.refused).toBe('evicted');
    expect(rx.refusedBy.gap).toBe(20);
    rx.handleDatagram(data(A, 0), at('h', 6), 2300);
    expect(rx.handleDatagram(data(A, 1), at('h', 5), 2301)?.refused).toBe('evicted');
    // Once only established sessions are left, the one whose progress is oldest goes, however
    // recently it was active (duplicates are activity, not progress).
    for (let seq = 1; seq < ESTABLISHED_AFTER; seq++) rx.handleDatagram(data(A, seq), at('h', 6), 2400 + seq);
    for (let seq = ESTABLISHED_AFTER; seq < ESTABLISHED_AFTER + 3; seq++) rx.handleDatagram(data(A, seq), second, 2500 + seq);
    expect(rx.handleDatagram(data(A, 0), real, 2600)?.refused).toBe('duplicate');
    rx.handleDatagram(data(A, 0), at('h', 7), 2700);
    expect(rx.handleDatagram(data(A, ESTABLISHED_AFTER + 1), real, 2701)?.refused).toBe('evicted');
    expect(texts(rx.handleDatagram(data(A, ESTABLISHED_AFTER + 3), second, 2702))).toEqual([`10:${ESTABLISHED_AFTER + 3}`]);
    expect(rx.size).toBe(3);
  });

  it('with the memory budget full of held messages, refuses more holding but still delivers in order', () => {
    // Room for 40 empty held messages, no more.
    const rx = new ReliableReceiver({ maxBufferedBytes: 40 * ENTRY_OVERHEAD, maxSessionsPerSource: 100 });
    rx.handleDatagram(data(A, 0), at('real'), 0);
    for (let s = 0; s < 10; s++) {
      for (let seq = 1; seq <= 30; seq++) rx.handleDatagram(encodeData(sessionId(s), seq, Buffer.alloc(0)), at('flood', s), 100 + s);
    }
    expect(rx.held).toBe(40);
    // An early message of the real sender is refused, unacknowledged (it will resend it)...
    expect(rx.handleDatagram(data(A, 2), at('real'), 1000)).toMatchObject({ ack: undefined, refused: 'memory' });
    // ...while its next one in order needs no memory and is delivered; nobody was evicted.
    expect(texts(rx.handleDatagram(data(A, 1), at('real'), 1001))).toEqual(['10:1']);
    expect(texts(rx.handleDatagram(data(A, 2), at('real'), 1002))).toEqual(['10:2']);
    expect(rx.evictions).toBe(0);
    expect(rx.refusedBy).toEqual(only({ memory: 10 * 30 - 40 + 1 }));
  });

  it('on stop: lets held messages go (gap), re-acknowledges what was delivered, accepts nothing new', () => {
    const rx = new ReliableReceiver();
    rx.handleDatagram(data(A, 0), p, 0);
    rx.handleDatagram(data(A, 2), p, 0);
    rx.stop();
    expect(rx.held).toBe(0);
    expect(rx.usedBytes).toBe(SESSION_COST);
    const again = rx.handleDatagram(data(A, 0), p, 1);
    expect(again?.refused).toBe('duplicate');
    expect(ackOf(again)).toMatchObject({ cumulative: 1, selective: [] });
    expect(rx.handleDatagram(data(A, 1), p, 1)).toMatchObject({ ack: undefined, deliver: [], refused: 'after-stop' });
    expect(rx.handleDatagram(data(B, 0), p, 1)).toMatchObject({ ack: undefined, deliver: [], refused: 'after-stop' });
    expect(rx.refusedBy).toEqual(only({ duplicate: 1, gap: 1, 'after-stop': 2 }));
  });

  it('returns undefined for anything but a valid DATA frame, and creates nothing', () => {
    const rx = new ReliableReceiver();
    const maxSeq = data(A, 0);
    maxSeq.writeUInt32BE(0xffffffff, 12);
    for (const d of [Buffer.from('hello'), encodeAck(A, 0, []), Buffer.from('UK\x01D\x00\x01'), maxSeq, Buffer.from([0x55, 0x4b, 2, 0x44, ...Buffer.alloc(12)])]) {
      expect(rx.handleDatagram(d, p, 0)).toBeUndefined();
    }
    expect(rx.size).toBe(0);
    expect(refusedTotal(rx)).toBe(0);
  });

  it('accounts for every DATA datagram: delivered once, refused with a reason, or still held', () => {
    const arrival = fc.record({ session: fc.integer({ min: 0, max: 12 }), source: fc.integer({ min: 0, max: 3 }), seq: fc.integer({ min: 0, max: 40 }), size: fc.integer({ min: 0, max: 30 }), dt: fc.integer({ min: 0, max: 300 }) });
    const limits = fc.record({
      maxSessions: fc.integer({ min: 1, max: 8 }),
      maxSessionsPerSource: fc.integer({ min: 1, max: 8 }),
      maxBuffered: fc.integer({ min: 0, max: 20 }),
      maxBufferedBytes: fc.integer({ min: 0, max: 12_000 }),
      sessionIdleMs: fc.integer({ min: 1, max: 2000 }),
    });
    fc.assert(
      fc.property(limits, fc.array(arrival, { maxLength: 400 }), fc.integer({ min: 0, max: 400 }), (limit, arrivals, stopAt) => {
        const rx = new ReliableReceiver(limit);
        let delivered = 0;
        let now = 0;
        arrivals.forEach((a, i) => {
          if (i === stopAt) rx.stop();
          now += a.dt;
          if ((rx.nextDeadline() ?? Infinity) <= now) rx.handleTimeout(now);
          const r = rx.handleDatagram(encodeData(sessionId(a.session), a.seq, Buffer.alloc(a.size)), at(`s${a.source}`, a.session % 2), now);
          delivered += r?.deliver.length ?? 0;
          expect(rx.usedBytes).toBeLessThanOrEqual(limit.maxBufferedBytes + rx.size * SESSION_COST);
          expect(rx.size).toBeLessThanOrEqual(limit.maxSessions);
          expect(delivered + refusedTotal(rx) + rx.held).toBe(i + 1);
        });
        rx.stop();
        expect(rx.held).toBe(0);
        expect(delivered + refusedTotal(rx)).toBe(arrivals.length);
      }),
      { numRuns: 300 },
    );
  });
});
