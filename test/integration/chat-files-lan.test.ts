/**
 * `udpkit chat` files and folders on a real LAN: three network namespaces on one bridge. Hosts 1
 * and 2 run `udpkit chat --json` (alice, bob); host 3 runs the independent Python IPMsg peer
 * (carol), which offers, serves and fetches files written from the protocol description. A 20 MB
 * file and a folder tree (nested, a non-ASCII name, a colon in a name, an empty file, a symlink
 * pointing out) go every way and are checked by SHA-256; a cut transfer resumes from its offset;
 * requests for what was not offered, unsafe names and links out are refused and counted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { JsonLines, type JsonEvent } from '../helpers/json-lines.js';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';
import { procMemory } from '../helpers/proc-memory.js';

const support = probeNetns();
if (!support.ok) console.warn(`SKIPPED chat files LAN tests: ${support.reason}`);

const peerPy = fileURLToPath(new URL('../fixtures/ipmsg_peer.py', import.meta.url));
const BIG = 20 * 1024 * 1024;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Every file under `dir` (links excluded) by relative path, with its SHA-256; folders end in `/`. */
async function treeDigest(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out[relative(dir, p) + '/'] = 'dir';
        await walk(p);
      } else if (e.isFile()) out[relative(dir, p)] = sha(await readFile(p));
      else out[relative(dir, p)] = 'other';
    }
  };
  await walk(dir);
  return out;
}

