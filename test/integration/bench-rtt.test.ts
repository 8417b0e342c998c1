/**
 * `udpkit bench --rtt` (benchClient's round trips) over real loopback sockets, through a relay
 * written here that loses or delays chosen echo replies: a lost echo is given up on and counted,
 * a reply that comes after its echo was given up on is not taken for the next one.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { BenchOp } from '../../src/protocol/bench-frames.js';
import { benchClient } from '../../src/transport/bench-client.js';
import { benchServer, type BenchServer } from '../../src/transport/bench-server.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** The seq of an echo frame with op `op` (at 4; seq's low half at 20), or -1. */
function echoSeq(m: Buffer, op: number): number {
  return m.length >= 32 && m[3] === 0x43 && m[4] === op ? m.readUInt32BE(20) : -1;
}

/**
 * Forwards between one client and the server; `fate(seq)` says what happens to the echo reply
 * for `seq`: 'pass', 'drop', or a delay in ms. Counts what it did, and the echo requests that
 * came before the client had the reply to the one before (round trips are sequential: only
 * after a reply held back may that happen).
 */
async function relay(serverPort: number, fate: (seq: number) => 'pass' | 'drop' | number) {
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  front.bind(0, '127.0.0.1');
  back.bind(0, '127.0.0.1');
  await Promise.all([once(front, 'listening'), once(back, 'listening')]);
  const timers = new Set<NodeJS.Timeout>();
  closers.push(async () => {
    for (const t of timers) clearTimeout(t);
    await Promise.all([new Promise<void>((r) => front.close(() => r())), new Promise<void>((r) => back.close(() => r()))]);
  });
  const counts = { dropped: 0, delayed: 0, early: 0 };
  const delivered = new Set<number>();
  let client: dgram.RemoteInfo | undefined;
  front.on('message', (m, from) => {
    client = from;
    const seq = echoSeq(m, BenchOp.ECHO_REQUEST);
    if (seq > 0 && fate(seq - 1) === 'pass' && !delivered.has(seq - 1)) counts.early++;
    back.send(m, serverPort, '127.0.0.1');
  });
  back.on('message', (m) => {
    const seq = echoSeq(m, BenchOp.ECHO_REPLY);
    const what = seq < 0 ? 'pass' : fate(seq);
    if (what === 'drop') return void counts.dropped++;
    if (what === 'pass') {
      if (seq >= 0) delivered.add(seq);
      return void front.send(m, client!.port, client!.address);
    }
    counts.delayed++;
    const t = setTimeout(() => {
      timers.delete(t);
      front.send(m, client!.port, client!.address);
    }, what);
    timers.add(t);
  });
  return { port: front.address().port, counts };
}

async function server(): Promise<BenchServer> {
  const s = await benchServer({ address: '127.0.0.1', port: 0 });
  closers.push(() => s.close());
  return s;
}

describe('bench round trips', () => {
  it('counts a lost echo as lost, after its timeout, and goes on', async () => {
    const s = await server();
    const r = await relay(s.address().port, (seq) => (seq === 3 || seq === 11 ? 'drop' : 'pass'));
    const started = Date.now();
    const report = await benchClient({ host: '127.0.0.1', port: r.port, durationMs: 50, rate: 1000, rtt: 20 });
    expect(r.counts).toEqual({ dropped: 2, delayed: 0, early: 0 });
    expect(report.rtt).toMatchObject({ echoes: 20, lost: 2 });
    // Each loss costs the 250 ms timeout, and a watch that looks every 50 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(report.rtt!.maxUs).toBeLessThan(250_000);
  });

  it('does not take a late reply for the echo after it', async () => {
    const s = await server();
    // Seq 5's reply comes 400 ms late: after seq 5 was given up on (250 ms), while later echoes
    // go back and forth. Taken for the echo then out, it would start the next echo before that
    // one's reply came, and every echo after it too.
    const r = await relay(s.address().port, (seq) => (seq === 5 ? 400 : 'pass'));
    const started = Date.now();
    const report = await benchClient({ host: '127.0.0.1', port: r.port, durationMs: 50, rate: 1000, rtt: 1_000_000 });
    expect(Date.now() - started).toBeGreaterThan(450);
    expect(r.counts).toEqual({ dropped: 0, delayed: 1, early: 0 });
    expect(report.rtt!.lost).toBe(1);
    expect(report.rtt!.echoes).toBeGreaterThan(100);
    // Through this relay a round trip takes four hops of JavaScript: never under 5 µs.
    expect(report.rtt!.minUs).toBeGreaterThan(5);
    expect(report.rtt!.maxUs).toBeLessThan(250_000);
  });

  it('measures round trips of every length, in fractions of a microsecond', async () => {
    const s = await server();
    for (const length of [32, 1200]) {
      const report = await benchClient({ host: '127.0.0.1', port: s.address().port, durationMs: 20, rate: 1000, rtt: 200, length });
      expect(report.rtt).toMatchObject({ echoes: 200, lost: 0 });
      expect(report.rtt!.minUs).toBeGreaterThan(0);
      expect(report.rtt!.p50Us).toBeGreaterThanOrEqual(report.rtt!.minUs);
    }
  });
});
