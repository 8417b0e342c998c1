/**
 * Absence, sealed messages and the information commands of the IPMsg session, driven over an
 * in-memory link with a simulated clock, checked to the byte.
 */
import { describe, expect, it } from 'vitest';
import { IpmsgCommand as Cmd, IpmsgOption as Opt, decodeIpmsgPacket, ipmsgCommandOf } from '../../src/protocol/ipmsg-packet.js';
import { IpmsgSession, type IpmsgDatagram, type IpmsgEndpoint, type IpmsgEvent } from '../../src/protocol/ipmsg-session.js';

const U = Opt.UTF8OPT;
const at = (host: number): IpmsgEndpoint => ({ address: `10.0.0.${host}`, port: 2425 });

/** Two sessions, A at 10.0.0.1 and B at 10.0.0.2, and every datagram between them. */
function pair(a: Partial<ConstructorParameters<typeof IpmsgSession>[0]> = {}, b: typeof a = {}) {
  const make = (host: number, name: string, o: typeof a) =>
    new IpmsgSession({ nickname: name, user: name.toLowerCase(), host: `pc${host}`, firstPacketNo: 1000 * host, broadcast: [at(host === 1 ? 2 : 1)], ...o });
  const nodes = [make(1, 'Alice', a), make(2, 'Bob', b)] as const;
  const log: Array<{ from: number; command: number; data: Buffer }> = [];
  const events: [IpmsgEvent[], IpmsgEvent[]] = [[], []];
  let now = 0;
  /** Delivers `out`, sent by node `from` (1 or 2), and all it causes, until quiet. */
  const deliver = (from: number, out: IpmsgDatagram[]): void => {
    const queue = out.map((d) => ({ from, d }));
    for (let item = queue.shift(); item; item = queue.shift()) {
      const to = item.d.address === '10.0.0.1' ? 1 : 2;
      log.push({ from: item.from, command: decodeIpmsgPacket(item.d.data)!.command, data: item.d.data });
      const answers = nodes[to - 1]!.handleDatagram(item.d.data, at(item.from), now);
      queue.push(...answers.map((d) => ({ from: to, d })));
    }
    for (const i of [0, 1] as const) events[i].push(...nodes[i].pollEvents());
  };
  const [alice, bob] = nodes;
  deliver(1, alice.start(now));
  deliver(2, bob.start(now));
  log.length = 0;
  events[0].length = 0;
  events[1].length = 0;
  const tick = (ms: number): void => {
    now += ms;
    deliver(1, alice.handleTimeout(now));
    deliver(2, bob.handleTimeout(now));
  };
  return { alice, bob, log, events, deliver, tick, now: () => now };
}

const commands = (log: ReadonlyArray<{ from: number; command: number }>) => log.map((x) => [x.from, ipmsgCommandOf(x.command), x.command & ~0xff & ~U & ~Opt.CAPUTF8OPT]);

