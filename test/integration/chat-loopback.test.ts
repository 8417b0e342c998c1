/**
 * The chat driver over real loopback sockets. Never broadcasts: each participant announces
 * itself to chosen 127.0.0.1 ports instead (`broadcast: false, announceTo`), and foreign IPMsg
 * clients are played by plain node:dgram sockets speaking the text protocol.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IpmsgCommand, IpmsgOption, decodeIpmsgPacket, ipmsgCommandOf, type IpmsgPacket } from '../../src/protocol/ipmsg-packet.js';
import { chat, type Chat, type ChatOptions } from '../../src/transport/chat.js';
import { TINY_ENTRY, floodEntries } from '../helpers/ipmsg-flood.js';

const LOCAL = '127.0.0.1';
const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function participant(nickname: string, options: Partial<ChatOptions> = {}): Promise<Chat> {
  const c = await chat({ nickname, port: 0, broadcast: false, user: nickname.toLowerCase(), host: 'loop', ...options });
  open.push(c);
  return c;
}

const next = <T>(c: Chat, event: 'join' | 'leave' | 'message' | 'delivered' | 'undelivered'): Promise<T> => once(c, event).then(([e]) => e as T);

/** A foreign client: a plain UDP socket (on `address`, default 127.0.0.1) that records what it gets. */
async function rawPeer(
  address = LOCAL,
): Promise<{ socket: dgram.Socket; port: number; packets: Array<{ p: IpmsgPacket; port: number; data: Buffer }>; wait: (cmd: number) => Promise<IpmsgPacket> }> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, address);
  await once(socket, 'listening');
  open.push({ close: () => new Promise<void>((resolve) => socket.close(() => resolve())) });
  const packets: Array<{ p: IpmsgPacket; port: number; data: Buffer }> = [];
  const waiters: Array<{ cmd: number; resolve: (p: IpmsgPacket) => void }> = [];
  socket.on('message', (data, rinfo) => {
    const p = decodeIpmsgPacket(data);
    if (!p) return;
    packets.push({ p, port: rinfo.port, data });
    const i = waiters.findIndex((w) => w.cmd === ipmsgCommandOf(p.command));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(p);
  });
  const wait = (cmd: number) => new Promise<IpmsgPacket>((resolve) => waiters.push({ cmd, resolve }));
  return { socket, port: socket.address().port, packets, wait };
}

async function pair(options: Partial<ChatOptions> = {}): Promise<{ alice: Chat; bob: Chat }> {
  const alice = await participant('Alice', options);
  const aliceMeetsBob = next(alice, 'join');
  const bob = await participant('Bob', { ...options, announceTo: [{ address: LOCAL, port: alice.address().port }] });
  const [bobJoined] = await Promise.all([aliceMeetsBob, next(bob, 'join')]);
  expect(bobJoined).toMatchObject({ peer: { name: 'Bob', user: 'bob', host: 'loop', address: LOCAL, port: bob.address().port } });
  return { alice, bob };
}

