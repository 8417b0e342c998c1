/** `udpkit relay` under a flood, and pointed at itself (built binary, loopback). */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, start, startListener, waitForStderr, type Running } from '../helpers/cli.js';
import { procMemory } from '../helpers/proc-memory.js';
import { until } from '../helpers/until.js';
import { udpUnread } from '../helpers/udp-queues.js';

const BLAST = fileURLToPath(new URL('../fixtures/blast.mjs', import.meta.url));

const running: Running[] = [];
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
  for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
});

/** Sends `count` datagrams of `size` bytes to 127.0.0.1:`port` as fast as the kernel takes them; resolves with how many it took. */
async function blast(port: number, count: number, size: number): Promise<number> {
  const child = spawn(process.execPath, [BLAST, '127.0.0.1', String(port), String(count), String(size)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const [code] = (await once(child, 'close')) as [number | null];
  expect(code).toBe(0);
  return Number(out.trim());
}

type Counts = Record<'received' | 'forwarded' | 'dropped' | 'duplicated' | 'reordered' | 'rateLimited' | 'queueFull' | 'failed', number>;

describe('udpkit relay limits', () => {
  it('a flood through --delay 2000 grows the relay by under 150 MB; every datagram is forwarded or counted, exactly', async () => {
    const upstream = await startListener([]);
    running.push(upstream);
    const r = start(['relay', '--port', '0', '--to', `127.0.0.1:${upstream.port}`, '--delay', '2000', '--json'], { timeoutMs: 120_000 });
    running.push(r);
    const port = Number((await waitForStderr(r, /listening on .*?:(\d+)\/udp/))[1]);
    const before = procMemory(r.child.pid!).hwm;

    const sent = await blast(port, 400_000, 64);
    await until(() => udpUnread(port) === 0, 30_000, 'the relay reads what reached it');
    const added = procMemory(r.child.pid!).hwm - before;
    r.child.kill('SIGINT');
    const done = await r.done;
    expect(done.code).toBe(0);
    const stats = JSON.parse(done.stdout) as { up: Counts; down: Counts; kernelDropped: number };

    // At the relay: what the kernel took from the sender was read or dropped by the kernel...
    expect(stats.up.received + stats.kernelDropped).toBe(sent);
    // ...and what was read was forwarded or dropped for a reason: here, only a full queue.
    expect(stats.up).toMatchObject({ dropped: 0, duplicated: 0, reordered: 0, rateLimited: 0 });
    expect(stats.up.forwarded + stats.up.queueFull).toBe(stats.up.received);
    expect(stats.up.queueFull).toBeGreaterThan(0);
    expect(stats.up.forwarded).toBeGreaterThan(10_000);
    expect(added, `VmHWM grew by ${added} bytes`).toBeLessThan(150e6);

    // Upstream: what the relay sent was shown or dropped by the listener's kernel (then "bye").
    await until(() => udpUnread(upstream.port) === 0, 30_000, 'the listener reads what reached it');
    expect((await runCli(['send', `127.0.0.1:${upstream.port}`, 'bye', '-q'])).code).toBe(0);
    const listened = await upstream.done;
    expect(listened.code).toBe(0);
    const summary = /^received (\d+) datagrams, \d+ bytes; kernel dropped (\d+)/m.exec(listened.stderr);
    expect(summary, listened.stderr).not.toBeNull();
    const [shown, kernelDropped] = [Number(summary![1]), Number(summary![2])];
    expect(shown + kernelDropped).toBe(stats.up.forwarded - stats.up.failed + 1);
    expect(listened.stdout.split('\n').filter(Boolean)).toHaveLength(shown);
  }, 120_000);

  it('refuses --to its own address and port, with one line and exit 2, before binding anything', async () => {
    // The port is taken: a relay that went on to bind it would fail with exit 1 instead.
    const holder = dgram.createSocket('udp6');
    holder.bind(0, '::');
    await once(holder, 'listening');
    cleanup.push(() => holder.close());
    const p = holder.address().port;
    for (const [to, resolved] of [[`127.0.0.1:${p}`, ''], [`[::1]:${p}`, ''], [`localhost:${p}`, ' (127.0.0.1)']] as const) {
      const r = await runCli(['relay', '--port', String(p), '--to', to]);
      expect(r).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr).toBe(`udpkit: the upstream ${to} is this relay's own port ${p} on this machine${resolved}: datagrams would go round in a loop\nhint: see 'udpkit relay --help'\n`);
    }
    const bound = await runCli(['relay', '--port', String(p), '--bind', '127.0.0.1', '--to', `127.0.0.1:${p}`]);
    expect(bound.code).toBe(2);
  });

  it('refuses a --max-queue below 64K', async () => {
    const r = await runCli(['relay', '--port', '0', '--to', '127.0.0.1:9', '--max-queue', '1k']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^udpkit: --max-queue must be a size from 65536 to \d+ bytes \(K, M, G for KiB, MiB, GiB\), got "1k"\n/);
  });
});
