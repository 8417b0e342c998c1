/**
 * udpkit against peers nobody here wrote: the textbook's own Python receiver and sender, OpenBSD
 * netcat and socat. Everything on loopback.
 */
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startListener, waitForLines, type Running } from '../helpers/cli.js';
import { unusedUdpPort } from '../helpers/ports.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

const children: Array<{ kill: (s?: NodeJS.Signals) => boolean; exitCode: number | null }> = [];
const listeners: Running[] = [];
afterEach(() => {
  for (const c of [...children.splice(0), ...listeners.splice(0).map((r) => r.child)]) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts a child and collects its output. */
function child(cmd: string, args: string[]) {
  const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(c);
  const out = { stdout: '', stderr: '', exited: new Promise<number | null>((r) => c.on('close', (code) => r(code))) };
  c.stdout.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
  c.stderr.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
  return Object.assign(out, { child: c });
}

/** True once some socket is bound to UDP `port` on this machine (read from /proc, no polling of the peer). */
function udpPortBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return ['/proc/net/udp', '/proc/net/udp6'].some((f) => readFileSync(f, 'utf8').split('\n').some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex)));
}

/** Waits (bounded) until a foreign tool that cannot report its port has bound it. */
async function untilBound(port: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!udpPortBound(port)) {
    if (Date.now() > end) throw new Error(`nothing bound UDP port ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the textbook Python code (the seed)', () => {
  it('the seed receiver shows what udpkit send sends, Chinese included, and stops on bye', async () => {
    const py = child('python3', ['-u', fixture('seed_receiver.py'), '0']);
    await new Promise<void>((resolve) => {
      const check = (): void => void (/bound \d+\n/.test(py.stderr) && resolve());
      py.child.stderr.on('data', check);
      check();
    });
    const port = Number(/bound (\d+)/.exec(py.stderr)![1]);
    expect((await runCli(['send', `127.0.0.1:${port}`, '你好，UDP'])).code).toBe(0);
    expect((await runCli(['send', `127.0.0.1:${port}`, 'bye'])).code).toBe(0);
    expect(await py.exited).toBe(0);
    const lines = py.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^received message:你好，UDP from PORT\d+ on 127\.0\.0\.1$/);
    expect(lines[1]).toMatch(/^received message:bye from PORT\d+ on 127\.0\.0\.1$/);
  });

  it('udpkit listen shows what the seed sender sends, and the seed sender\'s bye stops it', async () => {
    const l = await startListener([]);
    listeners.push(l);
    for (const text of ['hello from python', '再见']) {
      const py = child('python3', [fixture('seed_sender.py'), text, '127.0.0.1', String(l.port)]);
      expect(await py.exited).toBe(0);
    }
    await waitForLines(l, 2);
    const py = child('python3', [fixture('seed_sender.py'), 'BYE', '127.0.0.1', String(l.port)]);
    expect(await py.exited).toBe(0);
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(
      /^received message: hello from python from PORT \d+ on 127\.0\.0\.1\nreceived message: 再见 from PORT \d+ on 127\.0\.0\.1\nreceived message: BYE from PORT \d+ on 127\.0\.0\.1\n$/,
    );
  });
});

if (!has('nc')) console.warn('SKIPPED netcat interop tests: nc is not installed (apt-get install netcat-openbsd)');
describe.skipIf(!has('nc'))('OpenBSD netcat', () => {
  it('nc -u sends to udpkit listen; its trailing newline is shown escaped and "bye\\n" stops it', async () => {
    const l = await startListener([]);
    listeners.push(l);
    for (const text of ['from nc\n', 'bye\n']) {
      // -q0: quit once stdin ends and what it held was sent (-w0 may quit before reading it).
      const nc = child('nc', ['-u', '-q0', '127.0.0.1', String(l.port)]);
      nc.child.stdin.end(text);
      expect(await nc.exited).toBe(0);
    }
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^received message: from nc\\n from PORT \d+ on 127\.0\.0\.1\nreceived message: bye\\n from PORT \d+ on 127\.0\.0\.1\n$/);
  });

  it('nc -u -l receives what udpkit send sends, byte for byte', async () => {
    const port = unusedUdpPort();
    const nc = child('nc', ['-u', '-l', '127.0.0.1', String(port)]);
    await untilBound(port);
    expect((await runCli(['send', `127.0.0.1:${port}`, '--raw', '-q'], { input: 'raw\x00bytes\n' })).code).toBe(0);
    await new Promise<void>((resolve) => {
      const check = (): void => void (nc.stdout.length >= 10 && resolve());
      nc.child.stdout.on('data', check);
      check();
    });
    expect(nc.stdout).toBe('raw\x00bytes\n');
  });
});

if (!has('socat')) console.warn('SKIPPED socat interop tests: socat is not installed (apt-get install socat)');
describe.skipIf(!has('socat'))('socat', () => {
  it('socat sends to udpkit listen --json', async () => {
    const l = await startListener(['-n', '1', '--json']);
    listeners.push(l);
    const s = child('socat', ['-u', '-', `UDP4-SENDTO:127.0.0.1:${l.port}`]);
    s.child.stdin.end('{"not":"json-injection"}\n');
    expect(await s.exited).toBe(0);
    const obj = JSON.parse((await l.done).stdout);
    expect(obj).toMatchObject({ size: 25, text: '{"not":"json-injection"}\n', from: { address: '127.0.0.1', family: 'IPv4' } });
  });

  it('udpkit send --wait-reply gets the answer of a socat echo server', async () => {
    const port = unusedUdpPort();
    const echo = child('socat', ['-T', '5', `UDP4-LISTEN:${port},bind=127.0.0.1`, 'PIPE']);
    await untilBound(port);
    const r = await runCli(['send', `127.0.0.1:${port}`, 'echo me', '--wait-reply', '5', '-q']);
    expect(r).toMatchObject({ code: 0, stdout: `received message: echo me from PORT ${port} on 127.0.0.1\n` });
    echo.child.kill();
  });
});
