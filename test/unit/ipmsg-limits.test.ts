/**
 * What forged sources can get out of an IPMsg session, on a simulated clock: how much it sends
 * to a source that never answers, its per-address and total answer limits, and whom the peer
 * table evicts when full.
 */
import { describe, expect, it } from 'vitest';
import { IpmsgCommand as Cmd, IpmsgOption as Opt, decodeIpmsgPacket, encodeIpmsgPacket, ipmsgCommandOf } from '../../src/protocol/ipmsg-packet.js';
import { IpmsgSession, type IpmsgDatagram, type IpmsgEndpoint, type IpmsgEvent, type IpmsgSessionOptions } from '../../src/protocol/ipmsg-session.js';

const ep = (address: string, port = 2425): IpmsgEndpoint => ({ address, port });
const ENTRY = Buffer.from('1:1:a:b:1:'); // the 10-byte BR_ENTRY of the issue
const ANSWER = Buffer.from(`1:2:u:h:${Cmd.ANSENTRY}:Peer\0`);

interface Out extends IpmsgDatagram {
  readonly at: number;
  readonly command: number;
}

/** A session on a simulated clock that logs what it sends, with when, and its events. */
class Sim {
  now = 0;
  readonly out: Out[] = [];
  readonly events: Array<IpmsgEvent & { at: number }> = [];
  readonly session: IpmsgSession;

  constructor(options: Partial<IpmsgSessionOptions> = {}) {
    this.session = new IpmsgSession({ nickname: 'Alice', user: 'alice', host: 'pc1', firstPacketNo: 1_000_000_000, broadcast: [], ...options });
  }

  #log(datagrams: IpmsgDatagram[]): IpmsgDatagram[] {
    for (const d of datagrams) this.out.push({ ...d, at: this.now, command: ipmsgCommandOf(decodeIpmsgPacket(d.data)!.command) });
    for (const e of this.session.pollEvents()) this.events.push({ ...e, at: this.now });
    return datagrams;
  }

  receive(data: Buffer | string, from: IpmsgEndpoint): IpmsgDatagram[] {
    return this.#log(this.session.handleDatagram(Buffer.from(data), from, this.now));
  }

  /** Polls at every deadline up to `until`, then sets the clock to it. */
  runUntil(until: number): void {
    for (let d = this.session.nextDeadline(); d !== undefined && d <= until; d = this.session.nextDeadline()) {
      this.now = Math.max(this.now, d);
      this.#log(this.session.handleTimeout(this.now));
    }
    this.now = until;
  }

  to(address: string): Out[] {
    return this.out.filter((d) => d.address === address);
  }
}

/** Our own entry packet (ANSENTRY or BR_ENTRY) with a 10-digit packet number: what each answer costs. */
const entryBytes = (command: number): number => Buffer.byteLength(`1:1000000000:alice:pc1:${command | Opt.UTF8OPT | Opt.CAPUTF8OPT}:Alice\0`);

describe('what a source that never answers gets', () => {
  it('one 10-byte BR_ENTRY earns one ANSENTRY and one probe, then the peer is dropped: 2 datagrams in all', () => {
    const sim = new Sim();
    expect(sim.receive(ENTRY, ep('10.0.0.9')).map((d) => d.address)).toEqual(['10.0.0.9']);
    sim.runUntil(120_000);
    expect(sim.out.map((d) => [d.at, d.command])).toEqual([
      [0, Cmd.ANSENTRY],
      [10_000, Cmd.BR_ENTRY],
    ]);
    const bytes = sim.out.reduce((n, d) => n + d.data.length, 0);
    expect(bytes).toBe(entryBytes(Cmd.ANSENTRY) + entryBytes(Cmd.BR_ENTRY));
    expect(bytes).toBe(2 * 38);
    expect(sim.events.map((e) => [e.at, e.type])).toEqual([
      [0, 'join'],
      [20_000, 'leave'],
    ]);
    expect(sim.events[1]).toMatchObject({ reason: 'silent' });
    expect(sim.session.nextDeadline()).toBeUndefined();
  });

  it('the same entry sent again later is answered again, but the peer is never probed twice', () => {
    const sim = new Sim();
    sim.receive(ENTRY, ep('10.0.0.9'));
    sim.runUntil(15_000);
    sim.receive(ENTRY, ep('10.0.0.9'));
    sim.runUntil(120_000);
    expect(sim.out.map((d) => [d.at, d.command])).toEqual([
      [0, Cmd.ANSENTRY],
      [10_000, Cmd.BR_ENTRY],
      [15_000, Cmd.ANSENTRY],
    ]);
    expect(sim.events.filter((e) => e.type === 'leave').map((e) => e.at)).toEqual([35_000]);
  });

  it('a forged message earns our introduction, its receipt and one probe: 3 datagrams', () => {
    const sim = new Sim();
    sim.receive(`1:7:a:b:${Cmd.SENDMSG | Opt.SENDCHECKOPT}:x\0`, ep('10.0.0.9'));
    sim.runUntil(120_000);
    expect(sim.out.map((d) => [d.at, d.command])).toEqual([
      [0, Cmd.BR_ENTRY],
      [0, Cmd.RECVMSG],
      [10_000, Cmd.BR_ENTRY],
    ]);
    expect(sim.events.map((e) => e.type)).toEqual(['join', 'message', 'leave']);
  });

  it('an ANSENTRY from a stranger proves nothing: it gets one probe and no answer', () => {
    const sim = new Sim();
    expect(sim.receive(ANSWER, ep('10.0.0.9'))).toEqual([]);
    expect(sim.session.peers()).toEqual([expect.objectContaining({ name: 'Peer', verified: false })]);
    sim.runUntil(60_000);
    expect(sim.out.map((d) => [d.at, d.command])).toEqual([[10_000, Cmd.BR_ENTRY]]);
  });
});

