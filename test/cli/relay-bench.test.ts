/**
 * `udpkit bench` and iperf3 through `udpkit relay --loss`: bench's path loss equals the relay's
 * drops of bench's data datagrams exactly (read from the relay's --trace, as bench's control
 * frames cross the relay too), and iperf3, through the same relay with the same seed, reports a
 * loss within 1 percentage point of bench's.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/protocol/impairment-decide.js';
import { validateImpairment } from '../../src/protocol/impairment-options.js';
import { seededRandom } from '../../src/protocol/seeded-random.js';
import { runCli, start, waitForStderr, killedAfterEach, type Running } from '../helpers/cli.js';
import { asRunning } from '../helpers/child-running.js';
import { until } from '../helpers/until.js';

const { track } = killedAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'udpkit-relay-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SEED = 3;
const LOSS = ['--loss', '5%', '--seed', String(SEED), '--up-only'];
/** Datagram length for both tools: bench's -l, iperf3's -l (UDP payload bytes). */
const LENGTH = 200;

interface RelayJson {
  up: { received: number; forwarded: number; dropped: number };
  kernelDropped: number;
}

async function startRelay(to: string, extra: string[]): Promise<Running & { port: number }> {
  const r = track(start(['relay', '--port', '0', '--bind', '127.0.0.1', '--to', to, '--json', ...LOSS, ...extra], { timeoutMs: 60_000 }));
  const port = Number((await waitForStderr(r, /listening on .*?:(\d+)\/udp/))[1]);
  return Object.assign(r, { port });
}

async function stopRelay(r: Running): Promise<RelayJson> {
  r.child.kill('SIGINT');
  const done = await r.done;
  expect(done.code).toBe(0);
  return JSON.parse(done.stdout) as RelayJson;
}

describe('bench and iperf3 through udpkit relay --loss', () => {
  it('bench\'s path loss equals the relay\'s drops of its data; iperf3 with the same seed is within 1 percentage point', async () => {
    // iperf3 has one go at its first datagram (its UDP "connect"): with this seed the relay keeps it.
    expect(decide(validateImpairment({ loss: 0.05 }), seededRandom(SEED)).lost).toBe(false);

    // bench, as on main, through the relay; the trace tells its data datagrams (LENGTH bytes) apart.
    const server = track(start(['bench', '--server', '-p', '0', '--bind', '127.0.0.1', '--once', '--json'], { timeoutMs: 60_000 }));
    const serverPort = Number((await waitForStderr(server, /listening on .*?:(\d+)\/udp/))[1]);
    const trace = join(dir, 'bench.jsonl');
    const relay = await startRelay(`127.0.0.1:${serverPort}`, ['--trace', trace]);
    const client = await runCli(['bench', `127.0.0.1:${relay.port}`, '-t', '2', '--rate', '5000', '-l', String(LENGTH), '--json'], { timeoutMs: 60_000 });
    expect(client.code).toBe(0);
    const bench = JSON.parse(client.stdout) as { sent: number; received: number; lost: number; kernelDrops: number; lossPercent: number };
    const stats = await stopRelay(relay);
    const lines = readFileSync(trace, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { dir: string; size: number; fate: string });
    const data = lines.filter((l) => l.dir === 'up' && l.size === LENGTH);
    const dataLost = data.filter((l) => l.fate === 'lost').length;
    expect(data).toHaveLength(bench.sent);
    expect(bench.lost).toBe(dataLost + stats.kernelDropped + bench.kernelDrops);
    expect(bench.received + bench.lost).toBe(bench.sent);
    // Every drop the relay made is in the trace: bench's data and, if any, its control frames.
    expect(stats.up.dropped).toBe(lines.filter((l) => l.fate === 'lost').length);
    expect(bench.lossPercent).toBeGreaterThan(3);
    expect(bench.lossPercent).toBeLessThan(7);
    expect((await server.done).code).toBe(0);

    // iperf3 (its server on 127.0.0.2) through a relay with the same seed; socat carries its TCP control.
    const iperf = await iperf3Server();
    const relay2 = await startRelay(`127.0.0.2:${iperf.port}`, []);
    const socat = track(asRunning(spawn('socat', ['-d', '-d', `TCP-LISTEN:${relay2.port},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.2:${iperf.port}`])));
    await waitForStderr(socat, /listening on/);
    // -w 4M: the server's receive buffer, so that the relay's bursts are not dropped by its kernel.
    const ic = await runTool('iperf3', ['-c', '127.0.0.1', '-p', String(relay2.port), '-u', '-b', '8M', '-l', String(LENGTH), '-t', '2', '-w', '4M', '--json']);
    expect(ic.code).toBe(0);
    const sum = (JSON.parse(ic.stdout) as { end: { sum: { lost_packets: number; packets: number; lost_percent: number } } }).end.sum;
    const stats2 = await stopRelay(relay2);
    socat.child.kill();
    // iperf3's count: its data plus the one "connect" datagram reached the relay; what the relay dropped iperf3 lost.
    expect(stats2.up.received).toBe(sum.packets + 1);
    expect(sum.lost_packets).toBe(stats2.up.dropped + stats2.kernelDropped);
    expect(Math.abs(sum.lost_percent - bench.lossPercent)).toBeLessThan(1);
  }, 120_000);
});

/** Starts `iperf3 -s -1` on 127.0.0.2 (it cannot be asked for port 0: a random high port, another on a clash). */
async function iperf3Server(): Promise<{ port: number }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const s = track(asRunning(spawn('iperf3', ['-s', '-1', '--forceflush', '-B', '127.0.0.2', '-p', String(port)])));
    await until(() => s.stdout.includes('Server listening on') || s.child.exitCode !== null, 10_000, 'iperf3 -s starts or fails');
    if (s.child.exitCode === null) return { port };
  }
  throw new Error('iperf3 -s found no free port in 5 tries');
}

/** Runs a tool to completion (killed after 60 s so a hang fails the test). */
async function runTool(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = track(asRunning(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })));
  const timer = setTimeout(() => r.child.kill('SIGKILL'), 60_000);
  const done = await r.done;
  clearTimeout(timer);
  return done;
}
