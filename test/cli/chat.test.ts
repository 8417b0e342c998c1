/**
 * `udpkit chat` end to end on loopback: the built binary, scripted through stdin, JSON events on
 * stdout. Never broadcasts from this machine's namespace: every participant runs with
 * `--no-broadcast --port 0` and finds the others through `--peer 127.0.0.1:PORT`.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { IpmsgCommand, IpmsgOption } from '../../src/protocol/ipmsg-packet.js';
import { runCli, start, waitForStderr, type Running, killedAfterEach } from '../helpers/cli.js';
import { floodEntries } from '../helpers/ipmsg-flood.js';

type Event = Record<string, unknown> & { event: string };

const { track } = killedAfterEach();

// Only whole lines: a chunk of stdout may end in the middle of one (a /who of 1,024 peers).
const events = (r: Running): Event[] =>
  r.stdout
    .split('\n')
    .slice(0, -1)
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Event);

/** Resolves with the first event matching `match` (already printed, or to come). */
function waitForEvent(r: Running, match: (e: Event) => boolean, ms = 10_000): Promise<Event> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const e = events(r).find(match);
      if (e === undefined) return false;
      clearTimeout(timer);
      r.child.stdout!.off('data', check);
      resolve(e);
      return true;
    };
    const timer = setTimeout(() => {
      r.child.stdout!.off('data', check);
      reject(new Error(`no such event within ${ms} ms; stdout=${r.stdout} stderr=${r.stderr}`));
    }, ms);
    if (!check()) r.child.stdout!.on('data', check);
  });
}

/** Starts a scripted participant on loopback; resolves with its port once it listens. */
async function participant(name: string, extra: readonly string[] = [], json = true): Promise<Running & { port: number }> {
  const r = start(['chat', ...(json ? ['--json'] : []), '--name', name, '--port', '0', '--no-broadcast', ...extra], { timeoutMs: 30_000 });
  track(r);
  const m = await waitForStderr(r, /listening on 0\.0\.0\.0:(\d+)\/udp as /);
  return Object.assign(r, { port: Number(m[1]) });
}

