import { describe, expect, it } from 'vitest';
import { decodeReliableFrame, encodeAck, encodeData } from '../../src/protocol/reliable-frames.js';
import { ReliableSender, type ReliableSenderOptions } from '../../src/protocol/reliable-sender.js';
import { sessionId } from './reliable-sim.js';

const ID = sessionId(1);
const ack = (cumulative: number, selective: number[] = []): Buffer => encodeAck(ID, cumulative, selective);
const seqsOf = (datagrams: Buffer[]): number[] =>
  datagrams.map((d) => {
    const f = decodeReliableFrame(d);
    return f?.kind === 'data' ? f.seq : -1;
  });
const sender = (options: Partial<ReliableSenderOptions> = {}): ReliableSender => new ReliableSender({ sessionId: ID, ...options });
const msg = (text: string): Buffer => Buffer.from(text);

/** Calls poll at every deadline, acking nothing, until `until`; returns when each datagram left. */
function runSilent(s: ReliableSender, until: number): number[] {
  const times: number[] = [];
  for (let at = s.nextDeadline(); at !== undefined && at <= until; at = s.nextDeadline()) {
    for (const _ of s.pollTransmit(at)) times.push(at);
    if (s.state === 'failed') break;
  }
  return times;
}

describe('ReliableSender', () => {
  it('sends a pushed message at the next poll, and is done once it is acknowledged', () => {
    const s = sender();
    expect(s.nextDeadline()).toBeUndefined();
    expect(s.push(msg('a'))).toBe(0);
    expect(s.nextDeadline()).toBe(0); // waiting to be sent: poll now
    const [d] = s.pollTransmit(1000);
    expect(decodeReliableFrame(d as Buffer)).toEqual({ kind: 'data', sessionId: ID, seq: 0, payload: msg('a') });
    s.finish();
    expect(s.state).toBe('finishing');
    expect(s.handleDatagram(ack(1), 1040)).toBe(true);
    expect(s.pollEvents()).toEqual([{ type: 'acked', seq: 0 }]);
    expect(s.state).toBe('done');
    expect(s.nextDeadline()).toBeUndefined();
    expect(s.rttMs).toBe(40);
  });

  it('retransmits after 200, 400, 800... ms, capped at maxRtoMs, over a lossy-then-good link', () => {
    const s = sender();
    s.push(msg('a'));
    expect(s.pollTransmit(0)).toHaveLength(1);
    const deadlines: number[] = [];
    for (let i = 0; i < 6; i++) {
      const at = s.nextDeadline() as number;
      deadlines.push(at);
      expect(s.pollTransmit(at - 1)).toEqual([]);
      expect(seqsOf(s.pollTransmit(at))).toEqual([0]);
    }
    expect(deadlines).toEqual([200, 600, 1400, 3000, 5000, 7000]);
    expect(s.retransmissions).toBe(6);
    // The link recovers: the retransmission sent at 7000 is acknowledged.
    expect(s.handleDatagram(ack(1), 7010)).toBe(true);
    expect(s.pollEvents()).toEqual([{ type: 'acked', seq: 0 }]);
    expect(s.rttMs).toBeUndefined(); // Karn: a retransmitted message gives no sample
    s.push(msg('b'));
    s.pollTransmit(8000);
    expect(s.nextDeadline()).toBe(8200); // the initial RTO again, not the backed-off one
  });

  it('measures RTT per RFC 6298 and clamps the RTO', () => {
    const s = sender();
    s.push(msg('a'));
    s.pollTransmit(0);
    s.handleDatagram(ack(1), 30);
    s.push(msg('b'));
    s.pollTransmit(100);
    expect(s.nextDeadline()).toBe(100 + 90); // SRTT 30 + 4 * RTTVAR 15
    s.handleDatagram(ack(2), 100 + 30);
    s.push(msg('c'));
    s.pollTransmit(200);
    expect(s.nextDeadline()).toBe(200 + 30 + 4 * 11.25); // RTTVAR = 3/4 * 15 + 1/4 * 0
    const fast = sender();
    fast.push(msg('a'));
    fast.pollTransmit(0);
    fast.handleDatagram(ack(1), 2);
    fast.push(msg('b'));
    fast.pollTransmit(10);
    expect(fast.nextDeadline()).toBe(10 + 50); // minRtoMs
  });

  it('fails every unacknowledged message when a link drops everything for ackTimeoutMs', () => {
    const s = sender();
    for (const t of ['a', 'b', 'c']) s.push(msg(t));
    const times = runSilent(s, 20_000);
    expect(times).toEqual([0, 0, 0, ...[200, 600, 1400, 3000, 5000, 7000, 9000].flatMap((t) => [t, t, t])]);
    expect(s.state).toBe('failed');
    expect(s.pollEvents()).toEqual([{ type: 'failed', seqs: [0, 1, 2], reason: 'timeout' }]);
    expect(s.nextDeadline()).toBeUndefined();
    expect(s.canPush()).toBe(false);
    expect(() => s.push(msg('d'))).toThrow(expect.objectContaining({ code: 'UDPKIT_CLOSED' }));
  });

  it('counts the ACK timeout from the last new acknowledgement, or from a send after quiet', () => {
    const s = sender();
    s.push(msg('a'));
    s.push(msg('b'));
    s.pollTransmit(0);
    s.handleDatagram(ack(1), 5000);
    s.handleDatagram(ack(1), 9000); // nothing new: not progress
    expect(runSilent(s, 14_999)).not.toHaveLength(0);
    expect(s.state).toBe('open');
    s.pollTransmit(15_000);
    expect(s.pollEvents().at(-1)).toEqual({ type: 'failed', seqs: [1], reason: 'timeout' });

    const quiet = sender();
    quiet.push(msg('a'));
    quiet.pollTransmit(0);
    quiet.handleDatagram(ack(1), 10);
    quiet.push(msg('b'));
    quiet.pollTransmit(100_000); // everything was acknowledged long ago: the clock starts now
    expect(quiet.state).toBe('open');
    runSilent(quiet, 200_000);
    expect(quiet.pollEvents().at(-1)).toEqual({ type: 'failed', seqs: [1], reason: 'timeout' });
  });

  it('fails fast when the OS reports the port unreachable', () => {
    const s = sender();
    s.push(msg('a'));
    s.pollTransmit(0);
    s.push(msg('b'));
    s.handleRefused();
    expect(s.state).toBe('failed');
    expect(s.pollEvents()).toEqual([{ type: 'failed', seqs: [0, 1], reason: 'refused' }]);
    expect(s.pollTransmit(10)).toEqual([]);
    expect(s.handleDatagram(ack(2), 10)).toBe(true);
    expect(s.pollEvents()).toEqual([]);
  });

  it('keeps at most `window` messages unacknowledged, counting those acknowledged selectively', () => {
    const s = sender({ window: 4 });
    for (let i = 0; i < 4; i++) s.push(msg(String(i)));
    expect(s.canPush()).toBe(false);
    expect(() => s.push(msg('x'))).toThrow(expect.objectContaining({ code: 'UDPKIT_INVALID_ARGUMENT' }));
    expect(seqsOf(s.pollTransmit(0))).toEqual([0, 1, 2, 3]);
    s.handleDatagram(ack(0, [1, 2, 3]), 10);
    expect(s.canPush()).toBe(false); // 0 is still missing: the receiver holds 1 to 3
    expect(s.pollEvents()).toEqual([]);
    s.handleDatagram(ack(2, [3]), 20);
    expect(s.pollEvents()).toEqual([{ type: 'acked', seq: 0 }, { type: 'acked', seq: 1 }]);
    expect(s.unacked).toBe(2);
    expect(s.canPush()).toBe(true);
  });

  it('does not resend what was acknowledged selectively, and reports it only once delivered', () => {
    const s = sender();
    for (const t of ['a', 'b', 'c']) s.push(msg(t));
    s.pollTransmit(0);
    s.handleDatagram(ack(0, [1, 2]), 50);
    expect(s.nextDeadline()).toBe(200);
    expect(seqsOf(s.pollTransmit(200))).toEqual([0]);
    s.handleDatagram(ack(3), 260);
    expect(s.pollEvents().map((e) => e.type === 'acked' && e.seq)).toEqual([0, 1, 2]);
  });

  it('fails held (selectively acknowledged) and unsent messages too: they come after the gap', () => {
    const s = sender();
    for (const t of ['a', 'b', 'c']) s.push(msg(t));
    s.pollTransmit(0);
    s.handleDatagram(ack(0, [1]), 50);
    s.push(msg('d'));
    s.handleRefused();
    expect(s.pollEvents()).toEqual([{ type: 'failed', seqs: [0, 1, 2, 3], reason: 'refused' }]);
  });

  it('ignores other datagrams, other sessions, and ACKs that claim what was never sent', () => {
    const s = sender();
    s.push(msg('a'));
    s.push(msg('b'));
    expect(s.handleDatagram(ack(2), 0)).toBe(true); // nothing was sent yet
    s.pollTransmit(0);
    expect(s.handleDatagram(Buffer.from('hello'), 1)).toBe(false);
    expect(s.handleDatagram(encodeData(ID, 0, msg('a')), 1)).toBe(false);
    expect(s.handleDatagram(encodeAck(sessionId(2), 2, []), 1)).toBe(false);
    expect(s.handleDatagram(ack(3), 1)).toBe(true);
    expect(s.handleDatagram(ack(0, [2]), 1)).toBe(true);
    expect(s.pollEvents()).toEqual([]);
    expect(s.unacked).toBe(2);
    s.handleDatagram(ack(2), 2);
    s.handleDatagram(ack(1), 3); // an old ACK, reordered: harmless
    expect(s.pollEvents()).toHaveLength(2);
  });

  it('is done at once when finished with nothing outstanding, and refuses pushes after', () => {
    const s = sender();
    s.finish();
    expect(s.state).toBe('done');
    expect(() => s.push(msg('a'))).toThrow(expect.objectContaining({ code: 'UDPKIT_CLOSED' }));
  });

  it('validates its options', () => {
    expect(() => new ReliableSender({ sessionId: Buffer.alloc(4) })).toThrow(expect.objectContaining({ code: 'UDPKIT_INVALID_ARGUMENT' }));
    expect(() => sender({ window: 0 })).toThrow(RangeError);
    expect(() => sender({ minRtoMs: 300, maxRtoMs: 200 })).toThrow(RangeError);
    expect(() => sender({ initialRtoMs: 10 })).toThrow(RangeError);
    expect(() => sender().push(Buffer.alloc(70_000))).toThrow(expect.objectContaining({ code: 'UDPKIT_MESSAGE_TOO_LARGE' }));
  });
});
