/**
 * `udpkit bench --reverse` and `--bidir` through the built binary against a separate server:
 * the data moves in the stated direction, counted at both ends (the server's session line says
 * what it received and what it sent; the client's report what it sent and received).
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

async function server(): Promise<{ running: Running; port: number }> {
  const running = start(['bench', '--server', '--port', '0', '--bind', '127.0.0.1', '--json'], { timeoutMs: 30_000 });
  children.push(running);
  const port = Number((await waitForStderr(running, /listening on 127\.0\.0\.1:(\d+)\/udp/))[1]);
  return { running, port };
}

async function sessions(running: Running, n: number): Promise<BenchSessionSummary[]> {
  const lines = await waitForLines(running, n, 10_000);
  running.child.kill('SIGINT');
  expect((await running.done).code).toBe(0);
  return lines.map((l) => JSON.parse(l) as BenchSessionSummary);
}


describe('udpkit bench --reverse / --bidir', () => {
  it('--reverse: the server sends, the client counts; the client sends no test traffic', async () => {
    const s = await server();
    const r = await runCli(['bench', `127.0.0.1:${s.port}`, '--reverse', '-t', '0.5', '--rate', '2000', '--json'], { timeoutMs: 30_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(r.stdout) as BenchReport;
    const [served] = await sessions(s.running, 1);
    expect(served).toMatchObject({ id: report.session, direction: 'reverse', ended: 'finished', sent: 0, received: 0 });
    expect(report.direction).toBe('reverse');
    expect(report.sent).toBe(served!.sentToClient);
    expect(report.sent).toBeGreaterThan(500);
    expect(report.sent).toBeLessThanOrEqual(1001);
    expectAccounted(report);
    expect(report.received).toBeGreaterThan(0.9 * report.sent);
    // This client's socket: its own kernel counter, read before GO and after the test.
    expect(report.kernelDrops).toBeGreaterThanOrEqual(0);
    expect(report.loss.socket).toBe(Math.min(report.kernelDrops!, report.lost));
    expect(report.delay.delayVarMeanMs).toBeGreaterThanOrEqual(0);
  });

  it('--reverse -P 4: the server sends four streams at the rate asked, each counted here and there', async () => {
    const s = await server();
    const r = await runCli(['bench', `127.0.0.1:${s.port}`, '--reverse', '-P', '4', '-t', '0.5', '--rate', '1000', '--json'], { timeoutMs: 30_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(r.stdout) as BenchReport;
    const served = await sessions(s.running, 4);
    expect(report.streams).toHaveLength(4);
    expectAccounted(report);
    for (const stream of report.streams!) {
      expectAccounted(stream);
      expect(served.find((x) => x.id === stream.session)).toMatchObject({ direction: 'reverse', received: 0, sentToClient: stream.sent });
      // One loop paces every session of the server: each keeps its rate (a stall is caught up).
      expect(stream.sent).toBeGreaterThan(400);
      expect(stream.sent).toBeLessThanOrEqual(501);
    }
  });

  it('--bidir -P 2: each end sends and each counts the other\'s traffic', async () => {
    const s = await server();
    const r = await runCli(['bench', `127.0.0.1:${s.port}`, '--bidir', '-P', '2', '-t', '0.5', '--rate', '1000', '--json'], { timeoutMs: 30_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(r.stdout) as BenchReport;
    const served = await sessions(s.running, 2);
    expect(report.direction).toBe('forward');
    expect(report.reverse?.direction).toBe('reverse');
    expectAccounted(report);
    expectAccounted(report.reverse!);
    for (const [k, stream] of report.streams!.entries()) {
      const back = report.reverse!.streams![k]!;
      expect(back.session).toBe(stream.session);
      const one = served.find((x) => x.id === stream.session);
      // Client to server: what the client sent, the server received; server to client: what it sent, the client counted.
      expect(one).toMatchObject({ direction: 'bidir', sent: stream.sent, received: stream.received, sentToClient: back.sent });
      expect(stream.sent).toBeGreaterThan(200);
      expect(back.sent).toBeGreaterThan(200);
      expect(back.received).toBeGreaterThan(0.8 * back.sent);
    }
  });

  it('prints the server\'s traffic after the client\'s, and the server says what it sent', async () => {
    const running = start(['bench', '--server', '--port', '0', '--bind', '127.0.0.1', '--once'], { timeoutMs: 30_000 });
    children.push(running);
    const port = Number((await waitForStderr(running, /listening on 127\.0\.0\.1:(\d+)\/udp/))[1]);
    const r = await runCli(['bench', `127.0.0.1:${port}`, '--bidir', '-t', '0.3', '--rate', '500'], { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    const headers = r.stdout.split('\n').filter((l) => l.startsWith('bench '));
    expect(headers).toHaveLength(2);
    expect(headers[0]).toMatch(new RegExp(`^bench to 127\\.0\\.0\\.1:${port}/udp, session [0-9a-f]{16}: 64-byte`));
    expect(headers[1]).toMatch(new RegExp(`^bench from 127\\.0\\.0\\.1:${port}/udp \\(the server sends\\), session [0-9a-f]{16}: 64-byte`));
    expect(r.stdout).toMatch(/^loss {8}\d+ \([\d.]+%\)(; this client's kernel drops: \d+|, of which this client's kernel dropped \d+ \(receive buffer full\))$/m);
    expect(r.stdout.match(/^loss split {2}path \d+, receiving socket \d+; reordered \d+, duplicated \d+$/gm)).toHaveLength(2);
    const served = await running.done;
    expect(served.stdout).toMatch(/, kernel drops \d+; bidir: sent \d+ to the client\n$/);
  });

  it('--bidir --json-stream: intervals of each direction add up to that direction\'s report', async () => {
    const r = await runCli(['bench', '--loopback', '--bidir', '-t', '0.8', '--rate', '2000', '-i', '0.2', '--json-stream'], { timeoutMs: 30_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const objects = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; direction?: string; interval?: BenchInterval } & BenchReport);
    const report = objects.pop()!;
    expect(report.type).toBe('report');
    for (const [direction, counted] of [['forward', report], ['reverse', report.reverse!]] as const) {
      const intervals = objects.filter((o) => o.direction === direction).map((o) => o.interval!);
      expect(intervals.length).toBeGreaterThanOrEqual(2);
      expect(intervals[0]!.startS).toBe(0);
      intervals.slice(1).forEach((i, k) => expect(i.startS).toBe(intervals[k]!.endS));
      const sum = (key: 'sent' | 'received' | 'lost'): number => intervals.reduce((a, i) => a + i[key], 0);
      expect([sum('sent'), sum('received'), sum('lost')]).toEqual([counted.sent, counted.received, counted.lost]);
      expect(counted.intervals).toEqual(intervals);
      expectAccounted(counted);
    }
    expect(objects.every((o) => o.type === 'interval')).toBe(true);
  });

  it('--reverse without the native addon: the node:dgram socket counts and reads its drops too', async () => {
    const r = await runCli(['bench', '--loopback', '--reverse', '-t', '0.4', '--rate', '2000', '--json'], { timeoutMs: 30_000, env: { UDPKIT_NATIVE: '0' } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(r.stdout) as BenchReport;
    expect(report.direction).toBe('reverse');
    expect(report.sent).toBeGreaterThan(400);
    expect(report.kernelDrops).toBeGreaterThanOrEqual(0);
    expectAccounted(report);
  });

  it('--reverse -i prints the server\'s traffic per interval as [R  1]', async () => {
    const r = await runCli(['bench', '--loopback', '--reverse', '-t', '0.6', '--rate', '1000', '-i', '0.2'], { timeoutMs: 30_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^\[R {2}1\] {5}0\.00-0\.[\d]{2} s {2}sent \d+, received \d+, lost -?\d+/);
    expect(lines.filter((l) => l.startsWith('[  1]'))).toEqual([]);
  });
});
