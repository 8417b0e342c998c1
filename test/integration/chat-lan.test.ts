/**
 * `udpkit chat` (IP Messenger, port 2425/udp) on a real LAN: three network namespaces on one
 * bridge. Hosts 1 and 2 run `udpkit chat --json` (alice, bob); host 3 runs an independent
 * IPMsg peer written in Python from the protocol description (carol). Every node is scripted
 * through stdin and read as JSON lines; tests wait on events, never on timers. Nothing is sent
 * from, or created in, this machine's own network namespace.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { JsonLines, type JsonEvent } from '../helpers/json-lines.js';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';

const support = probeNetns();
if (!support.ok) console.warn(`SKIPPED chat LAN tests: ${support.reason}`);

const peerPy = fileURLToPath(new URL('../fixtures/ipmsg_peer.py', import.meta.url));

interface Peer {
  readonly name: string;
  readonly user: string;
  readonly host: string;
  readonly address: string;
}

/** A udpkit chat event about a peer (`join`, `leave`) named `name`. */
const about = (event: string, name: string) => (e: JsonEvent) => e.event === event && (e.peer as Peer | undefined)?.name === name;
/** A Python peer event (`join`, `leave`) about `name`. */
const pyAbout = (event: string, name: string) => (e: JsonEvent) => e.event === event && e.name === name;
const message = (text: string) => (e: JsonEvent) => e.event === 'message' && e.text === text;
const messages = (e: JsonEvent): boolean => e.event === 'message';

/** Datagrams that are not IPMsg packets: none may show as anything. */
const MALFORMED: readonly Buffer[] = [
  Buffer.alloc(0),
  Buffer.from('hello'),
  Buffer.from('1:2:3'),
  Buffer.from('1:100:mallory:evil:notanumber:x\0'),
  Buffer.from('1:101:mallory:evil:-32:x\0'),
  Buffer.from(`1:102:mallory:evil:${'9'.repeat(40)}:x\0`),
  Buffer.from(':'.repeat(4000)),
  Buffer.alloc(1200, Buffer.from([0xff, 0xfe, 0x00, 0x3a])),
];

/** `python3 -c SEND_RAW IP HEX...`: sends each hex string as one datagram to IP:2425 from an ephemeral port. */
const SEND_RAW = 'import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor h in sys.argv[2:]: s.sendto(bytes.fromhex(h), (sys.argv[1], 2425))';

