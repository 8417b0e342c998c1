/** `udpkit bench` over real loopback sockets: the built binary, and the library in-process. */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeBenchFrame } from '../../src/protocol/bench-frames.js';
import type { BenchReport } from '../../src/protocol/bench-report.js';
import type { BenchSessionSummary } from '../../src/protocol/bench-sessions.js';
import { benchClient } from '../../src/transport/bench-client.js';
import { benchServer, type BenchServer } from '../../src/transport/bench-server.js';
import { runCli, start, waitForStderr, type Running } from '../helpers/cli.js';
import { rejection } from '../helpers/thrown.js';

const children: Running[] = [];
const servers: BenchServer[] = [];
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  for (const r of children.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const s of sockets.splice(0)) s.close();
});

async function silentPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s.address().port;
}

describe('udpkit bench (built binary)', () => {
  // The pacing itself is checked exactly on a simulated clock (test/unit/bench-pacer.test.ts);
  // here a busy machine may starve the sender, so only the ceiling is exact.
  it('--loopback --rate 20000 for 1 s: never over the rate, and every loss is a kernel drop', async () => {
    const r = await runCli(['bench', '--loopback', '-t', '1', '--rate', '20000', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as BenchReport;
    expect(report.sent).toBeGreaterThan(1000);
    expect(report.sent).toBeLessThanOrEqual(21_000);
    expect(report.received + report.lost).toBe(report.sent);
    expect(report.late).toBe(0);
    expect(report.lost === 0 || report.lost === report.kernelDrops).toBe(true);
    expect(report).toMatchObject({ length: 64, rate: 20_000, duplicates: 0, stopped: false });
    expect(report.jitterMs).toBeGreaterThanOrEqual(0);
  });

  it('a client against a separate `bench --server --port 0 --once`: both sides agree', async () => {
    const server = start(['bench', '--server', '--port', '0', '--once', '--json']);
    children.push(server);
    const port = Number((await waitForStderr(server, /listening on .*?:(\d+)\/udp/))[1]);
    const client = await runCli(['bench', `127.0.0.1:${port}`, '-t', '0.5', '--rate', '5000', '-l', '200', '--json']);
    const served = await server.done;
    expect({ code: client.code, stderr: client.stderr, server: served.stderr }).toMatchObject({ code: 0 });
    const report = JSON.parse(client.stdout) as BenchReport;
    expect(served.code).toBe(0);
    const lines = served.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const session = JSON.parse(lines[0]!) as BenchSessionSummary;
    expect(session).toMatchObject({ id: report.session, ended: 'finished', length: 200, rate: 5000, durationMs: 500 });
    expect(session.sent).toBe(report.sent);
    expect(session.received).toBe(report.received);
    expect(report.sent).toBeGreaterThan(2000);
    expect(report.sentMbps).toBeCloseTo((report.sentPerSecond * 200 * 8) / 1e6, 6);
  });

  it('the server prints one readable line per finished session', async () => {
    const server = start(['bench', '--server', '--port', '0', '--bind', '127.0.0.1', '--once']);
    children.push(server);
    const port = Number((await waitForStderr(server, /^listening on 127\.0\.0\.1:(\d+)\/udp; bench server, one session$/m))[1]);
    expect((await runCli(['bench', `127.0.0.1:${port}`, '-t', '0.2', '--rate', '1000'])).code).toBe(0);
    const served = await server.done;
    expect(served.code).toBe(0);
    expect(served.stdout).toMatch(
      /^session [0-9a-f]{16} from 127\.0\.0\.1:\d+ finished: 64-byte datagrams over 0\.\d\d s, sent (\d+), received \1, lost 0 \(0\.000%\), 0 duplicates, 0 out of order, jitter [\d.]+ ms, kernel drops \d+\n$/,
    );
  });

  it('--rtt measures sequential echoes: p50 > 0 and p99 >= p50', async () => {
    const r = await runCli(['bench', '--loopback', '-t', '0.2', '--rtt', '--json']);
    expect(r.code).toBe(0);
    const { rtt } = JSON.parse(r.stdout) as BenchReport;
    expect(rtt!.echoes).toBeGreaterThan(0);
    expect(rtt!.p50Us).toBeGreaterThan(0);
    expect(rtt!.p90Us).toBeGreaterThanOrEqual(rtt!.p50Us);
    expect(rtt!.p99Us).toBeGreaterThanOrEqual(rtt!.p90Us);
    expect(rtt!.maxUs).toBeGreaterThanOrEqual(rtt!.p99Us);
  });

  it('prints a readable report without --json', async () => {
    const r = await runCli(['bench', '--loopback', '-t', '0.2', '--rate', '1000']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^bench to 127\.0\.0\.1:\d+\/udp, session [0-9a-f]{16}: 64-byte datagrams for 0\.\d\d s, 1000 datagrams\/s\n/);
    expect(r.stdout).toMatch(/^sent {8}\d+ datagrams, \d+\/s, [\d.]+ Mbit\/s$/m);
    expect(r.stdout).toMatch(/^loss {8}\d+ \([\d.]+%\)/m);
    expect(r.stdout).toMatch(/^jitter {6}[\d.]+ ms; one-way delay variation mean [\d.]+ ms, max [\d.]+ ms$/m);
    expect(r.stdout).toMatch(/^pacing {6}burst 1; gaps between sends mean [\d.]+ µs, CV [\d.]+$/m);
    expect(r.stdout).toMatch(/^loss split {2}path \d+, receiving socket \d+; reordered \d+, duplicated \d+$/m);
    // Piped stderr: no live lines.
    expect(r.stderr).toBe('');
  });

  it('exits 1 with one line when no bench server answers', async () => {
    const port = await silentPort();
    const r = await runCli(['bench', `127.0.0.1:${port}`, '-t', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`udpkit: no answer from bench server at 127.0.0.1:${port}/udp\n`);
  });

  it.each([
    [['--loopback', '-l', '10'], /^udpkit: -l\/--length must be a whole number from 28 to 65535, got "10"$/],
    [['--loopback', '-l', '65530'], /^udpkit: message is 65530 bytes; one UDP datagram over IPv4 carries at most 65507$/],
    [['--loopback', '--rate', 'fast'], /^udpkit: --rate must be a rate from 0 to 4294967295 per second/],
    [['--loopback', '-t', '0'], /^udpkit: -t\/--time must be a number of seconds/],
    [[], /^udpkit: bench needs HOST\[:PORT\] to test against, --server, or --loopback$/],
    [['--server', '-l', '100'], /^udpkit: -l\/--length is for a client$/],
    [['127.0.0.1', '--once'], /^udpkit: --once is for --server$/],
    [['--loopback', '-p', '5201'], /^udpkit: -p\/--port does not apply to --loopback, which picks a free port itself$/],
    [['--server', 'example.com'], /^udpkit: --server takes no HOST$/],
    [['--server', '--loopback'], /^udpkit: option '--server' cannot be used with option '--loopback'$/],
  ])('usage error %j exits 2', async (args, line) => {
    const r = await runCli(['bench', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(line);
    expect(r.stdout).toBe('');
  });
});

describe('benchServer() and benchClient()', () => {
  it('report the same session from both ends', async () => {
    const server = await benchServer({ port: 0, address: '127.0.0.1' });
    servers.push(server);
    const summary = new Promise<BenchSessionSummary>((resolve) => server.once('session', resolve));
    const report = await benchClient({ host: '127.0.0.1', port: server.address().port, durationMs: 300, rate: 2000, length: 100 });
    const s = await summary;
    expect(s).toMatchObject({ id: report.session, sent: report.sent, received: report.received, lost: report.lost, ended: 'finished' });
    expect(report.sent).toBeGreaterThanOrEqual(550);
    expect(report.sent).toBeLessThanOrEqual(650);
    expect(report.jitterMs).toBeCloseTo(s.jitterUs / 1000, 5);
  });

  it('rejects with UDPKIT_SERVER_BUSY when every session slot is taken', async () => {
    const server = await benchServer({ port: 0, address: '127.0.0.1', maxSessions: 1 });
    servers.push(server);
    const port = server.address().port;
    const squatter = dgram.createSocket('udp4');
    sockets.push(squatter);
    squatter.send(encodeBenchFrame({ kind: 'start', session: 1n, length: 64, durationMs: 1000, rate: 1 }), port, '127.0.0.1');
    await once(squatter, 'message');
    const err = (await rejection(benchClient({ host: '127.0.0.1', port, durationMs: 100 }))) as { code: string; message: string };
    expect(err.code).toBe('UDPKIT_SERVER_BUSY');
    expect(err.message).toBe(`bench server at 127.0.0.1:${port}/udp is busy; try again later`);
  });

  it('refuses bad options at once with UDPKIT_INVALID_ARGUMENT', async () => {
    const err = (await rejection(benchClient({ host: '127.0.0.1', length: 27 }))) as { code: string };
    expect(err.code).toBe('UDPKIT_INVALID_ARGUMENT');
  });
});