describe('IPMsg absence', () => {
  it('going away broadcasts BR_ABSENCE with ABSENCEOPT; the peer sees it, and its entries carry it', () => {
    const { alice, bob, log, events, deliver } = pair();
    deliver(1, alice.setAbsence('at lunch', 0));
    expect(log.map((x) => x.data.toString())).toEqual([`1:1002:alice:pc1:${Cmd.BR_ABSENCE | Opt.ABSENCEOPT | U | Opt.CAPUTF8OPT}:Alice\0`]);
    expect(events[1]).toEqual([{ type: 'absence', peer: expect.objectContaining({ name: 'Alice', away: true }), away: true }]);
    expect(bob.peers()[0]!.away).toBe(true);
    expect(alice.absence).toBe('at lunch');
    deliver(1, alice.setAbsence(undefined, 0));
    expect(events[1].at(-1)).toMatchObject({ type: 'absence', away: false });
    expect(log.at(-1)!.command & Opt.ABSENCEOPT).toBe(0);
    // An absence text must fit the automatic answer's packet.
    expect(() => alice.setAbsence('x'.repeat(8192), 0)).toThrow(expect.objectContaining({ code: 'UDPKIT_MESSAGE_TOO_LARGE' }));
    expect(alice.absence).toBeUndefined();
  });

  it('answers a message to it alone once, with AUTORETOPT, and never answers an automatic answer', () => {
    const { alice, bob, log, events, deliver } = pair();
    deliver(2, bob.setAbsence('', 0));
    log.length = 0;
    deliver(1, alice.send('are you there?', alice.peers(), 0));
    // SENDMSG, its RECVMSG, then exactly one automatic answer (no receipt asked for it).
    expect(commands(log)).toEqual([
      [1, Cmd.SENDMSG, Opt.SENDCHECKOPT],
      [2, Cmd.RECVMSG, 0],
      [2, Cmd.SENDMSG, Opt.AUTORETOPT],
    ]);
    expect(log[2]!.data.toString()).toBe(`1:2004:bob:pc2:${Cmd.SENDMSG | Opt.AUTORETOPT | U}:I am away from my desk\0`);
    expect(events[0].filter((e) => e.type === 'message')).toEqual([
      { type: 'message', from: expect.objectContaining({ name: 'Bob' }), text: 'I am away from my desk', direct: true, packetNo: 2004, auto: true, sealed: false },
    ]);
    expect(bob.stats.autoReplies).toBe(1);
    // A message to everyone gets no automatic answer.
    log.length = 0;
    deliver(1, alice.send('lunch?', 'all', 0));
    expect(commands(log)).toEqual([[1, Cmd.SENDMSG, Opt.BROADCASTOPT]]);
  });

  it('two absent peers exchange exactly one automatic answer each', () => {
    const { alice, bob, log, deliver, tick } = pair();
    deliver(1, alice.setAbsence('Alice is out', 0));
    deliver(2, bob.setAbsence('Bob is out', 0));
    log.length = 0;
    deliver(1, alice.send('hi Bob', alice.peers(), 0));
    deliver(2, bob.send('hi Alice', bob.peers(), 0));
    for (let i = 0; i < 10; i++) tick(1000);
    const autos = log.filter((x) => ipmsgCommandOf(x.command) === Cmd.SENDMSG && (x.command & Opt.AUTORETOPT) !== 0);
    expect(autos.map((x) => [x.from, decodeIpmsgPacket(x.data)!.extra])).toEqual([
      [2, 'Bob is out\0'],
      [1, 'Alice is out\0'],
    ]);
    expect(log.filter((x) => ipmsgCommandOf(x.command) === Cmd.SENDMSG)).toHaveLength(4);
    expect([alice.stats.autoReplies, bob.stats.autoReplies]).toEqual([1, 1]);
  });

  it('answers GETINFO with its version and GETABSENCEINFO with its absence text; ignores GETLIST, counted', () => {
    const { alice, bob, events, log, deliver } = pair({ version: 'udpkit 9.9' });
    deliver(2, bob.ask(bob.peers()[0]!, 'version'));
    deliver(2, bob.ask(bob.peers()[0]!, 'absence'));
    expect(log.filter((x) => x.from === 1).map((x) => x.data.toString())).toEqual([
      `1:1002:alice:pc1:${Cmd.SENDINFO | U}:udpkit 9.9`,
      `1:1003:alice:pc1:${Cmd.SENDABSENCEINFO | U}:Not absence mode`,
    ]);
    expect(events[1]).toEqual([
      { type: 'info', from: expect.objectContaining({ name: 'Alice' }), kind: 'version', text: 'udpkit 9.9' },
      { type: 'info', from: expect.objectContaining({ name: 'Alice' }), kind: 'absence', text: 'Not absence mode' },
    ]);
    for (const cmd of [Cmd.BR_ISGETLIST, Cmd.GETLIST, Cmd.ANSLIST, Cmd.BR_ISGETLIST2, Cmd.DELMSG]) {
      expect(alice.handleDatagram(Buffer.from(`1:${cmd}:bob:pc2:${cmd}:`), at(2), 0)).toEqual([]);
    }
    expect(alice.stats.unanswered).toBe(5);
  });
});

