/**
 * `udpkit chat` (the built binary) against the independent Python IPMsg peer on loopback, for
 * what real clients do beyond plain messages: a Linux client's UTF-8 without UTF8OPT, FeiQ's
 * version field and GBK names, absence with automatic answers, sealed messages, GETINFO. And two
 * absent udpkit participants (the library on loopback) exchanging exactly one automatic answer
 * each. Never broadcasts: udpkit runs `--no-broadcast --port 0`, the Python peer binds
 * 127.0.0.1 port 0 and sends its entry to udpkit's port. Every exchange waits on events.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/cli/version.js';
import { chat, type Chat } from '../../src/transport/chat.js';
import { BIN } from '../helpers/cli.js';
import { JsonLines, type JsonEvent } from '../helpers/json-lines.js';

const peerPy = fileURLToPath(new URL('../fixtures/ipmsg_peer.py', import.meta.url));
const LOCAL = '127.0.0.1';
const WAIT = { ms: 10_000 };

const children: JsonLines[] = [];
const chats: Chat[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.running) c.child.kill('SIGKILL');
  await Promise.all(chats.splice(0).map((c) => c.close()));
});

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
});

const SUMMARY = /received (\d+) datagrams: (\d+) IPMsg packets, (\d+) not IPMsg, (\d+) our own; kernel dropped (\d+); peers evicted 0, ignored 0; rate-limited sends 0(.*)\n/;

/** udpkit chat on loopback, then the Python peer announcing itself to it. */
async function meet(name: string, pyArgs: readonly string[], chatArgs: readonly string[] = []): Promise<{ udpkit: JsonLines; py: JsonLines; port: number }> {
  const udpkit = new JsonLines('udpkit', spawn(process.execPath, [BIN, 'chat', '--json', '--name', 'alice', '--port', '0', '--no-broadcast', ...chatArgs], { stdio: 'pipe' }));
  children.push(udpkit);
  const port = Number((await udpkit.waitFor((e) => e.event === 'ready', 'ready', WAIT)).port);
  const py = new JsonLines('python', spawn('python3', ['-u', peerPy, '--name', name, '--bind', LOCAL, '--port', '0', '--bcast', LOCAL, '--bcast-port', String(port), ...pyArgs], { stdio: 'pipe' }));
  children.push(py);
  await py.waitFor((e) => e.event === 'ready', 'python ready', WAIT);
  await Promise.all([udpkit.waitFor((e) => e.event === 'join', 'join of the Python peer', WAIT), py.waitFor((e) => e.event === 'join', 'join of alice', WAIT)]);
  return { udpkit, py, port };
}

/** Ends both; returns udpkit's summary numbers after checking that every datagram the Python peer sent is accounted for. */
async function finish(udpkit: JsonLines, py: JsonLines): Promise<{ packets: number; rest: string }> {
  const m = py.mark();
  py.send('{"cmd":"stats"}');
  const stats = await py.waitFor((e) => e.event === 'stats', 'stats', { since: m, ...WAIT });
  py.send('{"cmd":"quit"}');
  expect(await py.closed).toEqual({ code: 0, signal: null });
  // Its BR_EXIT is the last thing it sent: once udpkit saw it leave, everything has arrived.
  await udpkit.waitFor((e) => e.event === 'leave', 'leave of the Python peer', WAIT);
  udpkit.child.stdin!.end();
  expect(await udpkit.closed).toEqual({ code: 0, signal: null });
  const sent = Object.values(stats.sent as Record<string, number>).reduce((a, b) => a + b, 0) + 1; // + the BR_EXIT
  const s = SUMMARY.exec(udpkit.stderr);
  expect(s, udpkit.stderr).not.toBeNull();
  // Sent = understood + not IPMsg + kernel dropped (nothing else writes to udpkit's port).
  expect({ total: Number(s![1]), understood: Number(s![2]) + Number(s![3]) + Number(s![5]), own: Number(s![4]) }).toEqual({ total: sent, understood: sent, own: 0 });
  return { packets: Number(s![2]), rest: s![6]! };
}

