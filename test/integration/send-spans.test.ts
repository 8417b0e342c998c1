/**
 * Sending slices of one buffer (what `udpkit send < file` does): the addon's sendSpans and
 * Sender.writeSpans, over real loopback sockets, into node:dgram receivers.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNative, nativeLoadError, type NativeUdp } from '../../src/native/binding.js';
import { Opener } from '../../src/protocol/opener.js';
import { deriveKey } from '../../src/protocol/seal-key.js';
import { openSender, type DatagramSpans, type Sender } from '../../src/transport/sender.js';
import { closedUdpPort, type ClosedPort } from '../helpers/closed-port.js';
import { rejection, thrown } from '../helpers/thrown.js';

const native = loadNative();
if (!native) console.warn(`SKIPPED native sendSpans and native Sender tests: ${String(nativeLoadError())}`);

/** `texts` as spans of one buffer, in order. */
function spansOf(texts: readonly string[]): DatagramSpans {
  const bytes = Buffer.from(texts.join(''));
  const starts = new Uint32Array(texts.length);
  const ends = new Uint32Array(texts.length);
  let at = 0;
  texts.forEach((t, i) => {
    starts[i] = at;
    at += Buffer.byteLength(t);
    ends[i] = at;
  });
  return { bytes, starts, ends, count: texts.length };
}

const textOf = (i: number): string => `${i}:${'s'.repeat(i % 97)}`;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A node:dgram receiver on 127.0.0.1 that keeps every payload; `until(n)` waits for n. */
async function receiver(): Promise<{ port: number; got: Buffer[]; until: (n: number) => Promise<void> }> {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  cleanups.push(() => new Promise<void>((resolve) => s.close(() => resolve())));
  const got: Buffer[] = [];
  s.on('message', (m: Buffer) => got.push(m));
  const until = async (n: number): Promise<void> => {
    while (got.length < n) await once(s, 'message');
  };
  return { port: s.address().port, got, until };
}

async function sender(port: number, key?: string): Promise<Sender> {
  const s = await openSender({ host: '127.0.0.1', port, ...(key ? { key } : {}) });
  cleanups.push(() => s.close());
  return s;
}

