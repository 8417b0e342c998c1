import { describe, expect, it } from 'vitest';
import { decodeReliableFrame, encodeAck, encodeData } from '../../src/protocol/reliable-frames.js';
import { ReliableReceiver, type ReliableReceipt } from '../../src/protocol/reliable-receiver.js';
import { sessionId } from './reliable-sim.js';

const A = sessionId(0xa);
const B = sessionId(0xb);
const data = (id: Buffer, seq: number, text = `${id.readUInt32BE(4)}:${seq}`): Buffer => encodeData(id, seq, Buffer.from(text));
const texts = (r: ReliableReceipt | undefined): string[] => (r?.deliver ?? []).map((p) => p.toString());
const ackOf = (r: ReliableReceipt | undefined): unknown => (r?.ack === undefined ? undefined : decodeReliableFrame(r.ack));

describe('ReliableReceiver', () => {
  it('delivers in order, holds early arrivals, and acknowledges cumulatively and selectively', () => {
    const rx = new ReliableReceiver();
    expect(texts(rx.receive(data(A, 0), 'p', 0))).toEqual(['10:0']);
    const early = rx.receive(data(A, 2), 'p', 1);
    expect(texts(early)).toEqual([]);
    expect(ackOf(early)).toEqual({ kind: 'ack', sessionId: A, cumulative: 1, selective: [2] });
    rx.receive(data(A, 4), 'p', 2);
    const filled = rx.receive(data(A, 1), 'p', 3);
    expect(texts(filled)).toEqual(['10:1', '10:2']);
    expect(ackOf(filled)).toMatchObject({ cumulative: 3, selective: [4] });
    expect(texts(rx.receive(data(A, 3), 'p', 4))).toEqual(['10:3', '10:4']);
    expect(rx.bufferedBytes).toBe(0);
  });

  it('re-acknowledges duplicates without delivering them again', () => {
    const rx = new ReliableReceiver();
    rx.receive(data(A, 0), 'p', 0);
    rx.receive(data(A, 2), 'p', 0);
    for (const seq of [0, 2]) {
      const again = rx.receive(data(A, seq), 'p', 1);
      expect(texts(again)).toEqual([]);
      expect(ackOf(again)).toMatchObject({ cumulative: 1, selective: [2] });
    }
    expect(rx.duplicates).toBe(2);
  });

  it('keeps copies of held payloads: the datagram buffer may be reused', () => {
    const rx = new ReliableReceiver();
    const datagram = data(A, 1, 'one');
    rx.receive(datagram, 'p', 0);
    datagram.fill(0);
    expect(texts(rx.receive(data(A, 0, 'zero'), 'p', 1))).toEqual(['zero', 'one']);
  });

  it('never acknowledges what it did not accept: beyond maxBuffered or the byte budget', () => {
    const rx = new ReliableReceiver({ maxBuffered: 3, maxBufferedBytes: 10 });
    rx.receive(data(A, 0), 'p', 0);
    expect(rx.receive(data(A, 5), 'p', 0)).toEqual({ key: expect.any(String), ack: undefined, deliver: [] });
    expect(ackOf(rx.receive(data(A, 4, 'x'), 'p', 0))).toMatchObject({ cumulative: 1, selective: [4] });
    expect(rx.receive(data(A, 3, 'ten bytes!'), 'p', 0)?.ack).toBeUndefined(); // 1 + 10 > 10
    expect(ackOf(rx.receive(data(A, 3, 'nine byte'), 'p', 0))).toMatchObject({ selective: [3, 4] });
    expect(rx.bufferedBytes).toBe(10);
    expect(rx.dropped).toBe(2);
    // An unknown session starting beyond the buffer is not even created.
    expect(rx.receive(data(B, 4), 'p', 0)?.ack).toBeUndefined();
    expect(rx.size).toBe(1);
  });

  it('keeps two interleaved sessions apart: by session id and by peer', () => {
    const rx = new ReliableReceiver();
    const got: string[] = [];
    const arrivals: [Buffer, string, number][] = [[A, 'p', 1], [B, 'p', 0], [A, 'q', 0], [A, 'p', 0], [B, 'p', 1], [A, 'q', 1]];
    for (const [id, peer, seq] of arrivals) got.push(...texts(rx.receive(data(id, seq, `${peer}${id.readUInt32BE(4)}:${seq}`), peer, 0)));
    expect(got).toEqual(['p11:0', 'q10:0', 'p10:0', 'p10:1', 'p11:1', 'q10:1']);
    expect(rx.size).toBe(3);
  });

  it('does not confuse a restarted sender (new session id) with the old one', () => {
    const rx = new ReliableReceiver();
    for (let seq = 0; seq < 5; seq++) rx.receive(data(A, seq), 'p', 0);
    // The old session's late seq 6 is held; the new session's seq 0 is delivered at once.
    expect(texts(rx.receive(data(A, 6), 'p', 1))).toEqual([]);
    const fresh = rx.receive(data(B, 0), 'p', 1);
    expect(texts(fresh)).toEqual(['11:0']);
    expect(ackOf(fresh)).toEqual({ kind: 'ack', sessionId: B, cumulative: 1, selective: [] });
    expect(texts(rx.receive(data(A, 5), 'p', 2))).toEqual(['10:5', '10:6']);
  });

  it('forgets idle sessions at its deadline', () => {
    const rx = new ReliableReceiver({ sessionIdleMs: 1000 });
    expect(rx.nextDeadline()).toBeUndefined();
    rx.receive(data(A, 0), 'p', 0);
    rx.receive(data(A, 2), 'p', 0);
    rx.receive(data(B, 0), 'p', 500);
    expect(rx.nextDeadline()).toBe(1000);
    rx.expire(999);
    expect(rx.size).toBe(2);
    rx.expire(1000);
    expect(rx.size).toBe(1);
    expect(rx.bufferedBytes).toBe(0);
    expect(rx.nextDeadline()).toBe(1500);
  });

  it('holds at most maxSessions, forgetting the idlest, whose retransmissions are then refused', () => {
    const rx = new ReliableReceiver({ maxSessions: 2, sessionIdleMs: 1000 });
    rx.receive(data(A, 0), 'a', 0);
    rx.receive(data(A, 0), 'b', 1);
    rx.receive(data(A, 1), 'a', 2); // a is now the most recent; b the idlest
    rx.receive(data(A, 0), 'c', 3);
    expect(rx.size).toBe(2);
    // b's ACK may have been lost; its retransmission must not be delivered a second time.
    expect(rx.receive(data(A, 0), 'b', 4)).toEqual({ key: expect.any(String), ack: undefined, deliver: [] });
    expect(texts(rx.receive(data(A, 2), 'a', 5))).toEqual(['10:2']);
    expect(rx.nextDeadline()).toBe(1003); // c's idleness, or b's eviction at 3
    rx.expire(3000);
    expect(rx.size).toBe(0);
    expect(rx.nextDeadline()).toBeUndefined();
    expect(texts(rx.receive(data(A, 0, 'b again'), 'b', 3000))).toEqual(['b again']);
    for (let i = 0; i < 50; i++) rx.receive(data(sessionId(100 + i), 0), 'x', 4000 + i);
    expect(rx.size).toBe(2);
  });

  it('returns undefined for anything but DATA', () => {
    const rx = new ReliableReceiver();
    expect(rx.receive(Buffer.from('hello'), 'p', 0)).toBeUndefined();
    expect(rx.receive(encodeAck(A, 0, []), 'p', 0)).toBeUndefined();
    expect(rx.size).toBe(0);
  });
});
