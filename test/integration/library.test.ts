/** The library API over real loopback sockets: listen(), send(), openSender(). */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, openSender, send, type Listener } from '../../src/index.js';
import type { Datagram, Lookup } from '../../src/types.js';
import { closedUdpPort } from '../helpers/closed-port.js';

const open: Listener[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});
async function bound(options: Parameters<typeof listen>[0] = {}): Promise<Listener> {
  const l = await listen({ port: 0, ...options });
  open.push(l);
  return l;
}

describe('listen()', () => {
  it('resolves once bound on a dual-stack socket and reports the port the OS gave', async () => {
    const l = await bound();
    const a = l.address();
    expect(a).toMatchObject({ address: '::', family: 'IPv6', dualStack: true });
    expect(a.port).toBeGreaterThan(0);
    expect(l.state).toBe('bound');
  });

  it('is an async iterable of datagrams with data, text and a plain-IPv4 sender', async () => {
    const l = await bound();
    const port = l.address().port;
    await send('hello', { host: '127.0.0.1', port });
    await send(Buffer.from([0xff, 0x00]), { host: '::1', port });
    const got: Datagram[] = [];
    for await (const d of l) {
      got.push(d);
      if (got.length === 2) break;
    }
    expect(got[0]!.text).toBe('hello');
    expect(got[0]!.from).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(got[1]!.text).toBeUndefined();
    expect([...got[1]!.data]).toEqual([0xff, 0x00]);
    expect(got[1]!.from).toMatchObject({ address: '::1', family: 'IPv6' });
    expect(l.stats).toMatchObject({ datagrams: 2, bytes: 7, queueDropped: 0 });
  });

  it('receives from a foreign sender (node:dgram, unconnected) and replies to it', async () => {
    const l = await bound({ family: 4 });
    const peer = dgram.createSocket('udp4');
    peer.bind(0, '127.0.0.1');
    await once(peer, 'listening');
    l.on('datagram', (d: Datagram) => void l.reply(d, Buffer.concat([Buffer.from('re: '), d.data])));
    peer.send('question', l.address().port, '127.0.0.1');
    const [msg] = (await once(peer, 'message')) as [Buffer];
    expect(msg.toString()).toBe('re: question');
    peer.close();
  });

  it('closes when its AbortSignal is aborted, ending iteration', async () => {
    const ac = new AbortController();
    const l = await bound({ signal: ac.signal });
    const iterating = (async () => {
      let n = 0;
      for await (const _ of l) n++;
      return n;
    })();
    ac.abort();
    expect(await iterating).toBe(0);
    expect(l.state).toBe('closed');
  });

  it('binds one family or one address on request', async () => {
    const v6 = await bound({ family: 6 });
    expect(v6.address()).toMatchObject({ address: '::', dualStack: false });
    const lo = await bound({ address: '127.0.0.1' });
    expect(lo.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4', dualStack: false });
  });

  it('rejects a busy port with a coded error naming the place', async () => {
    const l = await bound();
    const err = await listen({ port: l.address().port }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'UDPKIT_BIND_FAILED',
      errno: 'EADDRINUSE',
      syscall: 'bind',
      port: l.address().port,
      message: `cannot bind [::]:${l.address().port}/udp: port ${l.address().port}/udp is already in use`,
    });
  });

  it('throws a RangeError with a code for a bad port, before touching the network', async () => {
    const err = await listen({ port: 65536 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(err).toMatchObject({ code: 'UDPKIT_INVALID_PORT' });
  });
});

describe('send() and openSender()', () => {
  it('sends to a name through an injected resolver, and reports a failed lookup with what and where', async () => {
    const l = await bound();
    const lookup: Lookup = async (name) => (name === 'box.test' ? [{ address: '127.0.0.1', family: 4 }] : Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' })));
    await send('via resolver', { host: 'box.test', port: l.address().port, lookup });
    const [d] = (await once(l, 'datagram')) as [Datagram];
    expect(d.text).toBe('via resolver');
    const err = await send('x', { host: 'nosuch.test', port: 9, lookup }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UDPKIT_RESOLVE_FAILED', message: 'cannot resolve host "nosuch.test": not found' });
  });

  it('bounds a lookup that never answers', async () => {
    const never: Lookup = () => new Promise(() => undefined);
    const err = await send('x', { host: 'slow.test', port: 9, lookup: never, resolveTimeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UDPKIT_RESOLVE_FAILED', message: 'cannot resolve host "slow.test": no answer within 0.05 s' });
  });

  it('refuses a payload over the UDP limit with a RangeError', async () => {
    const err = await send(Buffer.alloc(65_528), { host: '::1', port: 9 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(err).toMatchObject({ code: 'UDPKIT_MESSAGE_TOO_LARGE' });
  });

  it('counts refusals from a closed port without failing (best effort)', async () => {
    const l = await bound({ family: 4 });
    const port = l.address().port;
    await l.close();
    const sender = await openSender({ host: '127.0.0.1', port });
    for (let i = 0; i < 5; i++) {
      await sender.send(`n${i}`);
      await new Promise((r) => setImmediate(r));
    }
    await sender.close();
    expect(sender.stats.datagrams).toBe(5);
    expect(sender.stats.refused).toBeGreaterThan(0);
  });

  it('applies backpressure: write() returns false at the high-water mark and drain follows', async () => {
    const l = await bound();
    const sender = await openSender({ host: '127.0.0.1', port: l.address().port, highWaterMark: 4 });
    const results = [1, 2, 3, 4].map((i) => sender.write(Buffer.from(String(i))));
    expect(results).toEqual([true, true, true, false]);
    await once(sender, 'drain');
    await sender.close();
    expect(sender.stats.datagrams).toBe(4);
  });
});

describe('send({ ack: true }) and relay()', () => {
  it('resolves once acknowledged through a lossy relay, and rejects coded when nobody listens', async () => {
    const { relay } = await import('../../src/index.js');
    const l = await bound();
    const r = await relay({ port: 0, upstream: { host: '127.0.0.1', port: l.address().port }, loss: 0.3, seed: 4 });
    try {
      const got = new Promise<Datagram>((resolve) => l.once('datagram', resolve));
      await send('made it', { host: '127.0.0.1', port: r.address().port, ack: true });
      expect((await got).text).toBe('made it');
    } finally {
      await r.close();
    }
    const closed = await closedUdpPort();
    try {
      const err = await send('anyone?', { host: '127.0.0.1', port: closed.port, ack: true }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'UDPKIT_UNCONFIRMED', message: `message to 127.0.0.1:${closed.port}/udp not confirmed: nobody is listening there (port unreachable)` });
    } finally {
      await closed.close();
    }
  });

  it('an abort stops the wait for an acknowledgement at once and rejects coded', async () => {
    // A plain socket takes the DATA frame and never acknowledges it.
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const controller = new AbortController();
      silent.once('message', () => controller.abort());
      // Without the abort this would wait a minute: the test's own timeout would fail it.
      const err = await send('hello?', { host: '127.0.0.1', port: silent.address().port, ack: true, ackTimeoutMs: 60_000, signal: controller.signal }).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'UDPKIT_UNCONFIRMED',
        message: `message to 127.0.0.1:${silent.address().port}/udp not confirmed: stopped (aborted) before an acknowledgement came`,
      });
    } finally {
      silent.close();
    }
  });
});