describe('chat() on loopback', () => {
  it('two participants meet: an entry one way, the answer back', async () => {
    const { alice, bob } = await pair();
    expect(alice.peers().map((p) => p.name)).toEqual(['Bob']);
    expect(bob.peers().map((p) => p.name)).toEqual(['Alice']);
    expect(bob.find('alice')).toHaveLength(1);
    expect(bob.find(`${LOCAL}:${alice.address().port}`)).toHaveLength(1);
  });

  it('sends a direct message with a receipt, and a message to everyone without', async () => {
    const { alice, bob } = await pair();
    const got = next<{ text: string; direct: boolean; from: { name: string } }>(bob, 'message');
    const delivered = next<{ to: { name: string }; packetNo: number }>(alice, 'delivered');
    expect(alice.send('hi Bob: 你好 🎉', alice.find('Bob'))).toBe(1);
    expect(await got).toMatchObject({ text: 'hi Bob: 你好 🎉', direct: true, from: { name: 'Alice' } });
    expect((await delivered).to.name).toBe('Bob');
    const all = next<{ text: string; direct: boolean }>(alice, 'message');
    expect(bob.send('hello all', 'all')).toBe(1);
    expect(await all).toMatchObject({ text: 'hello all', direct: false });
    expect(alice.pending).toBe(0);
  });

  it('sees a participant leave when it closes (BR_EXIT)', async () => {
    const { alice, bob } = await pair();
    const left = next<{ peer: { name: string }; reason: string }>(bob, 'leave');
    await alice.close();
    expect(await left).toMatchObject({ peer: { name: 'Alice' }, reason: 'exit' });
    expect(bob.peers()).toEqual([]);
  });

  it('with a key, only participants holding it meet', async () => {
    const { alice, bob } = await pair({ key: 'sesame' });
    const got = next<{ text: string }>(bob, 'message');
    alice.send('sealed', alice.peers());
    expect((await got).text).toBe('sealed');
    // A plain IPMsg packet reaches a keyed participant as nothing at all.
    const raw = await rawPeer();
    raw.socket.send(`1:1:eve:pc:${IpmsgCommand.BR_ENTRY}:Eve\0`, alice.address().port, LOCAL);
    const carol = await participant('Carol', { key: 'other', announceTo: [{ address: LOCAL, port: alice.address().port }] });
    await vi.waitFor(() => expect(alice.stats.refused).toBe(2));
    expect(alice.peers().map((p) => p.name)).toEqual(['Bob']);
    expect(carol.peers()).toEqual([]);
  });

  it('speaks IPMsg with a foreign client: entry, legacy GBK text, receipts, retransmission', async () => {
    const alice = await participant('Alice', { retransmitMs: 100 });
    const raw = await rawPeer();
    const port = alice.address().port;
    const joined = next<{ peer: { name: string } }>(alice, 'join');
    const answered = raw.wait(IpmsgCommand.ANSENTRY);
    raw.socket.send(Buffer.concat([Buffer.from(`1:10:zhang:pc8:${IpmsgCommand.BR_ENTRY}:`), iconv.encode('张三', 'gbk'), Buffer.from('\0grp')]), port, LOCAL);
    expect((await joined).peer.name).toBe('张三');
    const ans = await answered;
    expect(ans).toMatchObject({ user: 'alice', host: 'loop', extra: 'Alice\0' });
    expect(ans.command & IpmsgOption.CAPUTF8OPT).toBeTruthy();

    const got = next<{ text: string; direct: boolean }>(alice, 'message');
    const receipt = raw.wait(IpmsgCommand.RECVMSG);
    raw.socket.send(Buffer.concat([Buffer.from(`1:11:zhang:pc8:${IpmsgCommand.SENDMSG | IpmsgOption.SENDCHECKOPT}:`), iconv.encode('你好', 'gbk'), Buffer.from('\0')]), port, LOCAL);
    expect(await got).toMatchObject({ text: '你好', direct: true });
    expect((await receipt).extra).toBe('11');

    // The client answers only the second copy of a message: it is resent, then delivered.
    const first = raw.wait(IpmsgCommand.SENDMSG);
    const delivered = next<{ packetNo: number }>(alice, 'delivered');
    alice.send('ping', alice.peers());
    const p = await first;
    const again = await raw.wait(IpmsgCommand.SENDMSG);
    expect(again.packetNo).toBe(p.packetNo);
    raw.socket.send(`1:12:zhang:pc8:${IpmsgCommand.RECVMSG | IpmsgOption.UTF8OPT}:${p.packetNo}\0`, port, LOCAL);
    expect((await delivered).packetNo).toBe(p.packetNo);
  });

  it('drops a client that stops answering, and gives up a message it never confirms', async () => {
    const alice = await participant('Alice', { probeAfterMs: 150, probeIntervalMs: 50, dropAfterMs: 200, retransmitMs: 40, maxRetransmits: 2 });
    const raw = await rawPeer();
    const joined = next(alice, 'join');
    raw.socket.send(`1:1:mute:pc:${IpmsgCommand.BR_ENTRY | IpmsgOption.UTF8OPT}:Mute\0`, alice.address().port, LOCAL);
    await joined;
    const undelivered = next<{ to: { name: string } }>(alice, 'undelivered');
    const left = next<{ reason: string }>(alice, 'leave');
    const t0 = Date.now();
    alice.send('hello?', alice.peers());
    expect((await undelivered).to.name).toBe('Mute');
    expect(await left).toMatchObject({ reason: 'silent' });
    expect(Date.now() - t0).toBeLessThan(2000);
    const sent = raw.packets.map((x) => ipmsgCommandOf(x.p.command));
    expect(sent.filter((c) => c === IpmsgCommand.SENDMSG)).toHaveLength(3);
    expect(sent.filter((c) => c === IpmsgCommand.BR_ENTRY).length).toBeGreaterThanOrEqual(1);
  });

  it('ignores garbage and keeps going', async () => {
    const { alice, bob } = await pair();
    const raw = await rawPeer();
    for (const junk of ['', 'hello', '1:2:3', '\xff\xfe:::::', 'UK\x01D']) raw.socket.send(Buffer.from(junk, 'latin1'), alice.address().port, LOCAL);
    const got = next<{ text: string }>(alice, 'message');
    bob.send('still here', 'all');
    expect((await got).text).toBe('still here');
    expect(alice.stats.malformed).toBe(5);
  });
});

