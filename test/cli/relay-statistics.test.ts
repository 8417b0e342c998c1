/**
 * Statistics over 100,000 datagrams through `udpkit relay` on loopback, counted by a Python sink:
 * each measured rate within 3 standard errors of what was asked, and the relay's own counters
 * equal to what the sink saw, datagram for datagram.
 */
import { describe, expect, it } from 'vitest';
import { geFromBurst } from '../../src/protocol/impairment-loss.js';
import { start, waitForStderr, killedAfterEach, type Running } from '../helpers/cli.js';
import { bernoulliSe, geLossSe, geometricMeanSe, lossRuns } from '../helpers/loss-stats.js';
import { seqSink, sendNumbered, type SinkDatagram } from '../helpers/seq-traffic.js';
import { udpDrops } from '../helpers/udp-drops.js';
import { udpUnread } from '../helpers/udp-queues.js';
import { until } from '../helpers/until.js';

const { track } = killedAfterEach();
const N = 100_000;

interface Counts {
  received: number;
  forwarded: number;
  dropped: number;
  duplicated: number;
  corrupted: number;
  rateLimited: number;
  tailDropped: number;
  queueFull: number;
  tooBig: number;
  failed: number;
}

/** Sends N numbered datagrams through a relay with `args` to the sink; returns what each side counted. */
async function run(args: string[]): Promise<{ up: Counts; kernelDropped: number; got: SinkDatagram[]; sinkDrops: number }> {
  const sink = await seqSink();
  try {
    const r = track(start(['relay', '--port', '0', '--bind', '127.0.0.1', '--to', `127.0.0.1:${sink.port}`, '--json', '--up-only', ...args], { timeoutMs: 170_000 }));
    const port = Number((await waitForStderr(r, /listening on .*?:(\d+)\/udp/))[1]);
    await sendNumbered(port, N, [sink.port]);
    const stats = await stop(r);
    await until(() => udpUnread(sink.port) === 0, 30_000, 'the sink reads everything');
    const sinkDrops = udpDrops(sink.port);
    return { up: stats.up, kernelDropped: stats.kernelDropped, got: await sink.stop(), sinkDrops };
  } finally {
    sink.child.kill();
  }
}

async function stop(r: Running): Promise<{ up: Counts; kernelDropped: number }> {
  r.child.kill('SIGINT');
  const done = await r.done;
  expect(done.code).toBe(0);
  return JSON.parse(done.stdout) as never;
}

/** How often each number arrived, and how many arrived corrupted (a duplicate shares its original's bytes). */
function tally(got: readonly SinkDatagram[]): { copies: Uint8Array; corrupted: Set<number> } {
  const copies = new Uint8Array(N);
  const corrupted = new Set<number>();
  for (const d of got) {
    expect(d.seq).toBeGreaterThanOrEqual(0);
    expect(d.seq).toBeLessThan(N);
    copies[d.seq] = (copies[d.seq] as number) + 1;
    if (d.corrupted) corrupted.add(d.seq);
  }
  return { copies, corrupted };
}

describe('udpkit relay statistics over 100,000 datagrams', () => {
  it('--loss 10% --loss-burst 4 --dup 5% --corrupt 2%: loss, mean burst, duplicate and corruption rates within 3 standard errors; the counts agree', async () => {
    const { up, kernelDropped, got, sinkDrops } = await run(['--loss', '10%', '--loss-burst', '4', '--dup', '5%', '--corrupt', '2%', '--seed', '7']);
    // Paced: nothing lost for want of a buffer, so every loss is the relay's.
    expect(kernelDropped).toBe(0);
    expect(sinkDrops).toBe(0);
    const { copies, corrupted } = tally(got);
    const { lost, bursts } = lossRuns((i) => copies[i] === 0, N);
    const delivered = N - lost;
    const doubled = copies.filter((c) => c === 2).length;
    expect(copies.every((c) => c <= 2)).toBe(true);

    // What each side counted: sent = shown + dropped by the relay + kernel drops (none).
    expect(up).toMatchObject({ received: N, forwarded: delivered, dropped: lost, duplicated: doubled, corrupted: corrupted.size, rateLimited: 0, tailDropped: 0, queueFull: 0, tooBig: 0, failed: 0 });
    expect(got.length).toBe(delivered + doubled);
    expect(delivered + lost + kernelDropped + sinkDrops).toBe(N);

    const model = geFromBurst(0.1, 4) as { p: number; r: number; oneMinusH: number; oneMinusK: number };
    expect(Math.abs(lost / N - 0.1)).toBeLessThan(3 * geLossSe(model, N));
    const meanBurst = bursts.reduce((a, b) => a + b, 0) / bursts.length;
    expect(Math.abs(meanBurst - 4)).toBeLessThan(3 * geometricMeanSe(0.25, bursts.length));
    expect(Math.abs(doubled / delivered - 0.05)).toBeLessThan(3 * bernoulliSe(0.05, delivered));
    expect(Math.abs(corrupted.size / delivered - 0.02)).toBeLessThan(3 * bernoulliSe(0.02, delivered));
  }, 180_000);

  it('--loss 3% (Bernoulli): the loss rate is within 3 standard errors, bursts are short (mean 1/(1-p)), and the counts agree', async () => {
    const { up, kernelDropped, got, sinkDrops } = await run(['--loss', '3%', '--seed', '8']);
    expect(kernelDropped).toBe(0);
    expect(sinkDrops).toBe(0);
    const { copies } = tally(got);
    const { lost, bursts } = lossRuns((i) => copies[i] === 0, N);
    expect(up).toMatchObject({ received: N, forwarded: N - lost, dropped: lost, duplicated: 0, corrupted: 0 });
    expect(got.length + lost).toBe(N);
    expect(Math.abs(lost / N - 0.03)).toBeLessThan(3 * bernoulliSe(0.03, N));
    // Independent losses: runs are geometric with mean 1/(1 - 0.03).
    const meanBurst = bursts.reduce((a, b) => a + b, 0) / bursts.length;
    expect(Math.abs(meanBurst - 1 / 0.97)).toBeLessThan(3 * geometricMeanSe(0.97, bursts.length));
  }, 180_000);
});
