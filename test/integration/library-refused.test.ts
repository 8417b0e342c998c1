/**
 * README claims about the library, through the public entry points with real loopback sockets
 * and a Python peer: `listen()` emits `'refused'` with the reason and the sender for what it
 * does not hand out (`allow`, `key`), and its async iterator holds at most `maxQueue` datagrams
 * for a consumer that is not reading, dropping and counting the rest. Every test checks
 * handed out + refused (by reason) + queue dropped + kernel dropped = sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type Listener, type RefusalReason } from '../../src/index.js';
import { Sealer, deriveKey } from '../../src/protocol/index.js';
import type { Datagram, Endpoint } from '../../src/types.js';
import { pythonSend } from '../helpers/python-send.js';
import { until } from '../helpers/until.js';

const open: Listener[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

async function listening(options: Parameters<typeof listen>[0]): Promise<Listener> {
  const l = await listen({ port: 0, family: 4, address: '127.0.0.1', ...options });
  open.push(l);
  return l;
}

/** Records `'datagram'` and `'refused'` events; `read(n)` resolves once n were seen in all. */
function record(l: Listener): { shown: Datagram[]; refused: [RefusalReason, Endpoint][]; read(n: number): Promise<void> } {
  const shown: Datagram[] = [];
  const refused: [RefusalReason, Endpoint][] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  const check = (): void => {
    if (waiter && shown.length + refused.length >= waiter.n) waiter.resolve();
  };
  l.on('datagram', (d: Datagram) => (shown.push(d), check()));
  l.on('refused', (reason: RefusalReason, from: Endpoint) => (refused.push([reason, from]), check()));
  return {
    shown,
    refused,
    read: (n) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`saw ${shown.length + refused.length} of ${n} datagrams`)), 10_000);
        waiter = { n, resolve: () => (clearTimeout(timer), resolve()) };
        check();
      }),
  };
}

describe("listen(): the 'refused' event", () => {
  it('allow: a source outside the list is refused as source, with its address and port; the allowed one is shown', async () => {
    const l = await listening({ allow: '127.0.0.2/32' });
    const seen = record(l);
    const port = l.address().port;
    const outside = await pythonSend('127.0.0.1', port, [Buffer.from('no'), Buffer.from('nor this')]);
    const inside = await pythonSend('127.0.0.2', port, [Buffer.from('yes')]);
    await seen.read(3);
    expect(seen.shown.map((d) => [d.text, d.from])).toEqual([['yes', { address: '127.0.0.2', port: inside.port, family: 'IPv4' }]]);
    const from = { address: '127.0.0.1', port: outside.port, family: 'IPv4' };
    expect(seen.refused).toEqual([['source', from], ['source', from]]);
    const drops = await l.kernelDrops();
    expect(l.stats).toMatchObject({ datagrams: 1, bytes: 3, refused: 2, refusedBy: { source: 2 }, queueDropped: 0 });
    expect(l.stats.datagrams + l.stats.refused + (drops ?? 0)).toBe(outside.sent + inside.sent);
    expect(drops).toBe(0);
  });

  it('key: plain, forged, misdirected and replayed datagrams are refused by reason; the sealed one is shown once', async () => {
    const secret = 'correct horse battery staple';
    const l = await listening({ key: secret });
    const seen = record(l);
    const port = l.address().port;
    const sealer = new Sealer(deriveKey(secret));
    const now = Date.now();
    const good = sealer.seal(Buffer.from('sealed hello'), now, { port });
    const forged = Buffer.from(sealer.seal(Buffer.from('tampered'), now, { port }));
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 0x01;
    const otherPort = sealer.seal(Buffer.from('for another port'), now, { port: port === 65535 ? 1 : port + 1 });
    const other = new Sealer(deriveKey('another secret')).seal(Buffer.from('wrong key'), now, { port });
    // In order from one socket: the replay comes after the original, so it is the replay.
    const peer = await pythonSend('127.0.0.1', port, [Buffer.from('plain text'), good, forged, otherPort, good, other]);
    await seen.read(6);
    expect(seen.shown.map((d) => d.text)).toEqual(['sealed hello']);
    const from = { address: '127.0.0.1', port: peer.port, family: 'IPv4' };
    expect(seen.refused).toEqual([['plain', from], ['forged', from], ['misdirected', from], ['replayed', from], ['forged', from]]);
    const drops = await l.kernelDrops();
    expect(l.stats).toMatchObject({ datagrams: 1, refused: 5, refusedBy: { plain: 1, forged: 2, misdirected: 1, replayed: 1 }, queueDropped: 0 });
    expect(l.stats.datagrams + l.stats.refused + (drops ?? 0)).toBe(peer.sent);
  });
});

describe('listen(): maxQueue', () => {
  it('holds the first maxQueue datagrams for an iterator that starts late, drops and counts the rest', async () => {
    const l = await listening({ maxQueue: 5 });
    const port = l.address().port;
    const payloads = Array.from({ length: 20 }, (_, i) => Buffer.from(`d${i}`));
    const peer = await pythonSend('127.0.0.1', port, payloads);
    // No 'datagram' listener and no iterator yet: every datagram read is handed to the queue.
    await until(() => l.stats.datagrams + l.stats.refused >= peer.sent, 10_000, `the listener to read ${peer.sent} datagrams`);
    expect(l.stats).toMatchObject({ datagrams: 20, refused: 0, queueDropped: 15 });
    const drops = await l.kernelDrops();
    const got: string[] = [];
    for await (const d of l) {
      got.push(d.text ?? '?');
      if (got.length === 5) break;
    }
    expect(got).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
    // Shown 5 + queue dropped 15 + refused 0 + kernel dropped 0 = sent 20.
    expect(got.length + l.stats.queueDropped + l.stats.refused + (drops ?? 0)).toBe(peer.sent);
    expect(drops).toBe(0);
  });

  it('with a reader that keeps up, drops nothing past maxQueue', async () => {
    const l = await listening({ maxQueue: 2 });
    const port = l.address().port;
    const got: string[] = [];
    const reading = (async () => {
      for await (const d of l) {
        got.push(d.text ?? '?');
        if (got.length === 3) return;
      }
    })();
    // One at a time, each sent after the previous one was read: the queue never holds two.
    for (let i = 0; i < 3; i++) {
      await pythonSend('127.0.0.1', port, [Buffer.from(`m${i}`)]);
      await until(() => got.length > i, 10_000, `datagram m${i} to be read`);
    }
    await reading;
    expect(got).toEqual(['m0', 'm1', 'm2']);
    expect(l.stats).toMatchObject({ datagrams: 3, queueDropped: 0, refused: 0 });
  });
});
