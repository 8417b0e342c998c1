/**
 * The library's accounting over real loopback sockets: `Listener.stats.refusedBy` names why each
 * datagram read was not handed out, `'refused'` events say who sent it, and a batch handler that
 * stops partway leaves the rest counted, not lost.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type Listener, type RefusalReason } from '../../src/index.js';
import { encodeData } from '../../src/protocol/reliable-frames.js';
import type { DatagramBatch } from '../../src/socket/batch.js';
import type { Endpoint } from '../../src/types.js';

const open: Listener[] = [];
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await Promise.all(open.splice(0).map((l) => l.close()));
});

async function peer(): Promise<{ port: number; send: (port: number, d: Buffer) => Promise<void> }> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { port: s.address().port, send: (port, d) => new Promise((r, j) => s.send(d, port, '127.0.0.1', (e) => (e ? j(e) : r()))) };
}

/** Resolves once `l` has read `n` datagrams in all (handed out or refused). */
function untilRead(l: Listener, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const check = (): void => {
      const s = l.stats;
      if (s.datagrams + s.refused >= n) resolve();
      else if (Date.now() - t0 > 10_000) reject(new Error(`read ${s.datagrams + s.refused} of ${n}`));
      else setTimeout(check, 5);
    };
    check();
  });
}

describe('Listener.stats', () => {
  it('counts --ack traffic it does not hand out by reason, with a refused event naming the sender', async () => {
    const l = await listen({ port: 0, family: 4 });
    open.push(l);
    const port = l.address().port;
    const got: string[] = [];
    const refused: [RefusalReason, Endpoint][] = [];
    l.on('datagram', (d) => got.push(d.text ?? '?'));
    l.on('refused', (reason: RefusalReason, from: Endpoint) => refused.push([reason, from]));
    const p = await peer();
    const id = Buffer.alloc(8, 7);
    // Read in order: once the last two are counted, 'three' (held for the missing 'two') was read.
    for (const d of [encodeData(id, 0, Buffer.from('one')), encodeData(id, 2, Buffer.from('three')), encodeData(id, 0, Buffer.from('one')), encodeData(id, 9999, Buffer.from('far'))]) {
      await p.send(port, d);
    }
    await untilRead(l, 3);
    expect(got).toEqual(['one']);
    expect(l.stats).toEqual({ datagrams: 1, bytes: 3, refused: 2, refusedBy: { duplicate: 1, window: 1 }, queueDropped: 0, sessionsEvicted: 0, echo: { echoed: 0, failed: 0, refused: 0, refusedBy: {} } });
    expect(refused).toEqual([
      ['duplicate', { address: '127.0.0.1', port: p.port, family: 'IPv4' }],
      ['window', { address: '127.0.0.1', port: p.port, family: 'IPv4' }],
    ]);
    // 'three' waits for 'two'; once the listener stops taking datagrams it never can be shown.
    expect(l.stopAccepting()).toBe(true);
    await p.send(port, Buffer.from('late'));
    await untilRead(l, 5);
    expect(l.stats.refusedBy).toEqual({ duplicate: 1, window: 1, gap: 1, 'after-stop': 1 });
    expect(l.stats.refused).toBe(4);
  });

  it('a batch handler that returns how many it took leaves the rest counted as after-stop', async () => {
    const l = await listen({ port: 0, family: 4, reliable: false });
    open.push(l);
    let taken = 0;
    l.onBatch((b: DatagramBatch) => {
      const n = Math.min(b.count, 3 - taken);
      taken += n;
      return n;
    });
    const p = await peer();
    for (let i = 0; i < 5; i++) await p.send(l.address().port, Buffer.from(`m${i}`));
    await untilRead(l, 5);
    expect(l.stats).toMatchObject({ datagrams: 3, bytes: 6, refused: 2, refusedBy: { 'after-stop': 2 } });
  });
});
