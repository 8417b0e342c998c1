/**
 * `udpkit bench` streams, intervals and pacing, through the built binary: -P counted at both
 * ends, --json-stream lines that add up to the report, a paced rate held on a busy machine, and
 * the rate flags' usage errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BenchInterval } from '../../src/protocol/bench-intervals.js';
import type { BenchReport } from '../../src/protocol/bench-report.js';
import type { BenchSessionSummary } from '../../src/protocol/bench-sessions.js';
import { expectAccounted } from '../helpers/bench-accounted.js';
import { runCli, start, waitForLines, waitForStderr, type Running } from '../helpers/cli.js';

const children: Running[] = [];
afterEach(() => {
  for (const r of children.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
});


describe('udpkit bench -P', () => {
  it('-P 4 sends four streams from four ports; the server counts each as the client does', async () => {
    const server = start(['bench', '--server', '--port', '0', '--bind', '127.0.0.1', '--json'], { timeoutMs: 30_000 });
    children.push(server);
    const port = Number((await waitForStderr(server, /listening on 127\.0\.0\.1:(\d+)\/udp/))[1]);
    const client = await runCli(['bench', `127.0.0.1:${port}`, '-P', '4', '-t', '0.5', '--rate', '2000', '--json'], { timeoutMs: 30_000 });
    expect({ code: client.code, stderr: client.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(client.stdout) as BenchReport;
    const sessions = (await waitForLines(server, 4, 10_000)).map((l) => JSON.parse(l) as BenchSessionSummary);
    server.child.kill('SIGINT');
    expect((await server.done).code).toBe(0);

    expect(report.streams).toHaveLength(4);
    expectAccounted(report);
    const streams = report.streams!;
    expect(report.session).toBe(streams.map((s) => s.session).join(','));
    expect(report.sent).toBe(streams.reduce((a, s) => a + s.sent, 0));
    expect(report.received).toBe(streams.reduce((a, s) => a + s.received, 0));
    // Each stream came from its own source port, and the server's count is the client's.
    expect(new Set(sessions.map((s) => s.peer.port)).size).toBe(4);
    for (const s of streams) {
      expectAccounted(s);
      expect(s.sent).toBeGreaterThan(200);
      const served = sessions.find((x) => x.id === s.session);
      expect(served).toMatchObject({ ended: 'finished', sent: s.sent, received: s.received, peer: { address: '127.0.0.1' } });
    }
  });

  it('-P 3 -i prints a line per stream and a [SUM] line per interval, and a line per stream at the end', async () => {
    const r = await runCli(['bench', '--loopback', '-P', '3', '-t', '0.6', '--rate', '1000', '-i', '0.2'], { timeoutMs: 30_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    const sums = lines.filter((l) => l.startsWith('[SUM]'));
    // At least the last interval and the final total (earlier intervals may run on into the next on a busy machine).
    expect(sums.length).toBeGreaterThanOrEqual(2);
    for (const k of [1, 2, 3]) expect(lines.some((l) => l.startsWith(`[  ${k}]`) && /-[\d.]+ +s  sent \d+/.test(l))).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/^\[SUM\] sent \d+, received \d+, lost \d+ \([\d.]+%\), [\d.]+ Mbit\/s, jitter [\d.]+ ms, gap CV [\d.]+$/));
    expect(lines[0]).toMatch(/^\[  1\] +0\.00-/);
  });
});

describe('udpkit bench --json-stream', () => {
  it('prints one JSON object per interval, then the report, and the intervals add up to it', async () => {
    const r = await runCli(['bench', '--loopback', '-t', '1', '--rate', '5000', '-i', '0.25', '--json-stream'], { timeoutMs: 30_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const objects = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; interval?: BenchInterval } & BenchReport);
    const report = objects.pop()!;
    expect(report.type).toBe('report');
    expect(objects.length).toBeGreaterThanOrEqual(2);
    expect(objects.every((o) => o.type === 'interval')).toBe(true);
    const intervals = objects.map((o) => o.interval!);
    // Back to back from 0 to the end of the test.
    expect(intervals[0]!.startS).toBe(0);
    intervals.slice(1).forEach((i, k) => expect(i.startS).toBe(intervals[k]!.endS));
    expect(intervals.at(-1)!.endS).toBeCloseTo(report.seconds, 9);
    const sum = (key: 'sent' | 'received' | 'lost'): number => intervals.reduce((a, i) => a + i[key], 0);
    expect([sum('sent'), sum('received'), sum('lost')]).toEqual([report.sent, report.received, report.lost]);
    expectAccounted(report);
    // The report keeps the same series, for charts.
    expect(report.intervals).toEqual(intervals);
    expect(report.delay.delayVarMeanMs).not.toBeNull();
    expect(report.delay.jitterMinMs).toBeLessThanOrEqual(report.delay.jitterMaxMs);
  });
});

describe('udpkit bench pacing', () => {
  it('--rate 2k for 2 s: achieves the rate within 10% (never above it) with the gaps it reports', async () => {
    const r = await runCli(['bench', '--loopback', '-t', '2', '--rate', '2k', '--json'], { timeoutMs: 30_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(r.stdout) as BenchReport;
    expect(report).toMatchObject({ rate: 2000, burst: 1 });
    // A stall is caught up at twice the rate (up to 100 ms of backlog): the rate holds on a busy machine.
    expect(report.sent).toBeLessThanOrEqual(4001);
    expect(report.sentPerSecond).toBeGreaterThan(1800);
    expect(report.gaps.meanUs).toBeGreaterThan(450);
    expect(report.gaps.meanUs).toBeLessThan(560);
    expect(report.gaps.cv).toBeGreaterThanOrEqual(0);
    expectAccounted(report);
  });

  it('--bitrate sets the rate from the datagram length; --burst is reported', async () => {
    const r = await runCli(['bench', '--loopback', '-t', '0.3', '--bitrate', '1M', '-l', '125', '--burst', '4', '--json'], { timeoutMs: 30_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(r.stdout) as BenchReport;
    expect(report).toMatchObject({ rate: 1000, burst: 4, length: 125 });
    expect(report.sent).toBeLessThanOrEqual(304);
  });

  it.each([
    [['--rate', '1k', '--bitrate', '1M'], /^udpkit: option '--rate <pps>' cannot be used with option '--bitrate <bits>'\n/],
    [['--rate', '20x'], /^udpkit: --rate must be a rate from 0 to 4294967295 per second \(k, M, G for thousands, millions, billions\), got "20x"\n/],
    [['-P', '129'], /^udpkit: -P\/--parallel must be a whole number from 1 to 128, got "129"\n/],
    [['--bitrate', '100', '-l', '64'], /^udpkit: --bitrate 100 is less than one 64-byte datagram a second\n/],
    [['--json', '--json-stream'], /^udpkit: option '--json' cannot be used with option '--json-stream'\n/],
  ])('%j is a usage error: exit 2, one line (and the help hint)', async (flags, message) => {
    const r = await runCli(['bench', '--loopback', '-t', '0.1', ...flags]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n').slice(1)).toEqual(["hint: see 'udpkit bench --help'", '']);
  });

  it('--server refuses the client-only flags', async () => {
    const r = await runCli(['bench', '--server', '--port', '0', '-P', '2']);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: "udpkit: -P/--parallel is for a client\nhint: see 'udpkit bench --help'\n" });
  });
});