const from = (name: string) => (e: JsonEvent) => e.event === 'message' && (e.from as { name: string }).name === name;

describe('`udpkit chat` and real clients\' ways, against the Python IPMsg peer on loopback', () => {
  it('a Linux client sending UTF-8 without UTF8OPT and naming `utf-8` at the end of its entry: its nickname, /msg to it, its text', async () => {
    const { udpkit, py } = await meet('企鹅tüx', ['--text-mode', 'declare', '--group', '研发']);
    expect(udpkit.filter((e) => e.event === 'join')).toEqual([
      { event: 'join', peer: { name: '企鹅tüx', user: '企鹅tüx', host: expect.any(String), address: LOCAL, group: '研发', away: false } },
    ]);
    let [u, p] = [udpkit.mark(), py.mark()];
    udpkit.send('/msg 企鹅tüx héllo 你好, tux');
    expect(await py.waitFor((e) => e.event === 'message', 'message from alice', { since: p, ...WAIT })).toEqual({
      event: 'message', from_name: 'alice', address: LOCAL, text: 'héllo 你好, tux', utf8: true, broadcast: false,
    });
    expect(await udpkit.waitFor((e) => e.event === 'delivered', 'delivered', { since: u, ...WAIT })).toMatchObject({ to: '企鹅tüx' });
    [u, p] = [udpkit.mark(), py.mark()];
    py.send(JSON.stringify({ cmd: 'send', to: LOCAL, text: 'héllo 你好' }));
    expect(await udpkit.waitFor(from('企鹅tüx'), 'message from tux', { since: u, ...WAIT })).toMatchObject({ text: 'héllo 你好', direct: true });
    await py.waitFor((e) => e.event === 'recvmsg', 'receipt', { since: p, ...WAIT });
    expect(udpkit.stderr).not.toContain('nobody called');
    const { packets } = await finish(udpkit, py);
    // BR_ENTRY, RECVMSG, SENDMSG, BR_EXIT.
    expect(packets).toBe(4);
  });

  it('FeiQ: its version field, GBK name and group; answered in GBK; GETINFO answered with the version; GETLIST ignored, counted', async () => {
    const { udpkit, py } = await meet('王五', ['--text-mode', 'legacy', '--version-string', '1_lbt6_0#128#001122AABBCC#0#0#0#4001#9', '--group', '研发部']);
    let w = udpkit.mark();
    udpkit.send('/who');
    expect((await udpkit.waitFor((e) => e.event === 'peers', 'peers', { since: w, ...WAIT })).peers).toEqual([
      { name: '王五', user: '王五', host: expect.any(String), address: LOCAL, group: '研发部', away: false },
    ]);
    let p = py.mark();
    udpkit.send('/msg 王五 你好，王五');
    // No UTF8OPT: udpkit wrote GBK, the encoding FeiQ reads.
    expect(await py.waitFor((e) => e.event === 'message', 'message', { since: p, ...WAIT })).toMatchObject({ text: '你好，王五', utf8: false });
    p = py.mark();
    py.send(JSON.stringify({ cmd: 'packet', to: LOCAL, command: 0x40 }));
    expect(await py.waitFor((e) => e.event === 'packet', 'SENDINFO', { since: p, ...WAIT })).toEqual({ event: 'packet', command: 0x41, address: LOCAL, text: `udpkit ${VERSION}` }); // in GBK, no UTF8OPT
    w = udpkit.mark();
    for (const command of [0x12, 0x13, 0x10]) py.send(JSON.stringify({ cmd: 'packet', to: LOCAL, command }));
    py.send(JSON.stringify({ cmd: 'send', to: LOCAL, text: '收到' }));
    expect(await udpkit.waitFor(from('王五'), 'message after the list commands', { since: w, ...WAIT })).toMatchObject({ text: '收到' });
    const { rest } = await finish(udpkit, py);
    expect(rest).toBe('; unanswered commands 3');
  });

  it('absence both ways: one automatic answer each, none to an automatic answer, and BR_ABSENCE seen', async () => {
    const { udpkit, py } = await meet('carol', []);
    let [u, p] = [udpkit.mark(), py.mark()];
    py.send('{"cmd":"away","text":"carol is at lunch"}');
    expect(await udpkit.waitFor((e) => e.event === 'absence', 'absence', { since: u, ...WAIT })).toMatchObject({ peer: { name: 'carol', away: true }, away: true });
    udpkit.send('/away alice is in a meeting');
    expect(await py.waitFor((e) => e.event === 'absence', 'absence', { since: p, ...WAIT })).toEqual({ event: 'absence', name: 'alice', away: true, address: LOCAL });
    [u, p] = [udpkit.mark(), py.mark()];
    udpkit.send('/msg carol lunch together?');
    expect(await udpkit.waitFor(from('carol'), 'auto-reply', { since: u, ...WAIT })).toMatchObject({ text: 'carol is at lunch', auto: true, direct: true });
    py.send(JSON.stringify({ cmd: 'send', to: LOCAL, text: 'where are you?' }));
    expect(await py.waitFor((e) => e.event === 'message' && e.auto === true, 'auto-reply', { since: p, ...WAIT })).toMatchObject({ text: 'alice is in a meeting', from_name: 'alice' });
    // Both back; a last message each way comes after anything an automatic answer could have caused.
    py.send('{"cmd":"back"}');
    udpkit.send('/back');
    await udpkit.waitFor((e) => e.event === 'absence' && e.away === false, 'back', { since: u, ...WAIT });
    await py.waitFor((e) => e.event === 'absence' && e.away === false, 'back', { since: p, ...WAIT });
    udpkit.send('/msg carol last');
    py.send(JSON.stringify({ cmd: 'send', to: LOCAL, text: 'last' }));
    await udpkit.waitFor((e) => from('carol')(e) && e.text === 'last', 'last', { since: u, ...WAIT });
    await py.waitFor((e) => e.event === 'message' && e.text === 'last', 'last', { since: p, ...WAIT });
    expect(udpkit.filter((e) => e.event === 'message' && e.auto === true, u)).toHaveLength(1);
    expect(py.filter((e) => e.event === 'message' && e.auto === true, p)).toHaveLength(1);
    const m = py.mark();
    py.send('{"cmd":"stats"}');
    expect(await py.waitFor((e) => e.event === 'stats', 'stats', { since: m, ...WAIT })).toMatchObject({ autoreplies_sent: 1, autoreplies_received: 1 });
    const { rest } = await finish(udpkit, py);
    expect(rest).toBe('; auto-replies 1');
  });

  it('sealed messages both ways: shown only when opened, READMSG back, ANSREADMSG confirms', async () => {
    const { udpkit, py } = await meet('dave', []);
    let [u, p] = [udpkit.mark(), py.mark()];
    py.send(JSON.stringify({ cmd: 'send', to: LOCAL, text: 'for your eyes only', sealed: true }));
    const sent = await py.waitFor((e) => e.event === 'sent', 'sent', { since: p, ...WAIT });
    const notice = await udpkit.waitFor((e) => e.event === 'sealed', 'sealed', { since: u, ...WAIT });
    expect(notice).toEqual({ event: 'sealed', from: expect.objectContaining({ name: 'dave' }), id: 1, packet: sent.packet });
    await py.waitFor((e) => e.event === 'recvmsg', 'receipt', { since: p, ...WAIT });
    expect(udpkit.filter((e) => e.event === 'message', u)).toEqual([]);
    udpkit.send('/open 1');
    expect(await udpkit.waitFor(from('dave'), 'opened message', { since: u, ...WAIT })).toMatchObject({ text: 'for your eyes only', sealed: true });
    expect(await py.waitFor((e) => e.event === 'readmsg', 'READMSG', { since: p, ...WAIT })).toEqual({ event: 'readmsg', packet: sent.packet, address: LOCAL, readcheck: true });

    [u, p] = [udpkit.mark(), py.mark()];
    udpkit.send('/seal dave the key is under the mat');
    const got = await py.waitFor((e) => e.event === 'message', 'sealed message', { since: p, ...WAIT });
    expect(got).toMatchObject({ text: 'the key is under the mat', sealed: true, readcheck: true });
    await udpkit.waitFor((e) => e.event === 'delivered', 'delivered', { since: u, ...WAIT });
    py.send(JSON.stringify({ cmd: 'open', packet: got.packet }));
    const opened = await py.waitFor((e) => e.event === 'opened', 'opened', { since: p, ...WAIT });
    expect(await udpkit.waitFor((e) => e.event === 'read', 'read', { since: u, ...WAIT })).toEqual({ event: 'read', by: 'dave', packet: got.packet });
    expect(await py.waitFor((e) => e.event === 'ansreadmsg', 'ANSREADMSG', { since: p, ...WAIT })).toEqual({ event: 'ansreadmsg', packet: opened.readmsg, address: LOCAL });
    const { rest } = await finish(udpkit, py);
    expect(rest).toBe('');
  });
});