describe.skipIf(!support.ok)('`udpkit chat` on a 3-host LAN with an independent Python IPMsg peer', () => {
  let lan: Lan;
  let h1: LanHost, h2: LanHost, h3: LanHost;
  let alice: JsonLines, bob: JsonLines, carol: JsonLines;
  let readyAt = 0;

  function startChat(host: LanHost, name: string): JsonLines {
    return new JsonLines(name, lan.run(host, process.execPath, [BIN, 'chat', '--json', '--name', name]));
  }

  /** Waits until a udpkit chat is bound: its `ready` event and its stderr line. */
  async function chatReady(node: JsonLines): Promise<void> {
    expect(await node.waitFor((e) => e.event === 'ready', 'ready', { ms: 10_000 })).toEqual({ event: 'ready', port: 2425 });
    await node.waitForStderr(/listening on \S+:2425\/udp/, 2000);
  }

  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
    lan = await createLan(3);
    [h1, h2, h3] = lan.hosts as [LanHost, LanHost, LanHost];
    alice = startChat(h1, 'alice');
    bob = startChat(h2, 'bob');
    carol = new JsonLines('carol', lan.run(h3, 'python3', ['-u', peerPy, '--name', 'carol', '--bcast', h3.broadcast]));
    await Promise.all([chatReady(alice), chatReady(bob), carol.waitFor((e) => e.event === 'ready', 'ready', { ms: 10_000 })]);
    readyAt = performance.now();
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('discovery: within 2 s every node sees the others, with name and address', async () => {
    const left = (): number => Math.max(1, readyAt + 2000 - performance.now());
    const seen = await Promise.all([
      alice.waitFor(about('join', 'bob'), 'join of bob', { ms: left() }),
      alice.waitFor(about('join', 'carol'), 'join of carol', { ms: left() }),
      bob.waitFor(about('join', 'alice'), 'join of alice', { ms: left() }),
      bob.waitFor(about('join', 'carol'), 'join of carol', { ms: left() }),
      carol.waitFor(pyAbout('join', 'alice'), 'join of alice', { ms: left() }),
      carol.waitFor(pyAbout('join', 'bob'), 'join of bob', { ms: left() }),
    ]);
    const [aBob, aCarol, bAlice, bCarol, cAlice, cBob] = seen;
    expect(aBob!.peer).toMatchObject({ name: 'bob', address: h2.address, user: expect.any(String), host: expect.any(String) });
    expect(aCarol!.peer).toMatchObject({ name: 'carol', address: h3.address, user: 'carol' });
    expect(bAlice!.peer).toMatchObject({ name: 'alice', address: h1.address });
    expect(bCarol!.peer).toMatchObject({ name: 'carol', address: h3.address });
    expect(cAlice).toEqual({ event: 'join', name: 'alice', address: h1.address });
    expect(cBob).toEqual({ event: 'join', name: 'bob', address: h2.address });
    // Each peer is announced once, and nobody announces itself.
    expect(alice.filter((e) => e.event === 'join')).toHaveLength(2);
    expect(bob.filter((e) => e.event === 'join')).toHaveLength(2);
    expect(carol.filter((e) => e.event === 'join')).toHaveLength(2);
  });

  it('`/who` lists both peers with names and addresses', async () => {
    const since = alice.mark();
    alice.send('/who');
    const who = await alice.waitFor((e) => e.event === 'peers', 'peers', { since });
    const peers = who.peers as Peer[];
    expect(peers).toHaveLength(2);
    expect(peers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'bob', address: h2.address }),
        expect.objectContaining({ name: 'carol', address: h3.address }),
      ]),
    );
  });

  it('direct messages with receipts: alice → bob, bob → carol (Python), carol → alice', async () => {
    let a = alice.mark();
    let b = bob.mark();
    let c = carol.mark();
    alice.send('/msg bob hello bob');
    const atBob = await bob.waitFor(message('hello bob'), 'message from alice', { since: b });
    expect(atBob).toMatchObject({ from: { name: 'alice', address: h1.address }, direct: true });
    expect(await alice.waitFor((e) => e.event === 'delivered', 'delivered', { since: a })).toMatchObject({ to: 'bob', packet: expect.any(Number) });

    b = bob.mark();
    bob.send('/msg carol hi carol');
    expect(await carol.waitFor(message('hi carol'), 'message from bob', { since: c })).toEqual({
      event: 'message',
      from_name: 'bob',
      address: h2.address,
      text: 'hi carol',
      utf8: true,
      broadcast: false,
    });
    expect(await bob.waitFor((e) => e.event === 'delivered', 'delivered', { since: b })).toMatchObject({ to: 'carol', packet: expect.any(Number) });

    a = alice.mark();
    c = carol.mark();
    carol.send(JSON.stringify({ cmd: 'send', to: h1.address, text: 'hi alice', utf8: true }));
    const sent = await carol.waitFor((e) => e.event === 'sent', 'sent', { since: c });
    expect(await alice.waitFor(message('hi alice'), 'message from carol', { since: a })).toMatchObject({
      from: { name: 'carol', address: h3.address },
      direct: true,
    });
    expect(await carol.waitFor((e) => e.event === 'recvmsg', 'recvmsg', { since: c })).toEqual({ event: 'recvmsg', packet: sent.packet, address: h1.address });
    // No one else saw the direct messages.
    expect(carol.filter(message('hello bob'))).toEqual([]);
    expect(alice.filter(message('hi carol'))).toEqual([]);
    expect(bob.filter(message('hi alice'))).toEqual([]);
  });

  it('a plain line from bob goes to all peers: alice and carol', async () => {
    const [a, c] = [alice.mark(), carol.mark()];
    bob.send('hello everyone');
    expect(await alice.waitFor(message('hello everyone'), 'message from bob', { since: a })).toMatchObject({
      from: { name: 'bob', address: h2.address },
      direct: false,
    });
    expect(await carol.waitFor(message('hello everyone'), 'message from bob', { since: c })).toMatchObject({ from_name: 'bob', address: h2.address });
    expect(bob.filter(message('hello everyone'))).toEqual([]);
  });

  it('Chinese text both ways, and a legacy GBK message (no UTF8OPT) decoded by udpkit', async () => {
    const text = '你好，世界';
    let [a, b, c] = [alice.mark(), bob.mark(), carol.mark()];
    alice.send(`/msg carol ${text}`);
    expect(await carol.waitFor(message(text), 'Chinese from alice', { since: c })).toMatchObject({ from_name: 'alice', utf8: true });
    alice.send(`/msg bob ${text}`);
    expect(await bob.waitFor(message(text), 'Chinese from alice', { since: b })).toMatchObject({ from: { name: 'alice' }, direct: true });

    carol.send(JSON.stringify({ cmd: 'send', to: h1.address, text, utf8: true }));
    expect(await alice.waitFor(message(text), 'Chinese from carol', { since: a })).toMatchObject({ from: { name: 'carol' }, direct: true });

    [a, c] = [alice.mark(), carol.mark()];
    const legacy = '旧式编码：你好，世界';
    carol.send(JSON.stringify({ cmd: 'send', to: h1.address, text: legacy, utf8: false }));
    expect(await alice.waitFor(message(legacy), 'GBK text from carol', { since: a })).toMatchObject({ from: { name: 'carol' }, direct: true });
    expect(await carol.waitFor((e) => e.event === 'recvmsg', 'recvmsg', { since: c })).toMatchObject({ address: h1.address });
    expect(alice.filter(messages, a)).toHaveLength(1);
  });

  it('malformed datagrams to alice do not crash her nor show as messages', async () => {
    const a = alice.mark();
    // From a stranger's port, then from carol's own (a known peer), then one real message.
    const stranger = lan.run(h3, 'python3', ['-c', SEND_RAW, h1.address, ...MALFORMED.map((d) => d.toString('hex'))]);
    expect(await new Promise((resolve) => stranger.once('close', resolve))).toBe(0);
    for (const data of MALFORMED) carol.send(JSON.stringify({ cmd: 'raw', to: h1.address, hex: data.toString('hex') }));
    // Well formed, but a receipt (RECVMSG) for a packet alice never sent: no `delivered`.
    carol.send(JSON.stringify({ cmd: 'packet', to: h1.address, command: 0x21, extra: '999999' }));
    // Sent after the garbage from the same socket on a lossless link: it arrives last.
    carol.send(JSON.stringify({ cmd: 'send', to: h1.address, text: 'still there?', utf8: true }));
    await alice.waitFor(message('still there?'), 'the message after the garbage', { since: a });
    expect(alice.filter(messages, a)).toEqual([expect.objectContaining({ text: 'still there?' })]);
    // Receipts of earlier tests' messages may still arrive now; only the forged one must not count.
    expect(alice.filter((e) => ['join', 'leave', 'not-json'].includes(e.event) || (['delivered', 'undelivered'].includes(e.event) && e.packet === 999999), a)).toEqual([]);
    expect(alice.running).toBe(true);
    const w = alice.mark();
    alice.send('/who');
    expect((await alice.waitFor((e) => e.event === 'peers', 'peers', { since: w })).peers).toHaveLength(2);
  });

  it('`/quit` on bob: bob exits 0 and alice and carol see him leave', async () => {
    const [a, c] = [alice.mark(), carol.mark()];
    bob.send('/quit');
    expect(await bob.closed).toEqual({ code: 0, signal: null });
    expect((await alice.waitFor(about('leave', 'bob'), 'leave of bob', { since: a })).peer).toMatchObject({ name: 'bob', address: h2.address });
    expect(await carol.waitFor(pyAbout('leave', 'bob'), 'leave of bob', { since: c })).toEqual({ event: 'leave', name: 'bob', address: h2.address });
    const w = alice.mark();
    alice.send('/who');
    expect((await alice.waitFor((e) => e.event === 'peers', 'peers', { since: w })).peers).toEqual([expect.objectContaining({ name: 'carol' })]);
  });

  it('end of input quits too: dave (udpkit) joins, his stdin closes, alice and carol see him leave', async () => {
    const [a, c] = [alice.mark(), carol.mark()];
    const dave = startChat(h2, 'dave');
    await chatReady(dave);
    await alice.waitFor(about('join', 'dave'), 'join of dave', { since: a, ms: 2000 });
    await carol.waitFor(pyAbout('join', 'dave'), 'join of dave', { since: c, ms: 2000 });
    dave.child.stdin!.end();
    expect(await dave.closed).toEqual({ code: 0, signal: null });
    await alice.waitFor(about('leave', 'dave'), 'leave of dave', { since: a });
    await carol.waitFor(pyAbout('leave', 'dave'), 'leave of dave', { since: c });
  });

  it('killed peers (udpkit erin and Python carol, SIGKILL) age out of alice within 30 s; a message to one is undelivered', { timeout: 45_000 }, async () => {
    let a = alice.mark();
    const erin = startChat(h2, 'erin');
    await chatReady(erin);
    await alice.waitFor(about('join', 'erin'), 'join of erin', { since: a, ms: 2000 });
    a = alice.mark();
    erin.child.kill('SIGKILL');
    carol.child.kill('SIGKILL');
    await Promise.all([erin.closed, carol.closed]);
    const killedAt = performance.now();
    alice.send('/msg carol are you there?');
    const left = (): number => Math.max(1, killedAt + 30_000 - performance.now());
    const [erinLeft, carolLeft, undelivered] = await Promise.all([
      alice.waitFor(about('leave', 'erin'), 'leave of erin', { since: a, ms: left() }),
      alice.waitFor(about('leave', 'carol'), 'leave of carol', { since: a, ms: left() }),
      alice.waitFor((e) => e.event === 'undelivered', 'undelivered', { since: a, ms: left() }),
    ]);
    expect(erinLeft.peer).toMatchObject({ address: h2.address });
    expect(carolLeft.peer).toMatchObject({ address: h3.address });
    expect(undelivered).toMatchObject({ to: 'carol' });
    expect(alice.running).toBe(true);
  });
});