describe.skipIf(!native)('NativeUdp.sendSpans', () => {
  it('sends slices of one buffer, 64 a call at most, complete and in order, empty ones too', async () => {
    const r = await receiver();
    const s: NativeUdp = new native!.NativeUdp(4, false);
    cleanups.push(() => s.close());
    s.connect('127.0.0.1', r.port);
    const texts = Array.from({ length: 3000 }, (_, i) => (i % 500 === 0 ? '' : textOf(i)));
    const { bytes, starts, ends, count } = spansOf(texts);
    let from = 0;
    while (from < count) {
      const taken = s.sendSpans(bytes, starts, ends, from, count);
      expect(taken).toBeLessThanOrEqual(64);
      if (taken === 0) await new Promise<void>((resolve) => s.waitWritable(resolve));
      from += taken;
    }
    await r.until(texts.length);
    expect(r.got.map(String)).toEqual(texts);
  });

  it('refuses a span outside the buffer, or past the arrays, before sending anything', () => {
    const s: NativeUdp = new native!.NativeUdp(4, false);
    cleanups.push(() => s.close());
    s.connect('127.0.0.1', 9);
    const bytes = Buffer.from('abcdef');
    expect(thrown(() => s.sendSpans(bytes, Uint32Array.of(0, 4), Uint32Array.of(3, 7), 0, 2))).toMatchObject({ name: 'RangeError', code: 'UDPKIT_INVALID_ARGUMENT', message: 'a span is outside the buffer' });
    expect(thrown(() => s.sendSpans(bytes, Uint32Array.of(3), Uint32Array.of(2), 0, 1))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
    expect(thrown(() => s.sendSpans(bytes, Uint32Array.of(0), Uint32Array.of(1), 0, 2))).toMatchObject({ message: 'to is past the end of starts or ends' });
    expect(thrown(() => s.sendSpans(bytes, new Int32Array(1) as unknown as Uint32Array, Uint32Array.of(1), 0, 1))).toMatchObject({ name: 'TypeError', message: 'starts must be a Uint32Array' });
    expect(s.sendSpans(bytes, Uint32Array.of(0), Uint32Array.of(1), 1, 1)).toBe(0);
  });

  it('with gso: any layout of spans arrives exactly as the spans say, in order (runs, gaps, overlaps, empty ones)', async () => {
    // A layout: each span's size, and where it starts relative to the end of the one before
    // (0: right after it, a run the kernel may segment; > 0: a gap; < 0: overlapping bytes).
    const span = fc.record({ size: fc.oneof(fc.constantFrom(0, 1, 64, 64, 64, 1200, 1472), fc.integer({ min: 0, max: 1500 })), shift: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: -32, max: 32 })) });
    const r = await receiver();
    const s: NativeUdp = new native!.NativeUdp(4, false);
    cleanups.push(() => s.close());
    s.connect('127.0.0.1', r.port);
    await fc.assert(
      fc.asyncProperty(fc.array(span, { minLength: 1, maxLength: 200 }), async (layout) => {
        const starts = new Uint32Array(layout.length);
        const ends = new Uint32Array(layout.length);
        let at = 0;
        layout.forEach(({ size, shift }, i) => {
          starts[i] = Math.max(0, at + shift);
          ends[i] = starts[i]! + size;
          at = ends[i]!;
        });
        const bytes = Buffer.from(Array.from({ length: Math.max(...ends) }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
        const want = layout.map((_, i) => bytes.subarray(starts[i], ends[i]).toString('hex'));
        const seen = r.got.length;
        for (let from = 0; from < layout.length; ) {
          const taken = s.sendSpans(bytes, starts, ends, from, layout.length, true);
          if (taken === 0) await new Promise<void>((resolve) => s.waitWritable(resolve));
          from += taken;
        }
        await r.until(seen + layout.length);
        expect(r.got.slice(seen).map((d) => d.toString('hex'))).toEqual(want);
      }),
      { numRuns: 60 },
    );
  });
});