describe('what makes a peer verified', () => {
  it('answering its probe: then it is probed every 3 s while silent, as before', () => {
    const sim = new Sim();
    sim.receive(ENTRY, ep('10.0.0.9'));
    sim.runUntil(10_500);
    sim.receive(ANSWER, ep('10.0.0.9'));
    expect(sim.session.peers()).toEqual([expect.objectContaining({ verified: true, lastSeen: 10_500 })]);
    sim.runUntil(60_000);
    expect(sim.out.map((d) => [d.at, d.command])).toEqual([
      [0, Cmd.ANSENTRY],
      [10_000, Cmd.BR_ENTRY],
      [20_500, Cmd.BR_ENTRY],
      [23_500, Cmd.BR_ENTRY],
      [26_500, Cmd.BR_ENTRY],
      [29_500, Cmd.BR_ENTRY],
    ]);
    expect(sim.events.filter((e) => e.type === 'leave').map((e) => e.at)).toEqual([30_500]);
  });

  it('an ANSENTRY from an endpoint it announced itself to, or after our introduction', () => {
    const sim = new Sim({ broadcast: [ep('10.0.0.8')] });
    sim.receive(ANSWER, ep('10.0.0.8'));
    sim.receive(`1:3:u:h:${Cmd.SENDMSG}:hi\0`, ep('10.0.0.9')); // introduced to
    sim.receive(ANSWER, ep('10.0.0.9'));
    expect(sim.session.peers().map((p) => [p.address, p.verified])).toEqual([
      ['10.0.0.8', true],
      ['10.0.0.9', true],
    ]);
    // A join event shows the peer as it is then: verified at once when its answer is its first packet.
    expect(sim.events.filter((e) => e.type === 'join').map((e) => (e as { peer: { verified: boolean } }).peer.verified)).toEqual([true, false]);
  });

  it('the receipt of a message sent to it', () => {
    const sim = new Sim();
    sim.receive(ENTRY, ep('10.0.0.9'));
    const [msg] = sim.session.send('hi', sim.session.peers(), 0);
    const n = decodeIpmsgPacket(msg!.data)!.packetNo;
    sim.receive(`1:4:u:h:${Cmd.RECVMSG}:${n + 1}\0`, ep('10.0.0.9'));
    expect(sim.session.peers()[0]!.verified).toBe(false);
    sim.receive(`1:5:u:h:${Cmd.RECVMSG}:${n}\0`, ep('10.0.0.9'));
    expect(sim.session.peers()[0]!.verified).toBe(true);
    expect(sim.events.at(-1)).toMatchObject({ type: 'delivered', to: { verified: true }, packetNo: n });
  });
});