describe('udpkit chat (scripted)', () => {
  it('meets a peer, answers /who, sends to everyone and to one with a receipt; EOF says goodbye, exit 0', async () => {
    const alice = await participant('alice');
    const bob = await participant('bob', ['--peer', `127.0.0.1:${alice.port}`]);
    expect(events(alice)[0]).toEqual({ event: 'ready', port: alice.port });
    expect(bob.stderr).toContain(`announced to 127.0.0.1:${alice.port}`);
    const bobSeen = await waitForEvent(alice, (e) => e.event === 'join');
    expect(bobSeen).toEqual({ event: 'join', peer: { name: 'bob', user: expect.any(String), host: expect.any(String), address: '127.0.0.1', group: '', away: false } });
    await waitForEvent(bob, (e) => e.event === 'join');

    alice.child.stdin!.write('/who\n');
    expect(await waitForEvent(alice, (e) => e.event === 'peers')).toEqual({ event: 'peers', peers: [bobSeen['peer']] });

    alice.child.stdin!.write('hello: everyone 你好\n/msg bob just you\n');
    expect(await waitForEvent(bob, (e) => e.event === 'message' && e['direct'] === false)).toMatchObject({ from: { name: 'alice' }, text: 'hello: everyone 你好' });
    expect(await waitForEvent(bob, (e) => e.event === 'message' && e['direct'] === true)).toMatchObject({ text: 'just you' });
    expect(await waitForEvent(alice, (e) => e.event === 'delivered')).toEqual({ event: 'delivered', to: 'bob', packet: expect.any(Number) });

    bob.child.stdin!.end('/msg ALICE case does not matter\n');
    expect(await waitForEvent(alice, (e) => e.event === 'message')).toMatchObject({ text: 'case does not matter', direct: true });
    const bobDone = await bob.done;
    expect(bobDone.code).toBe(0);
    // Bob waited for his receipt before leaving.
    expect(events(bob).map((e) => e.event)).toEqual(['ready', 'join', 'message', 'message', 'delivered']);
    expect(await waitForEvent(alice, (e) => e.event === 'leave')).toMatchObject({ peer: { name: 'bob' } });
    alice.child.kill('SIGTERM');
    expect((await alice.done).code).toBe(0);
  });

  it('is scripted without --json when stdin is not a terminal, and reports undelivered messages', async () => {
    const mute = dgram.createSocket('udp4');
    mute.bind(0, '127.0.0.1');
    await once(mute, 'listening');
    const entry = once(mute, 'message');
    const alice = await participant('alice', ['--peer', `127.0.0.1:${mute.address().port}`], false);
    await entry; // its BR_ENTRY; the mute peer answers it, then nothing more
    mute.send(`1:5:mute:pc:${IpmsgCommand.ANSENTRY | IpmsgOption.UTF8OPT}:Mute\0`, alice.port, '127.0.0.1');
    await waitForEvent(alice, (e) => e.event === 'join');
    alice.child.stdin!.end('/msg Mute anyone?\n');
    const r = await alice.done;
    mute.close();
    expect(r.code).toBe(0);
    expect(events(alice).slice(-1)).toEqual([{ event: 'undelivered', to: 'Mute', packet: expect.any(Number) }]);
  });

  it('keeps network text raw in JSON, answers notices on stderr, and counts nothing as a crash', async () => {
    const alice = await participant('alice');
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    for (const junk of ['', 'garbage', '1:x:y', '\xff:\xff:\xff:\xff:\xff:\xff']) s.send(Buffer.from(junk, 'latin1'), alice.port, '127.0.0.1');
    s.send(`1:9:eve:pc:${IpmsgCommand.SENDMSG | IpmsgOption.UTF8OPT}:\x1b[2J\x1b]0;pwned\x07\nline\0`, alice.port, '127.0.0.1');
    expect(await waitForEvent(alice, (e) => e.event === 'message')).toMatchObject({ text: '\x1b[2J\x1b]0;pwned\x07\nline', direct: true, from: { name: 'eve' } });
    alice.child.stdin!.end('/msg nobody hi\n/bogus\n');
    const r = await alice.done;
    s.close();
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('udpkit: nobody called nobody here (see /who): not sent');
    expect(r.stderr).toContain('udpkit: unknown command /bogus (try /help)');
    for (const line of r.stdout.split('\n').filter(Boolean)) expect(line).not.toMatch(/[\x00-\x1f]/);
  });

  it('refuses bad options with exit 2', async () => {
    for (const args of [['--legacy-encoding', 'klingon'], ['--name', ''], ['--name', 'a\tb'], ['--port', '70000'], ['--peer', 'not a host'], ['--group', 'a\nb'], ['--max-transfers', '0'], ['--overwrite', '--key', 'k']]) {
      const r = await runCli(['chat', '--json', '--no-broadcast', '--port', '0', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^udpkit: /);
    }
  });
});

/** A counter of the `type` events printed so far; each call scans only the lines new since the last. */
function eventCounter(r: Running, type: string): () => number {
  const needle = `{"event":"${type}"`;
  let seen = 0;
  let from = 0;
  return () => {
    const end = r.stdout.lastIndexOf('\n') + 1;
    for (let i = r.stdout.indexOf(needle, from); i >= 0 && i < end; i = r.stdout.indexOf(needle, i + 1)) seen++;
    from = Math.max(from, end);
    return seen;
  };
}

/** Resolves once `count()` reaches `n`, checked on each stdout chunk; rejects on exit or after `ms`. */
function untilCount(r: Running, count: () => number, n: number, ms = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      r.child.stdout!.off('data', check);
      r.child.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const check = (): void => void (count() >= n && done());
    const onClose = (): void => done(new Error(`exited with ${count()} of ${n} events; stderr=${r.stderr}`));
    const timer = setTimeout(() => done(new Error(`only ${count()} of ${n} events within ${ms} ms`)), ms);
    r.child.stdout!.on('data', check);
    r.child.on('close', onClose);
    check();
  });
}

const SUMMARY = /received (\d+) datagrams?: (\d+) IPMsg packets?, (\d+) not IPMsg, (\d+) our own; kernel dropped (\d+); peers evicted (\d+), ignored (\d+); rate-limited sends (\d+)\n/;

/** Two floods of 1,100 entries, 55 at a time: from 20 forged addresses, and from the newcomer's own address. */
const FLOODS = [
  // 1,100 + bob in 1,024 places: the 77 oldest flood entries make room; 80 answers at once, then 40 a second.
  { what: '1,100 ports of 20 forged addresses fill its 1,024 places', sources: Array.from({ length: 20 }, (_, i) => `127.0.1.${i + 1}`), peers: 1024, evicted: 77, burst: 80, rate: 40 },
  // One address gets 64 places: each entry past them, and bob, push out its oldest entry.
  { what: "1,100 ports of the newcomer's own address fill that address's 64 places", sources: Array<string>(20).fill('127.0.0.1'), peers: 64, evicted: 1037, burst: 40, rate: 20 },
] as const;

