/**
 * The native socket (build/Release/udpkit_native.node) over real loopback sockets, against
 * node:dgram peers. Skipped, saying why, when the addon is not built or UDPKIT_NATIVE=0.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNative, nativeAvailable, nativeLoadError, type NativeSocketError, type NativeUdp } from '../../src/native/binding.js';
import { thrown } from '../helpers/thrown.js';

const native = loadNative();
if (!native) console.warn(`SKIPPED native socket tests: ${String(nativeLoadError())}`);

/** One received datagram, copied out of its batch. */
interface Got {
  readonly payload: Buffer;
  readonly port: number;
  readonly address: string;
  readonly family: string;
  readonly reply: string;
}

/** Receives on `socket`, copying every datagram; `until(n)` resolves once n have arrived. */
function collect(socket: NativeUdp, onBatch?: (count: number) => void) {
  const got: Got[] = [];
  const batches: number[] = [];
  const errors: NativeSocketError[] = [];
  const dataBuffers = new Set<Buffer>();
  let waiting: { n: number; resolve: () => void } | undefined;
  const check = (): void => {
    if (waiting && got.length >= waiting.n) waiting.resolve();
  };
  const start = (): void =>
    socket.startReceiving(
      (count, data, starts, lengths, ports, senders, addresses, families, replies) => {
        batches.push(count);
        dataBuffers.add(data);
        for (let i = 0; i < count; i++) {
          const s = senders[i]!;
          const at = starts[i]!;
          got.push({ payload: Buffer.from(data.subarray(at, at + lengths[i]!)), port: ports[i]!, address: addresses[s]!, family: families[s]!, reply: replies[s]! });
        }
        onBatch?.(count);
        check();
      },
      (err) => errors.push(err),
    );
  start();
  const until = (n: number): Promise<void> =>
    new Promise((resolve) => {
      waiting = { n, resolve };
      check();
    });
  return { got, batches, errors, dataBuffers, until, start };
}

async function dgramSocket(type: 'udp4' | 'udp6', address: string, options: Partial<dgram.SocketOptions> = {}): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type, ...options });
  s.bind(0, address);
  await once(s, 'listening');
  return s;
}