describe('answer rate limits', () => {
  const limit = { rate: 10, burst: 3, total: { rate: 100, burst: 8 } };

  it('per source address: a burst, then `rate` a second; other addresses keep theirs', () => {
    const sim = new Sim({ answerLimit: limit });
    for (let port = 1; port <= 5; port++) sim.receive(ENTRY, ep('10.0.0.9', port));
    expect(sim.to('10.0.0.9')).toHaveLength(3);
    expect(sim.session.stats.rateLimited).toBe(2);
    sim.now = 99;
    expect(sim.receive(ENTRY, ep('10.0.0.9', 6))).toEqual([]);
    sim.now = 100;
    expect(sim.receive(ENTRY, ep('10.0.0.9', 7))).toHaveLength(1);
    expect(sim.receive(ENTRY, ep('10.0.0.10'))).toHaveLength(1);
    expect(sim.session.stats.rateLimited).toBe(3);
    // Every entry still counts as a peer: the limit holds back answers, not what is shown.
    expect(sim.events.filter((e) => e.type === 'join')).toHaveLength(8);
  });

  it('in total, over sources that keep changing', () => {
    const sim = new Sim({ answerLimit: limit });
    for (let host = 1; host <= 50; host++) sim.receive(ENTRY, ep(`10.0.1.${host}`));
    expect(sim.out).toHaveLength(8);
    expect(sim.session.stats.rateLimited).toBe(42);
    sim.now = 10; // one more total token every 10 ms
    expect(sim.receive(ENTRY, ep('10.0.2.1'))).toHaveLength(1);
    expect(sim.receive(ENTRY, ep('10.0.2.2'))).toHaveLength(0);
  });

  it('receipts pass the limit too; messages are shown all the same', () => {
    const sim = new Sim({ answerLimit: limit });
    for (let n = 1; n <= 5; n++) sim.receive(`1:${n}:u:h:${Cmd.SENDMSG | Opt.SENDCHECKOPT}:m${n}\0`, ep('10.0.0.9'));
    // The introduction and two receipts, then nothing until the bucket refills.
    expect(sim.out.map((d) => d.command)).toEqual([Cmd.BR_ENTRY, Cmd.RECVMSG, Cmd.RECVMSG]);
    expect(sim.events.filter((e) => e.type === 'message')).toHaveLength(5);
  });

  it('holds the one probe of an unverified peer for the limit, tried again every 3 s; never the probes of verified ones', () => {
    const sim = new Sim({ answerLimit: { rate: 1, burst: 1 }, broadcast: [ep('10.0.0.8', 1), ep('10.0.0.8', 2)] });
    for (const port of [1, 2]) sim.receive(ANSWER, ep('10.0.0.8', port)); // verified, no answer due
    for (const port of [3, 4]) sim.receive(ANSWER, ep('10.0.0.8', port)); // unverified
    sim.runUntil(10_000);
    expect(sim.to('10.0.0.8').map((d) => d.port)).toEqual([1, 2, 3]);
    sim.runUntil(13_000);
    expect(sim.to('10.0.0.8').map((d) => [d.at, d.port])).toEqual([
      [10_000, 1],
      [10_000, 2],
      [10_000, 3],
      [13_000, 1],
      [13_000, 2],
      [13_000, 4],
    ]);
    expect(sim.session.stats.rateLimited).toBe(0);
  });

  it('counts a peer dropped before its probe could be sent', () => {
    const sim = new Sim({ answerLimit: { rate: 100, burst: 100, total: { rate: 1, burst: 1 } }, probeAfterMs: 1000, probeIntervalMs: 300, dropAfterMs: 1500 });
    for (let host = 1; host <= 5; host++) sim.receive(ANSWER, ep(`10.0.0.${host}`)); // no answers due: the buckets stay full
    sim.runUntil(60_000);
    // One token a second in all, tried every 300 ms: probes at 1 s and 2.2 s, then all are
    // dropped at 2.5 s; three never got theirs.
    expect(sim.out.map((d) => [d.at, d.address])).toEqual([
      [1000, '10.0.0.1'],
      [2200, '10.0.0.2'],
    ]);
    expect(sim.events.filter((e) => e.type === 'leave')).toHaveLength(5);
    expect(sim.session.stats.rateLimited).toBe(3);
    expect(sim.session.nextDeadline()).toBeUndefined();
  });

  it('limits goodbyes to peers that never answered', () => {
    const sim = new Sim({ answerLimit: { rate: 1, burst: 2 }, broadcast: [ep('10.0.0.8')] });
    sim.receive(ANSWER, ep('10.0.0.8'));
    for (let port = 1; port <= 5; port++) sim.receive(ENTRY, ep('10.0.0.9', port));
    const peers = sim.session.peers();
    const bye = sim.session.quit(0, peers);
    // No token left for 10.0.0.9 (its entries took two): only the verified peer gets one unicast.
    expect(bye.map((d) => `${d.address}:${d.port}`)).toEqual(['10.0.0.8:2425', '10.0.0.8:2425']);
  });
});