describe('udpkit chat under a flood of forged entries', () => {
  it.each(FLOODS)('$what; a real newcomer still gets in, /who lists it, messages both ways work', { timeout: 60_000 }, async (flood) => {
    const alice = await participant('alice');
    const joins = eventCounter(alice, 'join');
    const t0 = performance.now();
    const sent = await floodEntries({ address: '127.0.0.1', port: alice.port }, flood.sources, 55, (n) => untilCount(alice, joins, n));
    try {
      const floodSeconds = (performance.now() - t0) / 1000;
      expect(joins()).toBe(1100);

      const bob = await participant('bob', ['--peer', `127.0.0.1:${alice.port}`]);
      const bobSeen = await waitForEvent(alice, (e) => e.event === 'join' && (e['peer'] as { name: string }).name === 'bob');
      alice.child.stdin!.write('/who\n');
      const who = (await waitForEvent(alice, (e) => e.event === 'peers'))['peers'] as unknown[];
      expect(who).toHaveLength(flood.peers);
      expect(who).toContainEqual(bobSeen['peer']);

      alice.child.stdin!.write('/msg bob welcome, newcomer\n');
      expect(await waitForEvent(bob, (e) => e.event === 'message')).toMatchObject({ from: { name: 'alice' }, text: 'welcome, newcomer', direct: true });
      expect(await waitForEvent(alice, (e) => e.event === 'delivered')).toEqual({ event: 'delivered', to: 'bob', packet: expect.any(Number) });
      bob.child.stdin!.end('/msg alice thanks\n');
      expect(await waitForEvent(alice, (e) => e.event === 'message')).toMatchObject({ from: { name: 'bob' }, text: 'thanks', direct: true });
      expect((await bob.done).code).toBe(0);
      await waitForEvent(alice, (e) => e.event === 'leave' && e['reason'] === 'exit');

      alice.child.stdin!.end();
      const r = await alice.done;
      expect(r.code).toBe(0);
      const evictions = events(alice).filter((e) => e.event === 'leave' && e['reason'] === 'evicted');
      expect(evictions).toHaveLength(flood.evicted);
      expect(evictions.some((e) => (e['peer'] as { name: string }).name === 'bob')).toBe(false);
      const m = SUMMARY.exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      const [received, packets, malformed, own, dropped, evicted, ignored, rateLimited] = m!.slice(1).map(Number) as [number, number, number, number, number, number, number, number];
      // Sent to alice: the 1,100 flood entries and bob's 4 or 5 packets (entry, perhaps an
      // introduction, receipt, message, exit); all read, none dropped by the kernel.
      expect(dropped).toBe(0);
      expect({ malformed, own, evicted, ignored }).toEqual({ malformed: 0, own: 0, evicted: flood.evicted, ignored: 0 });
      expect(received).toBe(packets);
      expect(packets - 1100).toBeGreaterThanOrEqual(4);
      expect(packets - 1100).toBeLessThanOrEqual(5);
      // Each flood entry got its ANSENTRY or was counted as rate-limited (with the probes and
      // goodbyes held back), and no more were answered than the limit's burst and rate allow.
      await vi.waitFor(() => expect((sent.back.get(IpmsgCommand.ANSENTRY) ?? 0) + rateLimited).toBeGreaterThanOrEqual(1100));
      const answered = sent.back.get(IpmsgCommand.ANSENTRY) ?? 0;
      expect(answered).toBeGreaterThanOrEqual(flood.burst);
      expect(answered).toBeLessThanOrEqual(flood.burst + Math.ceil(flood.rate * floodSeconds));
      // No forged port got more than one answer, one probe and one goodbye.
      const kinds = [IpmsgCommand.ANSENTRY, IpmsgCommand.BR_ENTRY, IpmsgCommand.BR_EXIT] as number[];
      for (const command of kinds) expect(sent.mostPerSocket(command)).toBeLessThanOrEqual(1);
      expect([...sent.back.keys()].filter((c) => !kinds.includes(c))).toEqual([]);
    } finally {
      await sent.close();
    }
  });
});