// The native variant only where the addon loads (not under UDPKIT_NATIVE=0): said above.
describe.each([...(native ? [{ name: 'native', env: undefined }] : []), { name: 'node:dgram', env: '0' }])('Sender.writeSpans ($name)', ({ env }) => {
  const before = process.env.UDPKIT_NATIVE;
  afterEach(() => {
    if (before === undefined) delete process.env.UDPKIT_NATIVE;
    else process.env.UDPKIT_NATIVE = before;
  });
  const use = (): void => {
    if (env !== undefined) process.env.UDPKIT_NATIVE = env;
  };

  it('sends 5,000 datagrams in order, after what was written before, and counts them exactly', async () => {
    use();
    const r = await receiver();
    const s = await sender(r.port);
    const texts = Array.from({ length: 5000 }, (_, i) => textOf(i));
    s.write(Buffer.from('first'));
    // 1,000 at a time, each taken in before the next: the receiver's buffer holds that many.
    for (let at = 0; at < texts.length; at += 1000) {
      await s.writeSpans(spansOf(texts.slice(at, at + 1000)));
      await r.until(1 + at + 1000);
    }
    await s.flush();
    expect(s.stats).toEqual({ datagrams: 5001, bytes: 5 + texts.reduce((n, t) => n + t.length, 0), refused: 0 });
    expect(r.got.map(String)).toEqual(['first', ...texts]);
  });

  it('runs calls made at once one after the other, in the order made', async () => {
    use();
    const r = await receiver();
    const s = await sender(r.port);
    await Promise.all([s.writeSpans(spansOf(['a1', 'a2'])), s.writeSpans(spansOf(['b1'])), s.writeSpans(spansOf(['c1', 'c2']))]);
    await r.until(5);
    expect(r.got.map(String)).toEqual(['a1', 'a2', 'b1', 'c1', 'c2']);
  });

  it('seals each datagram with a key, counting the message bytes', async () => {
    use();
    const r = await receiver();
    const s = await sender(r.port, 'spans secret');
    await s.writeSpans(spansOf(['one', 'two', '']));
    await r.until(3);
    const opener = new Opener(deriveKey('spans secret'));
    const opened = r.got.map((d) => opener.open(d, Date.now(), r.port));
    expect(opened.map((o) => (o.ok ? o.plaintext.toString() : `refused`))).toEqual(['one', 'two', '']);
    expect(s.stats).toMatchObject({ datagrams: 3, bytes: 6 });
  });

  it('to a closed port: counts the refusals and resends, so every datagram goes out', async () => {
    use();
    const closed: ClosedPort = await closedUdpPort();
    cleanups.push(() => closed.close());
    const s = await sender(closed.port);
    await s.writeSpans(spansOf(['x']));
    for (let round = 0; round < 3; round++) {
      // The kernel's ICMP refusals wait on the socket (not reading: no replies were asked for),
      // and the next sendmmsg meets one: that datagram was not sent and goes again.
      await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
      await s.writeSpans(spansOf(Array.from({ length: 100 }, (_, i) => `r${round}-${i}`)));
    }
    await s.flush();
    expect(s.stats.datagrams).toBe(301);
    expect(s.stats.refused).toBeGreaterThan(0);
  });

  it('refuses a datagram too large, or a span outside the buffer, before sending any', async () => {
    use();
    const r = await receiver();
    const s = await sender(r.port);
    const big = spansOf(['ok', 'z'.repeat(65_508)]);
    expect(await rejection(s.writeSpans(big))).toMatchObject({ code: 'UDPKIT_MESSAGE_TOO_LARGE' });
    const outside = { bytes: Buffer.from('abc'), starts: Uint32Array.of(0), ends: Uint32Array.of(4), count: 1 };
    const err = await rejection(s.writeSpans(outside));
    expect(err).toBeInstanceOf(RangeError);
    expect(err).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT', message: 'datagram 0 is outside the buffer' });
    await s.close();
    expect(await rejection(s.writeSpans(spansOf(['late'])))).toMatchObject({ code: 'UDPKIT_CLOSED' });
    expect(s.stats.datagrams).toBe(0);
  });

  it('writeNow: at once when nothing waits (native), else in order behind what was written', async () => {
    use();
    const r = await receiver();
    const s = await sender(r.port);
    s.write(Buffer.from('queued'));
    s.writeNow(Buffer.from('behind it'));
    await s.flush();
    const before = s.stats.datagrams;
    s.writeNow(Buffer.from('at once'));
    // The native socket has it before writeNow returns; node:dgram always answers later.
    expect(s.inFlight).toBe(env === undefined ? 0 : 1);
    expect(s.stats.datagrams).toBe(env === undefined ? before + 1 : before);
    await s.flush();
    await r.until(3);
    expect(r.got.map(String)).toEqual(['queued', 'behind it', 'at once']);
    expect(s.stats).toMatchObject({ datagrams: 3, bytes: 22 });
  });

  it('writeNow to a closed port: counts the refusals and resends, so every datagram goes out', async () => {
    use();
    const closed: ClosedPort = await closedUdpPort();
    cleanups.push(() => closed.close());
    const s = await sender(closed.port);
    for (let i = 0; i < 50; i++) {
      s.writeNow(Buffer.from(`n${i}`));
      await s.flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(s.stats.datagrams).toBe(50);
    expect(s.stats.refused).toBeGreaterThan(0);
  });

  it('close() called twice at once closes once', async () => {
    use();
    const r = await receiver();
    const s = await sender(r.port);
    s.write(Buffer.from('before close'));
    await Promise.all([s.close(), s.close()]);
    expect(s.state).toBe('closed');
    await r.until(1);
  });

  it('close() while spans are being sent waits for them, then closes', async () => {
    use();
    const r = await receiver();
    const s = await sender(r.port);
    const texts = Array.from({ length: 1000 }, (_, i) => textOf(i));
    const sending = s.writeSpans(spansOf(texts));
    await s.close();
    await sending;
    expect(s.state).toBe('closed');
    expect(s.stats.datagrams).toBe(1000);
    await r.until(1000);
  });
});
