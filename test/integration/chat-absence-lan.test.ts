/**
 * Absence on a real LAN (three network namespaces on one bridge): udpkit alice and bob on hosts
 * 1 and 2, the independent Python peer carol on host 3, all away at once. Every direct message
 * between them gets exactly one automatic answer, and no automatic answer is ever answered.
 * Entries are broadcast inside the namespaces only; every node is scripted and read as JSON lines.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { JsonLines, type JsonEvent } from '../helpers/json-lines.js';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';

const support = probeNetns();
if (!support.ok) console.warn(`SKIPPED chat absence LAN tests: ${support.reason}`);

const peerPy = fileURLToPath(new URL('../fixtures/ipmsg_peer.py', import.meta.url));
const WAIT = { ms: 10_000 };
const autoFrom = (name: string) => (e: JsonEvent) => e.event === 'message' && e.auto === true && ((e.from as { name?: string } | undefined)?.name ?? e.from_name) === name;
const text = (t: string) => (e: JsonEvent) => e.event === 'message' && e.text === t;

describe.skipIf(!support.ok)('absence on a 3-host LAN: udpkit, udpkit and the Python peer, all away', () => {
  let lan: Lan;
  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
    lan = await createLan(3);
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('each direct message gets exactly one automatic answer; none is answered; nothing dropped, refused or rate-limited', { timeout: 60_000 }, async () => {
    const [h1, h2, h3] = lan.hosts as [LanHost, LanHost, LanHost];
    const udpkit = (h: LanHost, name: string): JsonLines => new JsonLines(name, lan.run(h, process.execPath, [BIN, 'chat', '--json', '--name', name, '--group', 'ops']));
    const alice = udpkit(h1, 'alice');
    const bob = udpkit(h2, 'bob');
    const carol = new JsonLines('carol', lan.run(h3, 'python3', ['-u', peerPy, '--name', 'carol', '--bcast', h3.broadcast, '--group', 'ops']));
    const joined = (node: JsonLines, n: number) => node.waitFor(() => node.filter((e) => e.event === 'join').length === n, `${n} joins`, WAIT);
    await Promise.all([joined(alice, 2), joined(bob, 2), joined(carol, 2)]);
    let w = alice.mark();
    alice.send('/who');
    const who = (await alice.waitFor((e) => e.event === 'peers', 'peers', { since: w, ...WAIT })).peers as Array<{ name: string; group: string }>;
    expect(who.map((p) => [p.name, p.group]).sort()).toEqual([['bob', 'ops'], ['carol', 'ops']]);

    // Everyone away; each sees the other two go.
    const marks = [alice.mark(), bob.mark(), carol.mark()];
    alice.send('/away alice: out');
    bob.send('/away bob: out');
    carol.send('{"cmd":"away","text":"carol: out"}');
    const away = (node: JsonLines, since: number) => node.waitFor(() => node.filter((e) => e.event === 'absence' && e.away === true, since).length === 2, 'two absences', WAIT);
    await Promise.all([away(alice, marks[0]!), away(bob, marks[1]!), away(carol, marks[2]!)]);

    // Six direct messages: each ordered pair once.
    const [a, b, c] = [alice.mark(), bob.mark(), carol.mark()];
    alice.send('/msg bob a->b');
    alice.send('/msg carol a->c');
    bob.send('/msg alice b->a');
    bob.send('/msg carol b->c');
    carol.send(JSON.stringify({ cmd: 'send', to: h1.address, text: 'c->a' }));
    carol.send(JSON.stringify({ cmd: 'send', to: h2.address, text: 'c->b' }));
    await Promise.all([
      alice.waitFor(autoFrom('bob'), 'auto from bob', { since: a, ...WAIT }),
      alice.waitFor(autoFrom('carol'), 'auto from carol', { since: a, ...WAIT }),
      bob.waitFor(autoFrom('alice'), 'auto from alice', { since: b, ...WAIT }),
      bob.waitFor(autoFrom('carol'), 'auto from carol', { since: b, ...WAIT }),
      carol.waitFor(autoFrom('alice'), 'auto from alice', { since: c, ...WAIT }),
      carol.waitFor(autoFrom('bob'), 'auto from bob', { since: c, ...WAIT }),
    ]);
    // Back, then a last message to everyone from each: anything an automatic answer could have
    // caused was sent before it.
    alice.send('/back');
    bob.send('/back');
    carol.send('{"cmd":"back"}');
    const back = (node: JsonLines, since: number) => node.waitFor(() => node.filter((e) => e.event === 'absence' && e.away === false, since).length === 2, 'two returns', WAIT);
    await Promise.all([back(alice, a), back(bob, b), back(carol, c)]);
    alice.send('last from alice');
    bob.send('last from bob');
    carol.send(JSON.stringify({ cmd: 'send', to: h1.address, text: 'last from carol' }));
    carol.send(JSON.stringify({ cmd: 'send', to: h2.address, text: 'last from carol' }));
    await Promise.all([
      alice.waitFor(text('last from bob'), 'last', { since: a, ...WAIT }),
      alice.waitFor(text('last from carol'), 'last', { since: a, ...WAIT }),
      bob.waitFor(text('last from alice'), 'last', { since: b, ...WAIT }),
      bob.waitFor(text('last from carol'), 'last', { since: b, ...WAIT }),
      carol.waitFor(text('last from alice'), 'last', { since: c, ...WAIT }),
      carol.waitFor(text('last from bob'), 'last', { since: c, ...WAIT }),
    ]);
    const autos = (node: JsonLines, since: number) => node.filter((e) => e.event === 'message' && e.auto === true, since).map((e) => e.text).sort();
    expect(autos(alice, a)).toEqual(['bob: out', 'carol: out']);
    expect(autos(bob, b)).toEqual(['alice: out', 'carol: out']);
    expect(autos(carol, c)).toEqual(['alice: out', 'bob: out']);
    // The six messages themselves, each shown once.
    expect(alice.filter((e) => e.event === 'message' && e.auto !== true && /->a$/.test(String(e.text)), a).map((e) => e.text).sort()).toEqual(['b->a', 'c->a']);
    w = carol.mark();
    carol.send('{"cmd":"stats"}');
    expect(await carol.waitFor((e) => e.event === 'stats', 'stats', { since: w, ...WAIT })).toMatchObject({ autoreplies_sent: 2, autoreplies_received: 2 });

    carol.send('{"cmd":"quit"}');
    expect(await carol.closed).toEqual({ code: 0, signal: null });
    for (const node of [alice, bob]) {
      node.child.stdin!.end();
      expect(await node.closed).toEqual({ code: 0, signal: null });
      // Nothing was dropped, refused or rate-limited, and each sent exactly two automatic answers.
      expect(node.stderr).toMatch(/received \d+ datagrams: \d+ IPMsg packets, 0 not IPMsg, \d+ our own; kernel dropped 0; peers evicted 0, ignored 0; rate-limited sends 0; auto-replies 2\n/);
    }
  });
});