describe.skipIf(!support.ok)('`udpkit chat` files and folders on a 3-host LAN', () => {
  let lan: Lan;
  let h1: LanHost, h2: LanHost, h3: LanHost;
  let alice: JsonLines, bob: JsonLines, carol: JsonLines;
  let root: string;
  let bigFile: string;
  let tree: string;
  let bigSha: string;
  let treeSha: Record<string, string>;

  const start = (host: LanHost, name: string): JsonLines => new JsonLines(name, lan.run(host, process.execPath, [BIN, 'chat', '--json', '--name', name]));
  const offerFrom = (from: string) => (e: JsonEvent) => e.event === 'offer' && (e.from as { name: string }).name === from;
  const out = async (name: string): Promise<string> => {
    const d = join(root, name);
    await mkdir(d);
    return d;
  };

  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
    root = await mkdtemp(join(os.tmpdir(), 'udpkit-files-lan-'));
    bigFile = join(root, 'big.bin');
    const big = randomBytes(BIG);
    bigSha = sha(big);
    await writeFile(bigFile, big);
    tree = join(root, 'tree');
    await mkdir(join(tree, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(tree, 'a.txt'), 'alpha\n');
    await writeFile(join(tree, 'sub', '你好 ü.txt'), 'non-ascii name\n');
    await writeFile(join(tree, 'sub', 'x:y.txt'), 'a colon\n');
    await writeFile(join(tree, 'sub', 'deeper', 'empty'), '');
    await writeFile(join(tree, 'sub', 'deeper', 'random.bin'), randomBytes(300_000));
    await symlink('/etc', join(tree, 'sub', 'link-out'));
    treeSha = await treeDigest(tree);
    delete treeSha[join('sub', 'link-out')];

    lan = await createLan(3);
    [h1, h2, h3] = lan.hosts as [LanHost, LanHost, LanHost];
    alice = start(h1, 'alice');
    bob = start(h2, 'bob');
    carol = new JsonLines('carol', lan.run(h3, 'python3', ['-u', peerPy, '--name', 'carol', '--bcast', h3.broadcast]));
    await Promise.all([alice, bob, carol].map((n) => n.waitFor((e) => e.event === 'ready', 'ready', { ms: 10_000 })));
    const joined = (n: JsonLines, name: string) => n.waitFor((e) => e.event === 'join' && ((e.peer as { name: string } | undefined)?.name ?? e.name) === name, `join of ${name}`, { ms: 15_000 });
    await Promise.all([joined(alice, 'bob'), joined(alice, 'carol'), joined(bob, 'alice'), joined(bob, 'carol'), joined(carol, 'alice'), joined(carol, 'bob')]);
  }, 60_000);
  afterAll(async () => {
    await lan?.destroy();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('udpkit → udpkit: the 20 MB file and the tree arrive whole, in bounded memory; the link out is skipped and counted', { timeout: 60_000 }, async () => {
    const dst = await out('at-bob');
    const peak0 = { alice: procMemory(alice.child.pid!).hwm, bob: procMemory(bob.child.pid!).hwm };
    const [a, b] = [alice.mark(), bob.mark()];
    alice.send(`/send bob ${bigFile} ${tree}`);
    const offered = await alice.waitFor((e) => e.event === 'offered', 'offered', { since: a, ms: 15_000 });
    expect(offered).toMatchObject({ to: 'bob', files: [{ name: 'big.bin', size: BIG, kind: 'file' }, { name: 'tree', size: 0, kind: 'dir' }] });
    const offer = await bob.waitFor(offerFrom('alice'), 'offer', { since: b, ms: 15_000 });
    expect(offer).toMatchObject({ from: { name: 'alice', address: h1.address }, files: [{ name: 'big.bin', size: BIG, kind: 'file' }, { name: 'tree', size: 0, kind: 'dir' }] });
    bob.send(`/get ${offer.id} ${dst}`);
    await bob.waitFor(() => bob.filter((e) => e.event === 'received', b).length === 2, 'two received', { ms: 40_000 });
    expect(bob.filter((e) => e.event === 'failed', b)).toEqual([]);
    expect(sha(await readFile(join(dst, 'big.bin')))).toBe(bigSha);
    expect(await treeDigest(join(dst, 'tree'))).toEqual(treeSha);
    await alice.waitFor((e) => e.event === 'served' && e.name === 'tree', 'served tree', { since: a, ms: 15_000 });
    // Neither holds the file: the sender's peak grows by about its bytes in flight (one socket's
    // 4 MiB and a 1 MiB chunk), the receiver's by its 1 MiB read buffer. 20 MB held would show.
    const grew = { alice: procMemory(alice.child.pid!).hwm - peak0.alice, bob: procMemory(bob.child.pid!).hwm - peak0.bob };
    expect(grew.alice, `alice's VmHWM grew by ${grew.alice} bytes`).toBeLessThan(12 << 20);
    expect(grew.bob, `bob's VmHWM grew by ${grew.bob} bytes`).toBeLessThan(12 << 20);
  });

  it('udpkit → udpkit the other way: bob → alice, cut by killing the TCP connection (ss -K), resumed from its offset', { timeout: 60_000 }, async () => {
    const dst = await out('at-alice');
    const sh = async (host: LanHost, cmd: string, args: string[]): Promise<void> => {
      const child = lan.run(host, cmd, args);
      const code = await new Promise<number | null>((resolve) => child.once('close', (c: number | null) => resolve(c)));
      expect(code, `${cmd} ${args.join(' ')}`).toBe(0);
    };
    // 20 Mbit/s out of bob: the 20 MB would take 8 s, long enough to cut in the middle on a busy machine.
    await sh(h2, 'tc', ['qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', '20mbit', 'burst', '64kb', 'latency', '50ms']);
    const [a, b] = [alice.mark(), bob.mark()];
    bob.send(`/send alice ${bigFile} ${tree}`);
    const offer = await alice.waitFor(offerFrom('bob'), 'offer', { since: a, ms: 15_000 });
    alice.send(`/get ${offer.id} ${dst}`);
    await alice.waitFor((e) => e.event === 'progress' && (e.bytes as number) > 1_000_000, 'progress past 1 MB', { since: a, ms: 20_000 });
    await sh(h1, 'ss', ['-K', 'dst', h2.address, 'dport', '=', '2425']);
    const failed = await alice.waitFor((e) => e.event === 'failed', 'failed', { since: a, ms: 10_000 });
    expect(failed).toMatchObject({ id: offer.id, name: 'big.bin' });
    const partial = (await lstat(join(dst, 'big.bin.part'))).size;
    expect(failed.bytes).toBe(partial);
    expect(partial).toBeGreaterThan(1_000_000);
    expect(partial).toBeLessThan(BIG);
    expect(await bob.waitFor((e) => e.event === 'failed', 'failed on the sending side', { since: b, ms: 10_000 })).toMatchObject({ name: 'big.bin' });
    await sh(h2, 'tc', ['qdisc', 'del', 'dev', 'eth0', 'root']);
    await alice.waitFor((e) => e.event === 'received' && e.name === 'tree', 'received tree', { since: a, ms: 20_000 });
    const a2 = alice.mark();
    alice.send(`/get ${offer.id} ${dst}`);
    expect(await alice.waitFor((e) => e.event === 'received', 'received big.bin', { since: a2, ms: 30_000 })).toMatchObject({ name: 'big.bin', bytes: BIG });
    // Bob served the rest from where alice's .part ended.
    expect(await bob.waitFor((e) => e.event === 'served' && e.name === 'big.bin', 'served', { since: b, ms: 15_000 })).toMatchObject({ bytes: BIG - partial, to: 'alice' });
    expect(sha(await readFile(join(dst, 'big.bin')))).toBe(bigSha);
    expect(await treeDigest(join(dst, 'tree'))).toEqual(treeSha);
  });

  it('udpkit → Python: carol fetches the file (in two parts: from an offset) and the tree from alice', { timeout: 60_000 }, async () => {
    const dst = await out('at-carol');
    const [a, c] = [alice.mark(), carol.mark()];
    alice.send(`/send carol ${bigFile} ${tree}`);
    const offer = await carol.waitFor((e) => e.event === 'offer', 'offer', { since: c, ms: 15_000 });
    expect(offer.files).toEqual([
      { id: 0, name: 'big.bin', size: BIG, kind: 'file' },
      { id: 1, name: 'tree', size: 0, kind: 'dir' },
    ]);
    // As if a first attempt had stopped at 7,000,000 bytes: carol asks from there.
    const part = join(dst, 'big.bin');
    await writeFile(part, (await readFile(bigFile)).subarray(0, 7_000_000));
    const get = (x: object): void => carol.send(JSON.stringify({ cmd: 'get', address: h1.address, packet: offer.packet, ...x }));
    get({ id: 0, kind: 'file', dest: part, size: BIG, offset: 7_000_000 });
    expect(await carol.waitFor((e) => e.event === 'got' || e.event === 'get-failed', 'got', { since: c, ms: 40_000 })).toEqual({ event: 'got', path: part, bytes: BIG, files: 1 });
    expect(await alice.waitFor((e) => e.event === 'served' && e.name === 'big.bin', 'served', { since: a, ms: 15_000 })).toMatchObject({ bytes: BIG - 7_000_000, to: 'carol' });
    expect(sha(await readFile(part))).toBe(bigSha);
    const c2 = carol.mark();
    get({ id: 1, kind: 'dir', dest: join(dst, 'tree') });
    expect(await carol.waitFor((e) => e.event === 'got' || e.event === 'get-failed', 'got', { since: c2, ms: 20_000 })).toMatchObject({ event: 'got', files: 5 });
    expect(await treeDigest(join(dst, 'tree'))).toEqual(treeSha);
  });

  it('Python → udpkit: bob fetches carol\'s file and tree; a transfer cut by a reset resumes from its offset', { timeout: 60_000 }, async () => {
    const dst = await out('from-carol');
    const [b, c] = [bob.mark(), carol.mark()];
    carol.send(JSON.stringify({ cmd: 'offer', to: h2.address, paths: [bigFile, tree], cut_after: 5_000_000 }));
    const offer = await bob.waitFor(offerFrom('carol'), 'offer', { since: b, ms: 15_000 });
    expect(offer.files).toEqual([
      { name: 'big.bin', size: BIG, kind: 'file' },
      { name: 'tree', size: 0, kind: 'dir' },
    ]);
    bob.send(`/get ${offer.id} ${dst}`);
    const failed = await bob.waitFor((e) => e.event === 'failed', 'failed', { since: b, ms: 20_000 });
    expect(failed).toMatchObject({ id: offer.id, name: 'big.bin' });
    const partial = (await lstat(join(dst, 'big.bin.part'))).size;
    expect(failed.bytes).toBe(partial);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThanOrEqual(5_000_000);
    // The tree still came in the same /get; then /get again continues the file from the .part (and only that).
    await bob.waitFor((e) => e.event === 'received' && e.name === 'tree', 'received tree', { since: b, ms: 20_000 });
    const b2 = bob.mark();
    bob.send(`/get ${offer.id} ${dst}`);
    await bob.waitFor((e) => e.event === 'received' && e.name === 'big.bin', 'received big.bin', { since: b2, ms: 40_000 });
    const served = carol.filter((e) => e.event === 'served' && e.id === 0, c);
    expect(served).toEqual([
      { event: 'served', packet: offer.packet, id: 0, offset: 0, bytes: 5_000_000, cut: true },
      { event: 'served', packet: expect.any(Number), id: 0, offset: partial, bytes: BIG - partial, cut: false },
    ]);
    expect(sha(await readFile(join(dst, 'big.bin')))).toBe(bigSha);
    expect(await treeDigest(join(dst, 'tree'))).toEqual(treeSha);
    expect(existsSync(join(dst, 'big.bin.part'))).toBe(false);
    expect(bob.filter((e) => e.event === 'received', b2)).toEqual([expect.objectContaining({ name: 'big.bin', bytes: BIG })]);
    expect((await readdir(dst)).sort()).toEqual(['big.bin', 'tree']);
  });

  it('refused: an unoffered id (nothing sent, counted), a "../" name (kept inside), a ".." folder entry, a name that exists', { timeout: 60_000 }, async () => {
    const dst = await out('hostile');
    let [a, b, c] = [alice.mark(), bob.mark(), carol.mark()];
    // Carol asks alice for a packet and id alice never offered her.
    carol.send(JSON.stringify({ cmd: 'get', address: h1.address, packet: 12345, id: 0, kind: 'file', dest: join(dst, 'nothing'), size: 10 }));
    expect(await carol.waitFor((e) => e.event === 'got' || e.event === 'get-failed', 'get-failed', { since: c, ms: 10_000 })).toEqual({ event: 'get-failed', reason: 'closed after 0 of 10 bytes' });
    // Something alice offered bob, asked for by carol: still nothing.
    alice.send(`/send bob ${join(tree, 'a.txt')}`);
    const toBob = await alice.waitFor((e) => e.event === 'offered', 'offered', { since: a, ms: 15_000 });
    const bobSees = await bob.waitFor(offerFrom('alice'), 'offer', { since: b, ms: 15_000 });
    void toBob;
    c = carol.mark();
    carol.send(JSON.stringify({ cmd: 'get', address: h1.address, packet: bobSees.packet, id: 0, kind: 'file', dest: join(dst, 'nothing2'), size: 6 }));
    await carol.waitFor((e) => e.event === 'got' || e.event === 'get-failed', 'get-failed', { since: c, ms: 10_000 });
    expect(existsSync(join(dst, 'nothing2'))).toBe(true);
    expect((await readFile(join(dst, 'nothing2'))).length).toBe(0);

    // A file carol names "../escape.txt": bob keeps it inside the folder, under a safe name.
    [b, c] = [bob.mark(), carol.mark()];
    await writeFile(join(dst, 'a.txt'), 'bob had this already');
    carol.send(JSON.stringify({ cmd: 'offer', to: h2.address, paths: [join(tree, 'a.txt'), join(tree, 'a.txt')], names: ['../escape.txt', 'a.txt'] }));
    const evil = await bob.waitFor(offerFrom('carol'), 'offer', { since: b, ms: 15_000 });
    expect(evil.files).toEqual([
      { name: '../escape.txt', size: 6, kind: 'file' },
      { name: 'a.txt', size: 6, kind: 'file' },
    ]);
    bob.send(`/get ${evil.id} ${dst}`);
    await bob.waitFor(() => bob.filter((e) => e.event === 'received', b).length === 2, 'two received', { ms: 10_000 });
    expect(bob.filter((e) => e.event === 'received', b).map((e) => e.path)).toEqual([join(dst, '.._escape.txt'), join(dst, 'a (1).txt')]);
    expect(existsSync(join(root, 'escape.txt'))).toBe(false);
    expect(await readFile(join(dst, 'a.txt'), 'utf8')).toBe('bob had this already');

    // A folder stream with an entry named "..": refused, nothing written outside.
    b = bob.mark();
    carol.send(JSON.stringify({ cmd: 'offer', to: h2.address, paths: [tree], evil: 'dotdot' }));
    const dotdot = await bob.waitFor(offerFrom('carol'), 'offer', { since: b, ms: 15_000 });
    bob.send(`/get ${dotdot.id} ${dst}`);
    expect(await bob.waitFor((e) => e.event === 'failed' || e.event === 'received', 'failed', { since: b, ms: 10_000 })).toMatchObject({
      event: 'failed',
      name: 'tree',
      reason: 'refused the unsafe name ".." in the folder',
    });
    expect(existsSync(join(dst, 'escaped.txt'))).toBe(false);
    expect(existsSync(join(root, 'escaped.txt'))).toBe(false);
    expect(existsSync(join(dst, 'tree'))).toBe(false);
  });

  it('declined and withdrawn: RELEASEFILES both ways, /cancel; what was released is no longer served', { timeout: 30_000 }, async () => {
    const dst = await out('released');
    let [a, b, c] = [alice.mark(), bob.mark(), carol.mark()];
    // Carol (Python) declines alice's offer: alice forgets it, and serves it no more.
    alice.send(`/send carol ${join(tree, 'a.txt')}`);
    const offer = await carol.waitFor((e) => e.event === 'offer', 'offer', { since: c, ms: 15_000 });
    const offered = await alice.waitFor((e) => e.event === 'offered', 'offered', { since: a, ms: 15_000 });
    carol.send(JSON.stringify({ cmd: 'release', to: h1.address, packet: offer.packet }));
    expect(await alice.waitFor((e) => e.event === 'released', 'released', { since: a, ms: 15_000 })).toEqual({ event: 'released', id: offered.id, by: 'carol' });
    c = carol.mark();
    carol.send(JSON.stringify({ cmd: 'get', address: h1.address, packet: offer.packet, id: 0, kind: 'file', dest: join(dst, 'a.txt'), size: 6 }));
    expect(await carol.waitFor((e) => e.event === 'got' || e.event === 'get-failed', 'get-failed', { since: c, ms: 10_000 })).toEqual({ event: 'get-failed', reason: 'closed after 0 of 6 bytes' });
    // Bob declines carol's offer with /cancel: carol gets RELEASEFILES for it.
    [b, c] = [bob.mark(), carol.mark()];
    carol.send(JSON.stringify({ cmd: 'offer', to: h2.address, paths: [join(tree, 'a.txt')] }));
    const sent = await carol.waitFor((e) => e.event === 'offered', 'offered', { since: c, ms: 15_000 });
    const atBob = await bob.waitFor(offerFrom('carol'), 'offer', { since: b, ms: 15_000 });
    bob.send(`/cancel ${atBob.id}`);
    expect(await carol.waitFor((e) => e.event === 'released', 'released', { since: c, ms: 15_000 })).toEqual({ event: 'released', packet: sent.packet, address: h2.address });
    b = bob.mark();
    bob.send(`/get ${atBob.id} ${dst}`);
    await bob.waitForStderr(new RegExp(`cannot get ${atBob.id}: no offer ${atBob.id}`), 15_000);
    // Alice withdraws her offer to bob with /cancel: bob's /get then gets nothing.
    [a, b] = [alice.mark(), bob.mark()];
    alice.send(`/send bob ${join(tree, 'a.txt')}`);
    const mine = await alice.waitFor((e) => e.event === 'offered', 'offered', { since: a, ms: 15_000 });
    const theirs = await bob.waitFor(offerFrom('alice'), 'offer', { since: b, ms: 15_000 });
    alice.send(`/cancel ${mine.id}`);
    await alice.waitForStderr(new RegExp(`offer ${mine.id} cancelled`), 15_000);
    bob.send(`/get ${theirs.id} ${dst}`);
    expect(await bob.waitFor((e) => e.event === 'failed' || e.event === 'received', 'failed', { since: b, ms: 10_000 })).toMatchObject({ event: 'failed', name: 'a.txt', bytes: 0 });
  });

  it('on /quit the summary line counts what was refused', { timeout: 30_000 }, async () => {
    alice.send('/quit');
    bob.send('/quit');
    expect(await alice.closed).toEqual({ code: 0, signal: null });
    expect(await bob.closed).toEqual({ code: 0, signal: null });
    // Alice: 4 requests for what was not (or no longer) offered to the asker; the link in the tree skipped twice (bob, carol); bob's two, the first cut.
    expect(alice.stderr).toMatch(/\nfiles offered 7, served 4, received 2, failed 1; refused 6 \(unoffered 4, rate-limited 0, busy 0, malformed 0, unsafe 2\); unsafe names 0\n/);
    // Bob: the "../" name made safe, and the ".." entry refused; his tree and file to alice, the first try cut, the link skipped.
    expect(bob.stderr).toMatch(/\nfiles offered 2, served 2, received 6, failed 4; refused 1 \(unoffered 0, rate-limited 0, busy 0, malformed 0, unsafe 1\); unsafe names 2\n/);
    carol.send('{"cmd":"quit"}');
    expect(await carol.closed).toEqual({ code: 0, signal: null });
  });
});