describe('the peer table when full', () => {
  it('evicts the least recently heard unverified peer, with a leave event; a verified one never', () => {
    const sim = new Sim({ maxPeers: 3, broadcast: [ep('10.0.0.1')] });
    sim.receive(ANSWER, ep('10.0.0.1')); // verified
    sim.now = 1;
    sim.receive(ENTRY, ep('10.0.0.2'));
    sim.now = 2;
    sim.receive(ENTRY, ep('10.0.0.3'));
    sim.now = 3;
    sim.receive(`1:9:u:h:${Cmd.SENDMSG}:still here\0`, ep('10.0.0.2')); // heard again: .3 is now the oldest
    sim.now = 4;
    sim.receive(ENTRY, ep('10.0.0.4'));
    expect(sim.session.peers().map((p) => p.address)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4']);
    expect(sim.events.filter((e) => e.type === 'leave')).toEqual([expect.objectContaining({ type: 'leave', reason: 'evicted', peer: expect.objectContaining({ address: '10.0.0.3' }) })]);
    // The eviction comes before the newcomer's join.
    expect(sim.events.slice(-2).map((e) => e.type)).toEqual(['leave', 'join']);
    expect(sim.session.stats.evicted).toBe(1);
    sim.now = 5;
    sim.receive(ENTRY, ep('10.0.0.5'));
    sim.receive(ENTRY, ep('10.0.0.6'));
    expect(sim.session.peers().map((p) => p.address)).toEqual(['10.0.0.1', '10.0.0.5', '10.0.0.6']);
    expect(sim.session.stats.evicted).toBe(3);
    expect(sim.session.stats.ignored).toBe(0);
  });

  it('fails the messages in flight to an evicted peer', () => {
    const sim = new Sim({ maxPeers: 1 });
    sim.receive(ENTRY, ep('10.0.0.2'));
    sim.session.send('hello?', sim.session.peers(), 0);
    sim.receive(ENTRY, ep('10.0.0.3'));
    expect(sim.events.map((e) => e.type)).toEqual(['join', 'leave', 'undelivered', 'join']);
    expect(sim.session.pending).toBe(0);
  });

  it('gives each address a share: the oldest unverified peer of that address makes room, not another address', () => {
    const sim = new Sim({ maxPeersPerAddress: 2, broadcast: [ep('10.0.0.8', 1), ep('10.0.0.8', 2)] });
    sim.receive(ENTRY, ep('10.0.0.1')); // older than all, at another address
    for (const port of [1, 2, 3]) sim.receive(ENTRY, ep('10.0.0.9', port));
    expect(sim.session.peers().map((p) => p.key)).toEqual(['10.0.0.1:2425', '10.0.0.9:2', '10.0.0.9:3']);
    // An address whose share holds only verified peers gets no more; others still do.
    for (const port of [1, 2, 3]) sim.receive(ANSWER, ep('10.0.0.8', port));
    expect(sim.session.peers().filter((p) => p.address === '10.0.0.8').map((p) => p.port)).toEqual([1, 2]);
    expect(sim.session.stats).toMatchObject({ evicted: 1, ignored: 1 });
  });

  it('after a flood of 1,100 forged entries from 20 addresses, a newcomer still gets in and is talked to', () => {
    const sim = new Sim();
    for (let i = 0; i < 1100; i++) sim.receive(ENTRY, ep(`10.0.1.${1 + (i % 20)}`, 10_000 + i));
    expect(sim.session.peers()).toHaveLength(1024);
    expect(sim.session.stats).toMatchObject({ packets: 1100, evicted: 76, ignored: 0 });
    // Answers: the total burst (80) at one instant; the rest held back and counted.
    expect(sim.out).toHaveLength(80);
    expect(sim.session.stats.rateLimited).toBe(1020);
    sim.now = 1000;
    const bob = ep('10.0.0.2');
    sim.receive(encodeIpmsgPacket({ packetNo: 1, user: 'bob', host: 'pc2', command: Cmd.BR_ENTRY, extra: 'Bob\0' }), bob);
    expect(sim.session.peers().filter((p) => p.name === 'Bob')).toHaveLength(1);
    expect(sim.session.stats.evicted).toBe(77);
    expect(sim.to('10.0.0.2').map((d) => d.command)).toEqual([Cmd.ANSENTRY]);
    const [msg] = sim.session.send('hi Bob', sim.session.peers().filter((p) => p.name === 'Bob'), sim.now);
    sim.receive(encodeIpmsgPacket({ packetNo: 2, user: 'bob', host: 'pc2', command: Cmd.RECVMSG, extra: String(decodeIpmsgPacket(msg!.data)!.packetNo) }), bob);
    expect(sim.events.at(-1)).toMatchObject({ type: 'delivered', to: { name: 'Bob', verified: true } });
    // Verified now: a second flood cannot push Bob out.
    for (let i = 0; i < 1100; i++) sim.receive(ENTRY, ep(`10.0.2.${1 + (i % 20)}`, 10_000 + i));
    expect(sim.session.peers().filter((p) => p.name === 'Bob')).toHaveLength(1);
    expect(sim.session.peers()).toHaveLength(1024);
  });
});