/** Sends `payloads` with node:dgram, waiting for every send callback. */
function sendAll(from: dgram.Socket, payloads: readonly Buffer[], port: number, address: string): Promise<void> {
  let left = payloads.length;
  return new Promise((resolve, reject) => {
    if (left === 0) resolve();
    for (const p of payloads) from.send(p, port, address, (err) => (err ? reject(err) : --left === 0 && resolve()));
  });
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const payloadOf = (i: number): Buffer => Buffer.from(`${i}:${'x'.repeat(i % 300)}`);

describe.skipIf(!native)('NativeUdp (native addon)', () => {
  const sockets: NativeUdp[] = [];
  const peers: dgram.Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
    for (const p of peers.splice(0)) p.close();
  });
  function open(family: 4 | 6, ipv6Only = false): NativeUdp {
    const s = new native!.NativeUdp(family, ipv6Only);
    sockets.push(s);
    return s;
  }
  async function peer(type: 'udp4' | 'udp6', address: string, options: Partial<dgram.SocketOptions> = {}): Promise<dgram.Socket> {
    const p = await dgramSocket(type, address, options);
    peers.push(p);
    return p;
  }

  it('loads, and UDPKIT_NATIVE=0 forces the node:dgram path', () => {
    expect(nativeAvailable()).toBe(true);
    const saved = process.env.UDPKIT_NATIVE;
    process.env.UDPKIT_NATIVE = '0';
    try {
      expect(loadNative()).toBeUndefined();
      expect(nativeAvailable()).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.UDPKIT_NATIVE;
      else process.env.UDPKIT_NATIVE = saved;
    }
  });

  it('binds port 0 and reports the port the OS gave', () => {
    const s = open(4);
    s.bind('127.0.0.1', 0, false);
    const a = s.localAddress();
    expect(a).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(a.port).toBeGreaterThan(0);
    expect(s.fd).toBeGreaterThanOrEqual(0);
    const d = open(6);
    d.bind('::', 0, false);
    expect(d.localAddress()).toMatchObject({ address: '::', family: 'IPv6' });
  });

  const cases = [
    { name: 'IPv4 on 127.0.0.1', family: 4, bind: '127.0.0.1', type: 'udp4', from: '127.0.0.1', shown: '127.0.0.1', fam: 'IPv4', reply: '127.0.0.1' },
    { name: 'IPv6 on ::1', family: 6, bind: '::1', type: 'udp6', from: '::1', shown: '::1', fam: 'IPv6', reply: '::1' },
    { name: 'mapped IPv4 on a dual-stack socket, shown as plain IPv4', family: 6, bind: '::', type: 'udp4', from: '127.0.0.1', shown: '127.0.0.1', fam: 'IPv4', reply: '::ffff:127.0.0.1' },
  ] as const;
  for (const c of cases) {
    it(`receives 10,000 datagrams in batches, every payload, port and address exact: ${c.name}`, async () => {
      const s = open(c.family);
      s.bind(c.bind, 0, false);
      s.setRecvBufferSize(1 << 20);
      const r = collect(s);
      const sender = await peer(c.type, c.from);
      const total = 10_000;
      const window = 200; // well under what the receive buffer holds: no drops expected
      for (let at = 0; at < total; at += window) {
        const batch = Array.from({ length: Math.min(window, total - at) }, (_, k) => payloadOf(at + k));
        await sendAll(sender, batch, s.localAddress().port, c.bind === '::' ? '127.0.0.1' : c.bind);
        expect(s.drops()).toBe(0); // else the wait below would never end
        await r.until(at + batch.length);
      }
      expect(r.got).toHaveLength(total);
      const port = sender.address().port;
      r.got.forEach((g, i) => {
        if (!g.payload.equals(payloadOf(i)) || g.port !== port || g.address !== c.shown || g.family !== c.fam || g.reply !== c.reply) {
          expect({ i, ...g, payload: g.payload.toString() }).toEqual({ i, payload: payloadOf(i).toString(), port, address: c.shown, family: c.fam, reply: c.reply });
        }
      });
      expect(Math.max(...r.batches)).toBeGreaterThan(1);
      expect(Math.max(...r.batches)).toBeLessThanOrEqual(64);
      expect(r.dataBuffers.size).toBe(1); // one arena, reused batch after batch
      expect(s.drops()).toBe(0);
      expect(r.errors).toEqual([]);
    });
  }

  it('tells senders apart within a batch, past the 8-entry string cache', async () => {
    const s = open(6);
    s.bind('::', 0, false);
    const r = collect(s);
    const senders = [await peer('udp6', '::1')];
    for (let k = 1; k <= 11; k++) senders.push(await peer('udp4', `127.0.0.${k}`));
    const rounds = 3;
    const sends: Promise<void>[] = [];
    for (let round = 0; round < rounds; round++) {
      senders.forEach((p, k) => sends.push(sendAll(p, [Buffer.from(`${round}/${k}`)], s.localAddress().port, k === 0 ? '::1' : '127.0.0.1')));
    }
    await Promise.all(sends);
    await r.until(rounds * senders.length);
    for (const g of r.got) {
      const k = Number(g.payload.toString().split('/')[1]);
      const p = senders[k]!.address();
      expect(g).toMatchObject({ port: p.port, address: p.address, family: p.family, reply: k === 0 ? '::1' : `::ffff:${p.address}` });
    }
  });

  it('stopReceiving lets the kernel drop and count; received + drops == sent', async () => {
    const s = open(4);
    s.bind('127.0.0.1', 0, false);
    s.setRecvBufferSize(16_384);
    let stoppedAt = -1;
    const r = collect(s, () => {
      if (stoppedAt < 0) {
        s.stopReceiving(); // from inside the callback, as a listener applying backpressure does
        stoppedAt = r.got.length;
      }
    });
    const sender = await peer('udp4', '127.0.0.1');
    const port = s.localAddress().port;
    await sendAll(sender, [payloadOf(0)], port, '127.0.0.1');
    await r.until(1);
    const burst = 2000;
    await sendAll(sender, Array.from({ length: burst }, (_, i) => payloadOf(i + 1)), port, '127.0.0.1');
    await turn();
    await turn();
    expect(r.got.length).toBe(stoppedAt); // nothing read while stopped
    const drops = s.drops();
    expect(drops).toBeGreaterThan(0);
    r.start();
    await r.until(1 + burst - drops);
    await sendAll(sender, [Buffer.from('final')], port, '127.0.0.1');
    await r.until(2 + burst - drops);
    expect(r.got.at(-1)!.payload.toString()).toBe('final');
    expect(s.drops()).toBe(drops);
    expect(r.got.length + s.drops()).toBe(1 + burst + 1);
  });

  it('sendBatch delivers 1,000 datagrams to a node:dgram receiver, complete and in order', async () => {
    const receiver = await peer('udp4', '127.0.0.1', { recvBufferSize: 4 << 20 });
    const got: string[] = [];
    receiver.on('message', (m: Buffer) => got.push(m.toString()));
    const s = open(4);
    s.bind('127.0.0.1', 0, false);
    const buffers = Array.from({ length: 1000 }, (_, i) => payloadOf(i));
    let start = 0;
    let calls = 0;
    while (start < buffers.length) {
      const taken = s.sendBatch(buffers, start, '127.0.0.1', receiver.address().port);
      calls++;
      if (taken === 0) await new Promise<void>((resolve) => s.waitWritable(resolve));
      start += taken;
    }
    expect(calls).toBeLessThan(100);
    while (got.length < buffers.length) await once(receiver, 'message');
    expect(got).toEqual(buffers.map((b) => b.toString()));
  });

  it('sends to the connected peer with send and sendBatch', async () => {
    const receiver = await peer('udp6', '::1');
    const got: string[] = [];
    receiver.on('message', (m: Buffer) => got.push(m.toString()));
    const s = open(6, true);
    s.connect('::1', receiver.address().port);
    expect(s.send(Buffer.from('one'))).toBe(true);
    expect(s.sendBatch([Buffer.from('two'), new Uint8Array([0x33])], 0)).toBe(2);
    expect(s.sendBatch([Buffer.from('two')], 1)).toBe(0);
    while (got.length < 3) await once(receiver, 'message');
    expect(got).toEqual(['one', 'two', '3']);
  });

  it('reports ECONNREFUSED, coded, after sending to a closed port', async () => {
    const gone = await dgramSocket('udp4', '127.0.0.1');
    const port = gone.address().port;
    gone.close();
    const s = open(4);
    s.connect('127.0.0.1', port);
    let err: unknown;
    for (let i = 0; i < 20 && err === undefined; i++) {
      try {
        if (i % 2 === 0) s.send(Buffer.from('ping'));
        else s.sendBatch([Buffer.from('ping')], 0);
      } catch (e) {
        err = e;
      }
      await turn();
    }
    expect(err).toMatchObject({ code: 'ECONNREFUSED', errno: -111 });
    expect(['send', 'sendmmsg']).toContain((err as NativeSocketError).syscall);
    // While receiving, the same ICMP error goes to onError instead.
    const r = collect(s);
    s.send(Buffer.from('ping'));
    for (let i = 0; i < 50 && r.errors.length === 0; i++) await turn();
    expect(r.errors[0]).toMatchObject({ code: 'ECONNREFUSED', syscall: 'recvmmsg' });
  });

  it('throws coded bind and argument errors', async () => {
    const taken = await peer('udp4', '127.0.0.1');
    const port = taken.address().port;
    const s = open(4);
    expect(thrown(() => s.bind('127.0.0.1', port, false))).toMatchObject({
      code: 'EADDRINUSE',
      errno: -98,
      syscall: 'bind',
      address: '127.0.0.1',
      port,
      message: `bind EADDRINUSE 127.0.0.1:${port}`,
    });
    expect(thrown(() => s.bind('::1', 0, false))).toMatchObject({ code: 'EAFNOSUPPORT', syscall: 'bind' });
    expect(thrown(() => s.bind('localhost', 0, false))).toMatchObject({ code: 'EINVAL', syscall: 'bind' });
    expect(thrown(() => s.bind(`127.0.0.1${' '.repeat(200)}`, 0, false))).toMatchObject({ code: 'EINVAL' });
    expect(thrown(() => s.bind('192.0.2.1', 0, false))).toMatchObject({ code: 'EADDRNOTAVAIL' });
    const range = thrown(() => s.bind('127.0.0.1', 70_000, false));
    expect(range).toBeInstanceOf(RangeError);
    expect(range).toMatchObject({ code: 'UDPKIT_INVALID_PORT' });
    const type = thrown(() => s.bind(42 as unknown as string, 0, false));
    expect(type).toBeInstanceOf(TypeError);
    expect(type).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
    expect(thrown(() => s.sendBatch([{} as Uint8Array], 0, '127.0.0.1', 9))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
    expect(thrown(() => s.setRecvBufferSize(-1))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
    expect(thrown(() => new native!.NativeUdp(5 as 4))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
  });

  it('closes twice safely, also from inside onBatch; a closed socket throws EBADF', async () => {
    const s = open(4);
    s.bind('127.0.0.1', 0, false);
    const port = s.localAddress().port;
    let batches = 0;
    s.startReceiving(
      () => {
        batches++;
        s.close();
        s.close();
      },
      () => undefined,
    );
    const sender = await peer('udp4', '127.0.0.1');
    await sendAll(sender, Array.from({ length: 100 }, (_, i) => payloadOf(i)), port, '127.0.0.1');
    while (batches === 0) await turn();
    await turn();
    expect(batches).toBe(1);
    expect(s.fd).toBe(-1);
    s.stopReceiving();
    expect(thrown(() => s.bind('127.0.0.1', 0, false))).toMatchObject({ code: 'EBADF', syscall: 'bind' });
    expect(thrown(() => s.send(Buffer.from('x'), '127.0.0.1', port))).toMatchObject({ code: 'EBADF' });
    // The port is free again at once: the fd was closed synchronously.
    const again = open(4);
    again.bind('127.0.0.1', port, false);
  });

  it('survives 1,000 sockets created, bound and closed, and 1,000 more left to the GC', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    const noop = (): void => undefined;
    for (let i = 0; i < 1000; i++) {
      const s = new native!.NativeUdp(i % 2 === 0 ? 4 : 6, false);
      s.bind(i % 2 === 0 ? '127.0.0.1' : '::1', 0, false);
      if (i % 3 === 0) s.startReceiving(noop, noop);
      s.close();
      if (i % 5 === 0) s.close();
    }
    for (let i = 0; i < 1000; i++) {
      const s = new native!.NativeUdp(4, false);
      s.bind('127.0.0.1', 0, false);
      if (i % 3 === 0) {
        s.startReceiving(noop, noop); // and stopped: only a stopped socket may be collected
        s.stopReceiving();
      }
    }
    for (let i = 0; i < 20 && fds() > before + 10; i++) {
      gc();
      await turn();
    }
    expect(fds()).toBeLessThanOrEqual(before + 10);
  });
});
