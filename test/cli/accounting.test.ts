/**
 * Nothing a listener reads is swallowed: each datagram is shown, or counted in the summary with
 * a reason, including frames that only look like udpkit frames, --ack messages it will never
 * deliver, and whatever arrives after it stops (rest of a batch, during --linger, still queued).
 * Datagrams are sent while the listener is stopped (SIGSTOP), so they all wait in its socket and
 * the outcome does not depend on timing.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { encodeAck, encodeData } from '../../src/protocol/reliable-frames.js';
import { waitForLines, killedAfterEach } from '../helpers/cli.js';
import { parseSummary, sendFrom, whileStopped } from '../helpers/listen-accounting.js';

const { track, listener } = killedAfterEach();
const id = (byte: number): Buffer => Buffer.alloc(8, byte);
const lastLine = (stderr: string): string | undefined => stderr.split('\n').at(-2);

describe('listen accounts for every datagram', () => {
  it('shows what only looks like a frame, and counts --ack messages it will not deliver, each with its reason', async () => {
    const l = await listener(['--linger', '0']);
    const maxSeq = encodeData(id(0xaa), 0, Buffer.from('max'));
    maxSeq.writeUInt32BE(0xffffffff, 12);
    const version2 = encodeData(id(0xee), 0, Buffer.from('v2'));
    version2[2] = 2;
    const datagrams = [
      Buffer.from('UK\x01D\x01\x02\x03'), // a DATA header, too short for a DATA frame: plain
      maxSeq, // seq 0xFFFFFFFF is never valid: plain
      encodeData(id(0xbb), 3, Buffer.from('held')), // held for a gap that never fills
      encodeData(id(0xcc), 0, Buffer.from('hello')), // delivered
      encodeData(id(0xcc), 0, Buffer.from('hello')), // its duplicate
      encodeData(id(0xdd), 1000, Buffer.from('far')), // beyond the window of a new session
      version2, // an unknown version: plain
      encodeAck(id(0xcc), 1, []), // an ACK sent to a listener: plain
      Buffer.from('bye'),
      Buffer.from('late'), // after the stop word
    ];
    const port = await whileStopped(l.child, () => sendFrom(l.port, datagrams));
    const done = await l.done;
    expect(done.code).toBe(0);
    const from = ` from PORT ${port} on 127.0.0.1`;
    expect(done.stdout).toBe(
      [
        'received message: UK\\x01D\\x01\\x02\\x03',
        'received message: UK\\x01D\\xaa\\xaa\\xaa\\xaa\\xaa\\xaa\\xaa\\xaa\\xff\\xff\\xff\\xffmax',
        'received message: hello',
        'received message: UK\\x02D\\xee\\xee\\xee\\xee\\xee\\xee\\xee\\xee\\x00\\x00\\x00\\x00v2',
        'received message: UK\\x01A\\xcc\\xcc\\xcc\\xcc\\xcc\\xcc\\xcc\\xcc\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00',
        'received message: bye',
      ].map((line) => line + from + '\n').join(''),
    );
    const bytes = 7 + 19 + 5 + 18 + 24 + 3;
    expect(lastLine(done.stderr)).toBe(`received 6 datagrams, ${bytes} bytes; kernel dropped 0; refused 4 (duplicate 1, window 1, gap 1, after stop 1)`);
  });

  it('-n stops partway through what arrived at once: the rest is counted as after stop', async () => {
    const l = await listener(['-n', '2']);
    await whileStopped(l.child, () => sendFrom(l.port, ['a', 'b', 'c', 'd'].map((t) => Buffer.from(t))));
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^received message: a from PORT \d+ on 127\.0\.0\.1\nreceived message: b from PORT \d+ on 127\.0\.0\.1\n$/);
    expect(lastLine(done.stderr)).toBe('received 2 datagrams, 2 bytes; kernel dropped 0; refused 2 (after stop 2)');
  });

  it('reads and counts what is still queued in its socket when it stops (2,000 datagrams after the bye)', async () => {
    const l = await listener([]);
    const after = Array.from({ length: 2000 }, (_, i) => Buffer.from(`after ${i}`));
    await whileStopped(l.child, () => sendFrom(l.port, [Buffer.from('bye'), ...after]));
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^received message: bye from PORT \d+ on 127\.0\.0\.1\n$/);
    const s = parseSummary(done.stderr);
    expect(s).toEqual({ received: 1, bytes: 3, kernelDropped: 0, refused: 2000, refusedBy: { 'after stop': 2000 }, sessionsEvicted: 0 });
  });

  it('while lingering after a stop: acknowledges a repeated --ack message again, counts everything that arrives', async () => {
    const l = await listener(['--linger', '1']);
    const s = dgram.createSocket('udp4');
    const acks: Buffer[] = [];
    s.on('message', (m) => acks.push(m));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const send = (d: Buffer): Promise<void> => new Promise((r, j) => s.send(d, l.port, '127.0.0.1', (e) => (e ? j(e) : r())));
    const ackCount = (n: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const t0 = Date.now();
        const check = (): void => (acks.length >= n ? resolve() : Date.now() - t0 > 10_000 ? reject(new Error(`${acks.length} of ${n} ACKs`)) : void setTimeout(check, 5));
        check();
      });
    try {
      await send(encodeData(id(1), 0, Buffer.from('one')));
      await ackCount(1);
      await send(Buffer.from('bye'));
      await waitForLines(l, 2);
      await whileStopped(l.child, async () => {
        await send(encodeData(id(1), 0, Buffer.from('one'))); // its ACK was "lost": acknowledged again
        await send(encodeData(id(1), 1, Buffer.from('two'))); // new: not accepted any more
        await send(encodeData(id(2), 0, Buffer.from('new'))); // a new session: not started
        await send(Buffer.from('plain'));
      });
      await ackCount(2);
      expect(acks.map((a) => a.toString('hex'))).toEqual([encodeAck(id(1), 1, []).toString('hex'), encodeAck(id(1), 1, []).toString('hex')]);
      const done = await l.done;
      expect(done.code).toBe(0);
      expect(done.stdout).toMatch(/^received message: one from PORT \d+ on 127\.0\.0\.1\nreceived message: bye from PORT \d+ on 127\.0\.0\.1\n$/);
      expect(lastLine(done.stderr)).toBe('received 2 datagrams, 6 bytes; kernel dropped 0; refused 4 (duplicate 1, after stop 3)');
    } finally {
      s.close();
    }
  });
});