describe('two absent udpkit participants on loopback', () => {
  it('exchange exactly one automatic answer each', async () => {
    const alice = await chat({ nickname: 'Alice', port: 0, broadcast: false, user: 'alice', host: 'loop' });
    chats.push(alice);
    const met = once(alice, 'join');
    const bob = await chat({ nickname: 'Bob', port: 0, broadcast: false, user: 'bob', host: 'loop', announceTo: [{ address: LOCAL, port: alice.address().port }] });
    chats.push(bob);
    await Promise.all([met, once(bob, 'join')]);
    const seen = { alice: [] as unknown[], bob: [] as unknown[] };
    alice.on('message', (m) => seen.alice.push([m.text, m.auto]));
    bob.on('message', (m) => seen.bob.push([m.text, m.auto]));
    const [a0, b0] = [alice.stats.packets, bob.stats.packets];
    const absent = [once(alice, 'absence'), once(bob, 'absence')];
    alice.setAbsence('Alice is out');
    bob.setAbsence('Bob is out');
    await Promise.all(absent);
    const autos = [new Promise<void>((r) => alice.on('message', (m) => m.auto && r())), new Promise<void>((r) => bob.on('message', (m) => m.auto && r()))];
    alice.send('hi Bob', alice.peers());
    bob.send('hi Alice', bob.peers());
    await Promise.all([...autos, once(alice, 'delivered'), once(bob, 'delivered')]);
    // A last message each way: any further automatic answer would have been sent before it.
    const last = [once(alice, 'message'), once(bob, 'message')];
    alice.send('last', 'all');
    bob.send('last', 'all');
    await Promise.all(last);
    expect(seen.alice).toEqual([['hi Alice', false], ['Bob is out', true], ['last', false]].sort(byAuto(seen.alice)));
    expect(seen.bob).toEqual([['hi Bob', false], ['Alice is out', true], ['last', false]].sort(byAuto(seen.bob)));
    expect([alice.stats.autoReplies, bob.stats.autoReplies]).toEqual([1, 1]);
    // Each got: BR_ABSENCE, SENDMSG, its RECVMSG, one automatic answer, the last message.
    expect([alice.stats.packets - a0, bob.stats.packets - b0]).toEqual([5, 5]);
    expect([await alice.kernelDrops(), await bob.kernelDrops()]).toEqual([0, 0]);
    expect([alice.stats.malformed, bob.stats.malformed, alice.stats.refused, bob.stats.refused]).toEqual([0, 0, 0, 0]);
  });
});

/** Sorts expected messages into the order they were seen (the two first ones may cross). */
function byAuto(actual: readonly unknown[]): (a: unknown, b: unknown) => number {
  const at = (x: unknown): number => actual.findIndex((y) => JSON.stringify(y) === JSON.stringify(x));
  return (a, b) => at(a) - at(b);
}