describe.skipIf(!support.ok)('the Python IPMsg peer (test fixture) against itself on a 2-host LAN', () => {
  let lan: Lan;
  beforeAll(async () => {
    lan = await createLan(2);
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('discovers, confirms UTF-8 and GBK messages, ignores garbage, and leaves on quit and on EOF', async () => {
    const [h1, h2] = lan.hosts as [LanHost, LanHost];
    const peer = (h: LanHost, name: string): JsonLines => new JsonLines(name, lan.run(h, 'python3', ['-u', peerPy, '--name', name, '--bcast', h.broadcast]));
    const p = peer(h1, 'pat');
    await p.waitFor((e) => e.event === 'ready', 'ready', { ms: 10_000 });
    const q = peer(h2, 'quinn');
    expect(await p.waitFor(pyAbout('join', 'quinn'), 'join')).toEqual({ event: 'join', name: 'quinn', address: h2.address });
    expect(await q.waitFor(pyAbout('join', 'pat'), 'join')).toEqual({ event: 'join', name: 'pat', address: h1.address });

    for (const utf8 of [true, false]) {
      const [mp, mq] = [p.mark(), q.mark()];
      p.send(JSON.stringify({ cmd: 'send', to: h2.address, text: '你好，世界', utf8 }));
      const sent = await p.waitFor((e) => e.event === 'sent', 'sent', { since: mp });
      expect(await q.waitFor(messages, 'message', { since: mq })).toEqual({ event: 'message', from_name: 'pat', address: h1.address, text: '你好，世界', utf8, broadcast: false });
      expect(await p.waitFor((e) => e.event === 'recvmsg', 'recvmsg', { since: mp })).toEqual({ event: 'recvmsg', packet: sent.packet, address: h2.address });
    }

    const mq = q.mark();
    for (const data of MALFORMED) p.send(JSON.stringify({ cmd: 'raw', to: h2.address, hex: data.toString('hex') }));
    p.send(JSON.stringify({ cmd: 'send', to: h2.address, text: 'after', utf8: true }));
    await q.waitFor(message('after'), 'message after the garbage', { since: mq });
    expect(q.filter((e) => e.event !== 'recvmsg', mq)).toEqual([expect.objectContaining({ text: 'after' })]);

    const mp = p.mark();
    q.send('{"cmd":"quit"}');
    expect(await q.closed).toEqual({ code: 0, signal: null });
    expect(await p.waitFor(pyAbout('leave', 'quinn'), 'leave', { since: mp })).toEqual({ event: 'leave', name: 'quinn', address: h2.address });
    p.child.stdin!.end();
    expect(await p.closed).toEqual({ code: 0, signal: null });
  });
});

const forgePy = fileURLToPath(new URL('../fixtures/forge_entries.py', import.meta.url));

describe.skipIf(!support.ok)('`udpkit chat` on a LAN flooded with entries from forged addresses', () => {
  let lan: Lan;
  beforeAll(async () => {
    lan = await createLan(3);
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('1,100 entries from 20 addresses nobody holds fill its 1,024 places; the Python peer then joins and talks with it', { timeout: 60_000 }, async () => {
    const [h1, h2, h3] = lan.hosts as [LanHost, LanHost, LanHost];
    const alice = new JsonLines('alice', lan.run(h1, process.execPath, [BIN, 'chat', '--json', '--name', 'alice']));
    expect(await alice.waitFor((e) => e.event === 'ready', 'ready', { ms: 10_000 })).toEqual({ event: 'ready', port: 2425 });
    // 10.77.0.100-119 exist on no host: raw packets from h3 claim them, 55 source ports each.
    const forger = new JsonLines('forger', lan.run(h3, 'python3', ['-u', forgePy, h1.address, '2425', '10.77.0', '100', '20', '55']));
    const joins = (): number => alice.filter((e) => e.event === 'join').length;
    const t0 = performance.now();
    for (let batch = 1; batch <= 20; batch++) {
      await forger.waitFor((e) => e.event === 'sent' && e['total'] === 55 * batch, `batch ${batch}`, { ms: 10_000 });
      await alice.waitFor(() => joins() >= 55 * batch, `${55 * batch} joins`, { ms: 10_000 });
      if (batch < 20) forger.send('next');
    }
    expect(await forger.closed).toEqual({ code: 0, signal: null });
    const floodSeconds = (performance.now() - t0) / 1000;
    expect(joins()).toBe(1100);

    const carol = new JsonLines('carol', lan.run(h2, 'python3', ['-u', peerPy, '--name', 'carol', '--bcast', h2.broadcast]));
    await carol.waitFor((e) => e.event === 'ready', 'ready', { ms: 10_000 });
    expect((await alice.waitFor(about('join', 'carol'), 'join of carol', { ms: 5000 })).peer).toMatchObject({ name: 'carol', address: h2.address });
    let w = alice.mark();
    alice.send('/who');
    const peers = (await alice.waitFor((e) => e.event === 'peers', 'peers', { since: w })).peers as Peer[];
    expect(peers).toHaveLength(1024);
    expect(peers.filter((p) => p.name === 'carol')).toEqual([expect.objectContaining({ address: h2.address })]);

    w = alice.mark();
    alice.send('/msg carol hello carol');
    // Carol may not know alice's nickname yet (her ANSENTRY may have been held back by the limit).
    expect(await carol.waitFor(message('hello carol'), 'message from alice', { ms: 5000 })).toMatchObject({ address: h1.address, utf8: true, broadcast: false });
    expect(await alice.waitFor((e) => e.event === 'delivered', 'delivered', { since: w, ms: 5000 })).toMatchObject({ to: 'carol' });
    carol.send(JSON.stringify({ cmd: 'send', to: h1.address, text: 'hi alice', utf8: true }));
    expect(await alice.waitFor(message('hi alice'), 'message from carol', { ms: 5000 })).toMatchObject({ from: { name: 'carol' }, direct: true });

    alice.child.stdin!.end();
    expect(await alice.closed).toEqual({ code: 0, signal: null });
    const evicted = alice.filter((e) => e.event === 'leave' && e['reason'] === 'evicted');
    expect(evicted).toHaveLength(77);
    expect(evicted.every((e) => /^10\.77\.0\.1[01]\d$/.test((e.peer as Peer).address))).toBe(true);
    // 1,100 forged datagrams sent: 1,100 joins shown, none dropped by the kernel.
    const m = /received (\d+) datagrams: (\d+) IPMsg packets, 0 not IPMsg, (\d+) our own; kernel dropped (\d+); peers evicted 77, ignored 0; rate-limited sends (\d+)/.exec(alice.stderr);
    expect(m, alice.stderr).not.toBeNull();
    expect(Number(m![4])).toBe(0);
    expect(Number(m![2])).toBeGreaterThanOrEqual(1100 + 3); // carol: her entry, a receipt, a message
    expect(Number(m![5])).toBeGreaterThanOrEqual(1100 - 80 - Math.ceil(40 * floodSeconds));
    carol.send('{"cmd":"quit"}');
    expect(await carol.closed).toEqual({ code: 0, signal: null });
  });
});