describe('chat() against forged sources on loopback', () => {
  it('one 10-byte BR_ENTRY from a source that never answers earns 2 datagrams (ANSENTRY and one probe) over the probe and drop cycle', async () => {
    const alice = await participant('Alice', { probeAfterMs: 300, probeIntervalMs: 50, dropAfterMs: 1500 });
    const forged = await rawPeer('127.0.0.2');
    const joined = next<{ peer: { address: string } }>(alice, 'join');
    const left = next<{ peer: { address: string }; reason: string }>(alice, 'leave');
    forged.socket.send(TINY_ENTRY, alice.address().port, LOCAL);
    expect((await joined).peer.address).toBe('127.0.0.2');
    expect(await left).toMatchObject({ reason: 'silent', peer: { address: '127.0.0.2' } });
    const drops = await alice.kernelDrops();
    await alice.close();
    // Alice is closed, so all she sent is queued at the forged socket: a marker sent now comes after it.
    const marker = forged.wait(IpmsgCommand.NOOPERATION);
    const other = await rawPeer();
    other.socket.send('1:1:m:m:0:', forged.port, '127.0.0.2');
    await marker;
    const got = forged.packets.filter((x) => x.p.user === 'alice');
    expect(got.map((x) => ipmsgCommandOf(x.p.command))).toEqual([IpmsgCommand.ANSENTRY, IpmsgCommand.BR_ENTRY]);
    // Each is our entry packet, 1:PACKETNO:alice:loop:COMMAND:Alice\0: with a packet number of
    // at most 10 digits and an 8-digit command, 25 bytes + user + host + nickname (+ group).
    for (const x of got) expect(x.data.toString()).toBe(`1:${x.p.packetNo}:alice:loop:${x.p.command}:Alice\0`);
    const bytes = got.reduce((n, x) => n + x.data.length, 0);
    expect(bytes).toBeLessThanOrEqual(2 * (25 + 'alice'.length + 'loop'.length + 'Alice'.length));
    // 1 datagram sent: shown as a join, nothing refused or dropped.
    expect(alice.stats).toMatchObject({ packets: 1, malformed: 0, evicted: 0, ignored: 0, rateLimited: 0, refused: 0 });
    expect(drops).toBe(0);
  });

  it('answers one source address at most 40 back to back then 20 a second, and keeps 64 of its peers', async () => {
    const alice = await participant('Alice');
    let joins = 0;
    let evicted = 0;
    alice.on('join', () => joins++);
    alice.on('leave', (e) => void (e.reason === 'evicted' && evicted++));
    const t0 = performance.now();
    const flood = await floodEntries({ address: LOCAL, port: alice.address().port }, ['127.0.0.3'], 100, (sent) => vi.waitFor(() => expect(joins).toBe(sent), { timeout: 10_000 }));
    open.push(flood);
    const seconds = (performance.now() - t0) / 1000;
    // 100 sent: 100 shown (joins), none refused or dropped by the kernel.
    expect(await alice.kernelDrops()).toBe(0);
    expect(alice.stats).toMatchObject({ packets: 100, malformed: 0, evicted: 36, ignored: 0 });
    expect(evicted).toBe(36);
    expect(alice.peers().filter((p) => p.address === '127.0.0.3')).toHaveLength(64);
    // Every entry either got its ANSENTRY or was counted as rate-limited.
    const answered = 100 - alice.stats.rateLimited;
    expect(answered).toBeGreaterThanOrEqual(40);
    expect(answered).toBeLessThanOrEqual(40 + Math.ceil(20 * seconds));
    await vi.waitFor(() => expect(flood.back.get(IpmsgCommand.ANSENTRY)).toBe(answered));
    expect([...flood.back.keys()]).toEqual([IpmsgCommand.ANSENTRY]);
    expect(flood.mostPerSocket(IpmsgCommand.ANSENTRY)).toBe(1);
  });
});

