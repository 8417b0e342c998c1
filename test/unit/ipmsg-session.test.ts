import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { IpmsgCommand, IpmsgOption, decodeIpmsgPacket, encodeIpmsgPacket, ipmsgCommandOf } from '../../src/protocol/ipmsg-packet.js';
import { IpmsgSession, type IpmsgDatagram, type IpmsgEndpoint, type IpmsgEvent, type IpmsgSessionOptions } from '../../src/protocol/ipmsg-session.js';

const BROADCAST = '10.0.0.255';
const PORT = 2425;
const at = (host: number): IpmsgEndpoint => ({ address: `10.0.0.${host}`, port: PORT });

/** One datagram on the simulated LAN. */
interface Sent {
  readonly from: IpmsgEndpoint;
  readonly to: IpmsgEndpoint;
  readonly command: number;
  readonly data: Buffer;
}

/**
 * An in-memory LAN with a simulated clock: sessions by endpoint, broadcasts to everyone (the
 * sender included, as a real socket sees its own broadcast), a `drop` rule, and a log.
 */
class Lan {
  now = 0;
  readonly nodes = new Map<string, { session: IpmsgSession; ep: IpmsgEndpoint; events: IpmsgEvent[] }>();
  readonly log: Sent[] = [];
  drop: (s: Sent) => boolean = () => false;

  add(host: number, name: string, options: Partial<IpmsgSessionOptions> = {}): IpmsgSession {
    const session = new IpmsgSession({
      nickname: name,
      user: name.toLowerCase(),
      host: `pc${host}`,
      firstPacketNo: 1000 * host,
      broadcast: [{ address: BROADCAST, port: PORT }],
      ...options,
    });
    this.nodes.set(`10.0.0.${host}`, { session, ep: at(host), events: [] });
    return session;
  }

  node(host: number) {
    return this.nodes.get(`10.0.0.${host}`)!;
  }

  /** Delivers datagrams sent by `from`, and every answer they cause, until the LAN is quiet. */
  deliver(from: IpmsgEndpoint, datagrams: IpmsgDatagram[]): void {
    const queue = datagrams.map((d) => ({ from, d }));
    for (let item = queue.shift(); item; item = queue.shift()) {
      const { from: src, d } = item;
      const targets = d.address === BROADCAST ? [...this.nodes.values()] : [this.nodes.get(d.address)].filter((n) => n !== undefined);
      const command = decodeIpmsgPacket(d.data)!.command;
      for (const n of targets) {
        const sent = { from: src, to: n.ep, command, data: d.data };
        this.log.push(sent);
        if (this.drop(sent)) continue;
        queue.push(...n.session.handleDatagram(d.data, src, this.now).map((a) => ({ from: n.ep, d: a })));
      }
      if (targets.length === 0) this.log.push({ from: src, to: d, command, data: d.data });
    }
    for (const n of this.nodes.values()) n.events.push(...n.session.pollEvents());
  }

  start(host: number): void {
    this.deliver(at(host), this.node(host).session.start(this.now));
  }

  /** Advances the clock to `until`, polling every session at each of its deadlines. */
  runUntil(until: number): void {
    for (;;) {
      let next: number | undefined;
      for (const n of this.nodes.values()) {
        const d = n.session.nextDeadline();
        if (d !== undefined && (next === undefined || d < next)) next = d;
      }
      if (next === undefined || next > until) break;
      this.now = Math.max(this.now, next);
      for (const n of this.nodes.values()) this.deliver(n.ep, n.session.handleTimeout(this.now));
    }
    this.now = until;
  }

  sent(command: number, from?: number): Sent[] {
    return this.log.filter((s) => ipmsgCommandOf(s.command) === command && (from === undefined || s.from.address === `10.0.0.${from}`));
  }

  events(host: number, type?: IpmsgEvent['type']): IpmsgEvent[] {
    const events = this.node(host).events;
    return type === undefined ? events : events.filter((e) => e.type === type);
  }
}

/** A LAN where Alice (.1) and Bob (.2) have met. */
function met(options: Partial<IpmsgSessionOptions> = {}): Lan {
  const lan = new Lan();
  lan.add(1, 'Alice', options);
  lan.start(1);
  lan.add(2, 'Bob', options);
  lan.start(2);
  return lan;
}