describe('IPMsg sealed messages', () => {
  it('held until opened; opening sends READMSG; the sender sees it read and confirms with ANSREADMSG', () => {
    const { alice, bob, log, events, deliver, tick } = pair();
    deliver(1, alice.send('the code is 1234', alice.peers(), 0, { sealed: true }));
    expect(log[0]!.data.toString()).toBe(`1:1002:alice:pc1:${Cmd.SENDMSG | Opt.SENDCHECKOPT | Opt.SECRETOPT | Opt.READCHECKOPT | U}:the code is 1234\0`);
    expect(events[1]).toEqual([{ type: 'sealed', from: expect.objectContaining({ name: 'Alice' }), id: 1, packetNo: 1002 }]);
    expect(events[0]).toEqual([{ type: 'delivered', to: expect.objectContaining({ name: 'Bob' }), packetNo: 1002 }]);
    expect(bob.unopened().map((m) => m.id)).toEqual([1]);
    log.length = 0;
    deliver(2, bob.open(1, 0));
    expect(log.map((x) => x.data.toString())).toEqual([
      `1:2003:bob:pc2:${Cmd.READMSG | Opt.READCHECKOPT | U}:1002`,
      `1:1003:alice:pc1:${Cmd.ANSREADMSG | U}:2003`,
    ]);
    expect(events[1].at(-1)).toEqual({ type: 'message', from: expect.objectContaining({ name: 'Alice' }), text: 'the code is 1234', direct: true, packetNo: 1002, auto: false, sealed: true });
    expect(events[0].at(-1)).toEqual({ type: 'read', by: expect.objectContaining({ name: 'Bob' }), packetNo: 1002 });
    expect(bob.unopened()).toEqual([]);
    expect(() => bob.open(1, 0)).toThrow(expect.objectContaining({ code: 'UDPKIT_INVALID_ARGUMENT' }));
    // Confirmed: the READMSG is not sent again.
    log.length = 0;
    tick(1000);
    tick(1000);
    expect(log.filter((x) => ipmsgCommandOf(x.command) === Cmd.READMSG)).toEqual([]);
  });

  it('resends READMSG until ANSREADMSG comes, reports the read once, and believes no READMSG for a message it never sealed', () => {
    const { alice, bob, log, events, deliver, tick } = pair();
    deliver(1, alice.send('sealed', alice.peers(), 0, { sealed: true }));
    const open = bob.open(1, 0);
    tick(1000); // the first READMSG is lost; its resend arrives
    const resent = log.filter((x) => ipmsgCommandOf(x.command) === Cmd.READMSG);
    expect(resent).toHaveLength(1);
    expect(resent[0]!.data).toEqual(open[0]!.data);
    deliver(2, open); // the first one arrives late: confirmed again, not reported twice
    expect(events[0].filter((e) => e.type === 'read')).toHaveLength(1);
    expect(log.filter((x) => ipmsgCommandOf(x.command) === Cmd.ANSREADMSG)).toHaveLength(2);
    const before = alice.stats.unanswered;
    expect(alice.handleDatagram(Buffer.from(`1:9:bob:pc2:${Cmd.READMSG | Opt.READCHECKOPT}:4242`), at(2), 0)).toEqual([]);
    expect(alice.stats.unanswered).toBe(before + 1);
  });

  it('refuses a sealed message, unconfirmed, once the unopened ones fill maxSealedBytes', () => {
    const { alice, bob, log, events, deliver } = pair({}, { maxSealedBytes: 512 + 10 });
    deliver(1, alice.send('0123456789', alice.peers(), 0, { sealed: true }));
    log.length = 0;
    deliver(1, alice.send('x', alice.peers(), 0, { sealed: true }));
    expect(commands(log)).toEqual([[1, Cmd.SENDMSG, Opt.SENDCHECKOPT | Opt.SECRETOPT | Opt.READCHECKOPT]]);
    expect(bob.stats.sealedRefused).toBe(1);
    expect(events[1].filter((e) => e.type === 'sealed')).toHaveLength(1);
    // Once the first is opened, the resent copy fits.
    deliver(2, bob.open(1, 0));
    log.length = 0;
    deliver(1, alice.handleTimeout(1000));
    expect(events[1].filter((e) => e.type === 'sealed')).toHaveLength(2);
  });
});
