/**
 * Files and folders between two chat() participants over real loopback sockets (UDP for the
 * offer, TCP on the same port for the bytes). Never broadcasts. Checks content by SHA-256, the
 * resume from a `.part` file, the refusal of requests for files not offered (counted), and that
 * names that exist are not replaced.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeIpmsgPacket } from '../../src/protocol/ipmsg-packet.js';
import { fileRequestExtra } from '../../src/protocol/ipmsg-attach.js';
import { chat, type Chat } from '../../src/transport/chat.js';
import type { ChatFileEvent } from '../../src/transport/chat-files.js';

const LOCAL = '127.0.0.1';
const open: Array<{ close(): unknown }> = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(os.tmpdir(), 'udpkit-files-'));
  dirs.push(d);
  return d;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function fileEvent<T extends ChatFileEvent['type']>(c: Chat, type: T): Promise<Extract<ChatFileEvent, { type: T }>> {
  return once(c.files!, type).then(([e]) => e as Extract<ChatFileEvent, { type: T }>);
}

async function pair(): Promise<{ alice: Chat; bob: Chat }> {
  const alice = await chat({ nickname: 'Alice', port: 0, broadcast: false, user: 'alice', host: 'loop' });
  open.push(alice);
  const met = once(alice, 'join');
  const bob = await chat({ nickname: 'Bob', port: 0, broadcast: false, user: 'bob', host: 'loop', announceTo: [{ address: LOCAL, port: alice.address().port }] });
  open.push(bob);
  await Promise.all([met, once(bob, 'join')]);
  return { alice, bob };
}

describe('chat() files on loopback', () => {
  it('a file and a folder tree go from alice to bob, byte for byte; the offer is gone once fetched', async () => {
    const { alice, bob } = await pair();
    const src = await tmp();
    const dst = await tmp();
    const big = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(join(src, 'big:one.bin'), big);
    await mkdir(join(src, 'tree', 'sub', 'deeper'), { recursive: true });
    await writeFile(join(src, 'tree', 'a.txt'), 'alpha');
    await writeFile(join(src, 'tree', 'sub', '你好 ü.txt'), 'non-ascii');
    await writeFile(join(src, 'tree', 'sub', 'deeper', 'empty'), '');
    const offered = fileEvent(bob, 'offer');
    const peer = alice.find('Bob')[0]!;
    const mine = await alice.sendFiles(peer, [join(src, 'big:one.bin'), join(src, 'tree')]);
    const { offer } = await offered;
    expect(offer.files).toEqual([
      { id: 0, name: 'big:one.bin', size: big.length, mtime: expect.any(Number), kind: 'file' },
      { id: 1, name: 'tree', size: 0, mtime: expect.any(Number), kind: 'dir' },
    ]);
    const received: ChatFileEvent[] = [];
    bob.files!.on('received', (e: ChatFileEvent) => received.push(e));
    const served = new Promise((resolve) => {
      let n = 0;
      alice.files!.on('served', () => ++n === 2 && resolve(n));
    });
    await bob.files!.get(offer.id, dst, false);
    await served;
    expect(received).toEqual([
      expect.objectContaining({ name: 'big:one.bin', kind: 'file', bytes: big.length, path: join(dst, 'big:one.bin') }),
      expect.objectContaining({ name: 'tree', kind: 'dir', files: 3, bytes: 5 + 9 }),
    ]);
    expect(sha(await readFile(join(dst, 'big:one.bin')))).toBe(sha(big));
    expect(await readFile(join(dst, 'tree', 'sub', '你好 ü.txt'), 'utf8')).toBe('non-ascii');
    expect(await readFile(join(dst, 'tree', 'sub', 'deeper', 'empty'), 'utf8')).toBe('');
    expect((await readdir(dst)).sort()).toEqual(['big:one.bin', 'tree']);
    expect(alice.files!.table.outgoing(mine.id)).toBeUndefined();
    expect(alice.files!.stats).toMatchObject({ offered: 2, served: 2, failed: 0 });

    // Fetched whole: a second /get fetches nothing more, and alice no longer offers it.
    const before = received.length;
    await bob.files!.get(offer.id, dst, false);
    expect(received).toHaveLength(before);
  });

  it('a .part file is continued from its size; an existing name gets " (1)"', async () => {
    const { alice, bob } = await pair();
    const src = await tmp();
    const dst = await tmp();
    const data = randomBytes(2 * 1024 * 1024);
    await writeFile(join(src, 'data.bin'), data);
    await writeFile(join(dst, 'data.bin'), 'mine, keep it');
    // An earlier, cut transfer left the first 1,000,000 bytes in "data (1).bin.part".
    await writeFile(join(dst, 'data (1).bin.part'), data.subarray(0, 1_000_000));
    const offered = fileEvent(bob, 'offer');
    await alice.sendFiles(alice.find('Bob')[0]!, [join(src, 'data.bin')]);
    const { offer } = await offered;
    const served = fileEvent(alice, 'served');
    await bob.files!.get(offer.id, dst, false);
    expect((await served).bytes).toBe(data.length - 1_000_000);
    expect(await readFile(join(dst, 'data.bin'), 'utf8')).toBe('mine, keep it');
    expect(sha(await readFile(join(dst, 'data (1).bin')))).toBe(sha(data));
    expect((await readdir(dst)).sort()).toEqual(['data (1).bin', 'data.bin']);
  });

  it('requests for what was not offered, or offered to someone else, get no byte and are counted', async () => {
    const { alice, bob } = await pair();
    const src = await tmp();
    await writeFile(join(src, 'secret.txt'), 'secret');
    await symlink('/etc/hostname', join(src, 'link'));
    await expect(alice.sendFiles(alice.find('Bob')[0]!, [join(src, 'link')])).rejects.toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
    const offered = fileEvent(bob, 'offer');
    const mine = await alice.sendFiles(alice.find('Bob')[0]!, [join(src, 'secret.txt')]);
    await offered;
    /** Sends one request to alice's TCP port from `from`, returns what came back. */
    const ask = async (from: string, extra: string, command = 0x60): Promise<Buffer> => {
      const s = connect({ host: LOCAL, port: alice.address().port, localAddress: from });
      await once(s, 'connect');
      s.write(encodeIpmsgPacket({ packetNo: 1, user: 'eve', host: 'x', command, extra }));
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      await once(s, 'close');
      return Buffer.concat(chunks);
    };
    const before = { ...alice.files!.stats.refused };
    // Wrong file id, wrong packet number, a folder request for a file, and the right one from another address.
    expect(await ask(LOCAL, fileRequestExtra({ kind: 'file', packetNo: mine.packetNo, fileId: 1, offset: 0 }))).toHaveLength(0);
    expect(await ask(LOCAL, fileRequestExtra({ kind: 'file', packetNo: mine.packetNo + 1, fileId: 0, offset: 0 }))).toHaveLength(0);
    expect(await ask(LOCAL, fileRequestExtra({ kind: 'dir', packetNo: mine.packetNo, fileId: 0, offset: 0 }), 0x62)).toHaveLength(0);
    expect(await ask('127.0.0.2', fileRequestExtra({ kind: 'file', packetNo: mine.packetNo, fileId: 0, offset: 0 }))).toHaveLength(0);
    expect(await ask(LOCAL, 'not a request:')).toHaveLength(0);
    expect(alice.files!.stats.refused.unoffered - before.unoffered).toBe(4);
    expect(alice.files!.stats.refused.malformed - before.malformed).toBe(1);
    // The right request from bob's address still works, from an offset.
    expect((await ask(LOCAL, fileRequestExtra({ kind: 'file', packetNo: mine.packetNo, fileId: 0, offset: 2 }))).toString()).toBe('cret');
  });

  it('limits: one transfer at a time (busy), a request rate per address, a deadline for the request; each refusal counted', async () => {
    const alice = await chat({
      nickname: 'Alice',
      port: 0,
      broadcast: false,
      // 1 a second refills less than one request in the well under 1 s this takes.
      files: { maxTransfers: 1, requestTimeoutMs: 150, requestLimit: { rate: 1, burst: 3, total: { rate: 100, burst: 100 } } },
    });
    open.push(alice);
    const conn = async (): Promise<{ closed: Promise<Buffer> }> => {
      const s = connect({ host: LOCAL, port: alice.address().port });
      await once(s, 'connect');
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('error', () => undefined);
      return { closed: once(s, 'close').then(() => Buffer.concat(chunks)) };
    };
    const first = await conn(); // says nothing: holds the one slot until its deadline
    const second = await conn();
    expect(await second.closed).toHaveLength(0);
    expect(alice.files!.stats.refused).toMatchObject({ busy: 1, rateLimited: 0, malformed: 0 });
    expect(await first.closed).toHaveLength(0);
    expect(alice.files!.stats.refused).toMatchObject({ busy: 1, rateLimited: 0, malformed: 1 });
    const third = await conn();
    third.closed.catch(() => undefined);
    const fourth = await conn(); // past the burst of 3 from this address
    expect(await fourth.closed).toHaveLength(0);
    expect(await third.closed).toHaveLength(0);
    expect(alice.files!.stats.refused).toEqual({ unoffered: 0, rateLimited: 1, busy: 1, malformed: 2, unsafe: 0 });
  });

  it('bytes in flight stay within maxBytesInFlight over three transfers at once, and all three arrive whole', async () => {
    const alice = await chat({ nickname: 'Alice', port: 0, broadcast: false, files: { maxBytesInFlight: 1 << 20 } });
    open.push(alice);
    const met = once(alice, 'join');
    const bob = await chat({ nickname: 'Bob', port: 0, broadcast: false, announceTo: [{ address: LOCAL, port: alice.address().port }] });
    open.push(bob);
    await Promise.all([met, once(bob, 'join')]);
    const src = await tmp();
    const dst = await tmp();
    const data = [0, 1, 2].map(() => randomBytes(6 * 1024 * 1024));
    const offers: number[] = [];
    bob.files!.on('offer', (e: Extract<ChatFileEvent, { type: 'offer' }>) => offers.push(e.offer.id));
    for (const [i, d] of data.entries()) {
      await writeFile(join(src, `f${i}.bin`), d);
      await alice.sendFiles(alice.find('Bob')[0]!, [join(src, `f${i}.bin`)]);
    }
    while (offers.length < 3) await once(bob.files!, 'offer');
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, alice.files!.bytesInFlight)), 1);
    await Promise.all(offers.map((id) => bob.files!.get(id, dst, false)));
    clearInterval(sample);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(1 << 20);
    expect(alice.files!.bytesInFlight).toBe(0);
    for (const [i, d] of data.entries()) expect(sha(await readFile(join(dst, `f${i}.bin`)))).toBe(sha(d));
  });

  it('names in folder streams: UTF-8 when they are valid UTF-8, else the legacy encoding', async () => {
    const alice = await chat({ nickname: 'Alice', port: 0, broadcast: false, legacyEncoding: 'cp932' });
    open.push(alice);
    const d = alice.files!.decodeName;
    expect(d(Buffer.from('报告 ü.txt'))).toBe('报告 ü.txt');
    expect(d(iconv.encode('報告書.txt', 'cp932'))).toBe('報告書.txt');
  });

  it('close() cuts a fetch still running: it fails, and the .part stays for later', async () => {
    const { alice, bob } = await pair();
    const src = await tmp();
    const dst = await tmp();
    await writeFile(join(src, 'big.bin'), randomBytes(64 * 1024 * 1024));
    const offered = fileEvent(bob, 'offer');
    await alice.sendFiles(alice.find('Bob')[0]!, [join(src, 'big.bin')]);
    const { offer } = await offered;
    const failed = fileEvent(bob, 'failed');
    const getting = bob.files!.get(offer.id, dst, false);
    await bob.close();
    await getting;
    expect((await failed).name).toBe('big.bin');
    expect(await readdir(dst)).toEqual(expect.arrayContaining(['big.bin.part']));
    expect(await readdir(dst)).not.toContain('big.bin');
  });
});