describe('IpmsgSession', () => {
  it('answers a BR_ENTRY with a unicast ANSENTRY: both sides see the other join, not themselves', () => {
    const lan = met();
    expect(lan.events(1)).toEqual([{ type: 'join', peer: expect.objectContaining({ name: 'Bob', user: 'bob', host: 'pc2', address: '10.0.0.2', port: PORT, lastSeen: 0 }) }]);
    expect(lan.events(2)).toEqual([{ type: 'join', peer: expect.objectContaining({ name: 'Alice', user: 'alice', host: 'pc1', address: '10.0.0.1' }) }]);
    const answers = lan.sent(IpmsgCommand.ANSENTRY);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ from: at(1), to: at(2) });
    // Entries carry UTF8OPT and CAPUTF8OPT, and the nickname NUL group.
    expect(answers[0]!.data.toString()).toBe(`1:1001:alice:pc1:${IpmsgCommand.ANSENTRY | IpmsgOption.UTF8OPT | IpmsgOption.CAPUTF8OPT}:Alice\0`);
    // Each heard its own broadcast BR_ENTRY and ignored it.
    expect(lan.node(1).session.stats.own).toBe(1);
    expect(lan.node(2).session.stats.own).toBe(1);
    expect(lan.node(1).session.peers().map((p) => p.name)).toEqual(['Bob']);
  });

  it('forgets a peer that says BR_EXIT, with a leave event', () => {
    const lan = met();
    lan.deliver(at(2), lan.node(2).session.quit(lan.now));
    expect(lan.events(1, 'leave')).toEqual([{ type: 'leave', peer: expect.objectContaining({ name: 'Bob' }), reason: 'exit' }]);
    expect(lan.node(1).session.peers()).toEqual([]);
    expect(lan.node(2).session.state).toBe('closed');
    expect(lan.node(2).session.nextDeadline()).toBeUndefined();
  });

  it('probes a silent peer that answered before every 3 s, and drops a killed one 20 s after its last packet', () => {
    const lan = met();
    lan.runUntil(12_000); // the first probes, answered: each has verified the other
    expect(lan.node(1).session.peers()).toEqual([expect.objectContaining({ name: 'Bob', verified: true, lastSeen: 10_000 })]);
    const before = lan.sent(IpmsgCommand.BR_ENTRY, 1).length;
    lan.nodes.delete('10.0.0.2'); // killed: no BR_EXIT, no answers
    lan.runUntil(29_999);
    expect(lan.events(1, 'leave')).toEqual([]);
    lan.runUntil(30_000);
    const leave = lan.events(1, 'leave');
    expect(leave).toEqual([{ type: 'leave', peer: expect.objectContaining({ name: 'Bob' }), reason: 'silent' }]);
    // At 20, 23, 26 and 29 s: silent 10 s, then every 3 s until 20 s of silence.
    expect(lan.sent(IpmsgCommand.BR_ENTRY, 1).length - before).toBe(4);
    expect(lan.node(1).session.peers()).toEqual([]);
    expect(lan.node(1).session.nextDeadline()).toBeUndefined();
  });

  it('keeps a quiet peer that answers its probes', () => {
    const lan = met();
    lan.runUntil(120_000);
    expect(lan.events(1, 'leave')).toEqual([]);
    expect(lan.events(2, 'leave')).toEqual([]);
    expect(lan.node(1).session.peers()[0]!.lastSeen).toBeGreaterThan(100_000);
  });

  it('resends a message until its RECVMSG comes, then reports it delivered', () => {
    const lan = met();
    let lost = 2;
    lan.drop = (s) => ipmsgCommandOf(s.command) === IpmsgCommand.SENDMSG && lost-- > 0;
    const bob = lan.node(1).session.peers()[0]!;
    lan.deliver(at(1), lan.node(1).session.send('hello: there', [bob], lan.now));
    lan.runUntil(10_000);
    expect(lan.sent(IpmsgCommand.SENDMSG, 1)).toHaveLength(3);
    const [delivered] = lan.events(1, 'delivered');
    expect(delivered).toMatchObject({ type: 'delivered', to: { name: 'Bob' } });
    expect(lan.events(2, 'message')).toEqual([
      { type: 'message', from: expect.objectContaining({ name: 'Alice' }), text: 'hello: there', direct: true, packetNo: (delivered as { packetNo: number }).packetNo, auto: false, sealed: false },
    ]);
    expect(lan.node(1).session.pending).toBe(0);
  });

  it('gives a message up after 5 resends without receipt', () => {
    const lan = met({ probeAfterMs: 60_000 });
    lan.drop = (s) => s.to.address === '10.0.0.2';
    const bob = lan.node(1).session.peers()[0]!;
    lan.deliver(at(1), lan.node(1).session.send('anyone?', [bob], lan.now));
    lan.runUntil(5_999);
    expect(lan.events(1, 'undelivered')).toEqual([]);
    lan.runUntil(6_000);
    expect(lan.sent(IpmsgCommand.SENDMSG, 1)).toHaveLength(6);
    expect(lan.events(1, 'undelivered')).toEqual([{ type: 'undelivered', to: expect.objectContaining({ name: 'Bob' }), packetNo: expect.any(Number) }]);
    expect(lan.events(1, 'delivered')).toEqual([]);
  });

  it('shows a resent message once, but acknowledges every copy', () => {
    const lan = met();
    let lost = 1;
    lan.drop = (s) => ipmsgCommandOf(s.command) === IpmsgCommand.RECVMSG && lost-- > 0;
    const bob = lan.node(1).session.peers()[0]!;
    lan.deliver(at(1), lan.node(1).session.send('once', [bob], lan.now));
    lan.runUntil(5_000);
    expect(lan.sent(IpmsgCommand.SENDMSG, 1)).toHaveLength(2);
    expect(lan.sent(IpmsgCommand.RECVMSG, 2)).toHaveLength(2);
    expect(lan.events(2, 'message')).toHaveLength(1);
    expect(lan.node(2).session.stats.duplicates).toBe(1);
    expect(lan.events(1, 'delivered')).toHaveLength(1);
  });

  it("sends to everyone without asking for receipts, and marks it so", () => {
    const lan = met();
    lan.add(3, 'Carol');
    lan.start(3);
    lan.deliver(at(1), lan.node(1).session.send('all hands', 'all', lan.now));
    for (const host of [2, 3]) expect(lan.events(host, 'message')).toEqual([expect.objectContaining({ text: 'all hands', direct: false })]);
    expect(lan.sent(IpmsgCommand.RECVMSG)).toEqual([]);
    expect(lan.node(1).session.pending).toBe(0);
  });

  it('fails messages in flight when their peer leaves, or when quitting', () => {
    const lan = met();
    lan.drop = (s) => ipmsgCommandOf(s.command) === IpmsgCommand.SENDMSG;
    const alice = lan.node(1).session;
    lan.deliver(at(1), alice.send('a', alice.peers(), lan.now));
    lan.deliver(at(2), lan.node(2).session.quit(lan.now));
    expect(lan.events(1).map((e) => e.type)).toEqual(['join', 'leave', 'undelivered']);
    const carolLan = met();
    carolLan.drop = lan.drop;
    const a = carolLan.node(1).session;
    carolLan.deliver(at(1), a.send('b', a.peers(), carolLan.now));
    carolLan.deliver(at(1), a.quit(carolLan.now));
    expect(carolLan.events(1, 'undelivered')).toHaveLength(1);
    expect(carolLan.events(2, 'leave')).toHaveLength(1);
    expect(() => a.send('late', 'all', carolLan.now)).toThrow(expect.objectContaining({ code: 'UDPKIT_CLOSED' }));
  });

  it('says goodbye to the broadcast addresses and to peers no broadcast reaches, once', () => {
    const s = new IpmsgSession({ nickname: 'A', user: 'a', host: 'h', firstPacketNo: 1, broadcast: [{ address: BROADCAST, port: PORT }] });
    s.start(0);
    const out = s.quit(0, [{ address: '192.168.9.9', port: 2425 }]);
    expect(out.map((d) => `${d.address}:${d.port}`)).toEqual([`${BROADCAST}:${PORT}`, '192.168.9.9:2425']);
    expect(new Set(out.map((d) => decodeIpmsgPacket(d.data)!.command))).toEqual(new Set([IpmsgCommand.BR_EXIT | IpmsgOption.UTF8OPT]));
    expect(s.quit(0)).toEqual([]);
    expect(s.handleDatagram(Buffer.from('1:1:b:h:1:B\0'), at(2), 0)).toEqual([]);
  });

  it('adds an unknown sender, named by its user name, and introduces itself to it', () => {
    const s = new IpmsgSession({ nickname: 'Alice', user: 'alice', host: 'pc1', firstPacketNo: 1, broadcast: [] });
    const msg = encodeIpmsgPacket({ packetNo: 5, user: 'dave', host: 'pc9', command: IpmsgCommand.SENDMSG | IpmsgOption.SENDCHECKOPT, extra: 'hi\0' });
    const out = s.handleDatagram(msg, at(9), 0);
    expect(out.map((d) => ipmsgCommandOf(decodeIpmsgPacket(d.data)!.command))).toEqual([IpmsgCommand.BR_ENTRY, IpmsgCommand.RECVMSG]);
    expect(decodeIpmsgPacket(out[1]!.data)!.extra).toBe('5');
    expect(s.pollEvents().map((e) => e.type)).toEqual(['join', 'message']);
    // Its ANSENTRY then gives its nickname.
    s.handleDatagram(encodeIpmsgPacket({ packetNo: 6, user: 'dave', host: 'pc9', command: IpmsgCommand.ANSENTRY, extra: 'Dave: the Great\0' }), at(9), 1);
    expect(s.peers()[0]).toMatchObject({ name: 'Dave: the Great', user: 'dave', lastSeen: 1 });
    expect(s.pollEvents()).toEqual([]);
  });

  it('reads a legacy GBK message from an old client', () => {
    const s = new IpmsgSession({ nickname: 'Alice', user: 'alice', host: 'pc1', firstPacketNo: 1, broadcast: [] });
    const entry = Buffer.concat([Buffer.from('1:1:zhang:pc8:1:'), iconv.encode('张三', 'gbk'), Buffer.from('\0')]);
    const msg = Buffer.concat([Buffer.from('1:2:zhang:pc8:32:'), iconv.encode('你好', 'gbk'), Buffer.from('\0')]);
    s.handleDatagram(entry, at(8), 0);
    s.handleDatagram(msg, at(8), 0);
    expect(s.pollEvents()).toEqual([
      { type: 'join', peer: expect.objectContaining({ name: '张三' }) },
      { type: 'message', from: expect.objectContaining({ name: '张三', encoding: 'gbk', utf8: false }), text: '你好', direct: true, packetNo: 2, auto: false, sealed: false },
    ]);
  });

  it('confirms only with a RECVMSG from the peer the message went to', () => {
    const s = new IpmsgSession({ nickname: 'Alice', user: 'alice', host: 'pc1', firstPacketNo: 100, broadcast: [] });
    s.handleDatagram(Buffer.from('1:1:bob:pc2:1:Bob\0'), at(2), 0);
    s.pollEvents();
    const [d] = s.send('x', s.peers(), 0);
    const n = decodeIpmsgPacket(d!.data)!.packetNo;
    s.handleDatagram(Buffer.from(`1:9:eve:pc6:33:${n}`), at(6), 0);
    expect(s.pollEvents().map((e) => e.type)).toEqual(['join']);
    s.handleDatagram(Buffer.from(`1:2:bob:pc2:33:${n}\0`), at(2), 0);
    expect(s.pollEvents()).toEqual([{ type: 'delivered', to: expect.objectContaining({ name: 'Bob' }), packetNo: n }]);
    expect(s.pending).toBe(0);
  });

  it('counts and ignores malformed datagrams, and never throws on any bytes', () => {
    const s = new IpmsgSession({ nickname: 'Alice', user: 'alice', host: 'pc1', firstPacketNo: 1, broadcast: [], maxPeers: 4 });
    expect(s.handleDatagram(Buffer.from('not ipmsg'), at(2), 0)).toEqual([]);
    expect(s.stats.malformed).toBe(1);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 255 }), (bytes, host) => {
        s.handleDatagram(bytes, at(host), 1);
        s.handleDatagram(Buffer.concat([Buffer.from('1:1:u:h:'), bytes]), at(host), 1);
      }),
    );
    expect(s.peers().length).toBeLessThanOrEqual(4);
  });

  it('ignores new peers beyond maxPeers when every peer has answered', () => {
    const s = new IpmsgSession({ nickname: 'A', user: 'a', host: 'h', firstPacketNo: 1, broadcast: [at(2), at(3)], maxPeers: 2 });
    // ANSENTRYs from the endpoints it announced to: answers, so both are verified.
    for (const host of [2, 3, 4]) s.handleDatagram(Buffer.from(`1:1:u${host}:h:3:n\0`), at(host), 0);
    expect(s.peers().map((p) => [p.address, p.verified])).toEqual([['10.0.0.2', true], ['10.0.0.3', true]]);
    expect(s.stats.ignored).toBe(1);
    expect(s.stats.evicted).toBe(0);
  });

  it('refuses a message too big for a packet, or holding NUL, and bad options', () => {
    const s = new IpmsgSession({ nickname: 'A', user: 'a', host: 'h', firstPacketNo: 1, broadcast: [] });
    expect(() => s.send('x'.repeat(9000), 'all', 0)).toThrow(expect.objectContaining({ code: 'UDPKIT_MESSAGE_TOO_LARGE' }));
    expect(() => s.send('a\0b', 'all', 0)).toThrow(expect.objectContaining({ code: 'UDPKIT_INVALID_ARGUMENT' }));
    expect(() => new IpmsgSession({ nickname: 'A', user: 'a:b', host: 'h', firstPacketNo: 1, broadcast: [] })).toThrow(expect.objectContaining({ code: 'UDPKIT_INVALID_ARGUMENT' }));
    expect(() => new IpmsgSession({ nickname: 'A', user: 'a', host: 'h', firstPacketNo: 1, broadcast: [], legacyEncoding: 'nope' })).toThrow(expect.objectContaining({ code: 'UDPKIT_INVALID_ARGUMENT' }));
  });
});
