/**
 * No silent failure at the output: a stdout or a --log file that stops taking data (here
 * /dev/full, where every write fails with ENOSPC) ends the command with its summary, one line
 * saying what failed, and exit 1. A reader that goes away (`| head`) is a quiet exit 0.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, startListener, waitForStderr, type Running, killedAfterEach } from '../helpers/cli.js';
import { startWithStdout } from '../helpers/stdio-child.js';

const FULL = 'udpkit: cannot write to standard output: no space left on device\n';

const { track } = killedAfterEach();

/** Sends each payload from one socket on 127.0.0.1, each handed to the kernel before the next. */
async function sendAll(port: number, payloads: readonly string[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  for (const p of payloads) await new Promise<void>((r, j) => s.send(p, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  await new Promise<void>((r) => s.close(r));
}

/** Connects over TCP, writes `text`, and closes once the listener has it. */
async function sendTcp(port: number, text: string): Promise<void> {
  const c = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => c.once('connect', resolve).once('error', reject));
  await new Promise<void>((resolve) => c.end(text, resolve));
}

describe('listen with stdout on /dev/full', () => {
  it('UDP: stops at the first datagram it cannot show, prints the summary and the failure, exit 1', async () => {
    const l = track(startWithStdout(['listen', '-p', '0'], 'full'));
    const port = Number((await waitForStderr(l, /listening on .*?:(\d+)\/udp/))[1]);
    await sendAll(port, ['hi']);
    const r = await l.done;
    expect(r.code).toBe(1);
    // Sent 1 = received 1 (counted, though it could not be shown) + kernel dropped 0.
    expect(r.stderr).toBe(`listening on *:${port}/udp (IPv4 and IPv6); stops on "bye"\nreceived 1 datagram, 2 bytes; kernel dropped 0\n${FULL}`);
  });

  it('TCP: the same', async () => {
    const l = track(startWithStdout(['listen', '--tcp', '-p', '0'], 'full'));
    const port = Number((await waitForStderr(l, /listening on .*?:(\d+)\/tcp/))[1]);
    await sendTcp(port, 'hi\n');
    const r = await l.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`listening on *:${port}/tcp (IPv4 and IPv6); stops on "bye"\nreceived 1 message, 2 bytes; connections 1\n${FULL}`);
  });
});

describe('listen --log on a full disk', () => {
  it('UDP: shows the datagram, then names the log that failed, exit 1', async () => {
    const l = track(await startListener(['--log', '/dev/full']));
    await sendAll(l.port, ['hi']);
    const r = await l.done;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^received message: hi from PORT \d+ on 127\.0\.0\.1\n$/);
    expect(r.stderr).toBe(
      `listening on *:${l.port}/udp (IPv4 and IPv6); stops on "bye"\nreceived 1 datagram, 2 bytes; kernel dropped 0\n` +
        'udpkit: cannot write to --log /dev/full: no space left on device\n',
    );
  });

  it('TCP: the same', async () => {
    const l = track(startWithStdout(['listen', '--tcp', '-p', '0', '--log', '/dev/full'], 'pipe'));
    const port = Number((await waitForStderr(l, /listening on .*?:(\d+)\/tcp/))[1]);
    await sendTcp(port, 'hi\n');
    const r = await l.done;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^received message: hi from PORT \d+ on 127\.0\.0\.1\n$/);
    expect(r.stderr).toBe(
      `listening on *:${port}/tcp (IPv4 and IPv6); stops on "bye"\nreceived 1 message, 2 bytes; connections 1\n` +
        'udpkit: cannot write to --log /dev/full: no space left on device\n',
    );
  });
});

describe('listen | head', () => {
  it('ends quietly with exit 0 when the reader goes away, and still flushes the log', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'udpkit-epipe-')), 'in.jsonl');
    const child = spawn(process.execPath, [BIN, 'listen', '-p', '0', '--log', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const l = track({ child, stdout: '', stderr: '', done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr: l.stderr }))) } as Running);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (l.stderr += s));
    // head is the only reader of the listener's stdout: our copy of the pipe is closed.
    const head = spawn('head', ['-n', '1'], { stdio: [child.stdout!, 'pipe', 'inherit'] });
    child.stdout!.destroy();
    let shown = '';
    head.stdout.setEncoding('utf8').on('data', (s: string) => (shown += s));
    const headDone = new Promise((resolve) => head.on('close', resolve));
    const port = Number((await waitForStderr(l, /listening on .*?:(\d+)\/udp/))[1]);
    await sendAll(port, ['one']);
    await headDone;
    expect(shown).toMatch(/^received message: one from PORT \d+ on 127\.0\.0\.1\n$/);
    // The next line meets a pipe nobody reads: EPIPE.
    await sendAll(port, ['two']);
    const r = await l.done;
    clearTimeout(timer);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`listening on *:${port}/udp (IPv4 and IPv6); stops on "bye"\nreceived 2 datagrams, 6 bytes; kernel dropped 0\n`);
    const logged = readFileSync(file, 'utf8').split('\n').slice(0, -1).map((x) => (JSON.parse(x) as { text: string }).text);
    expect(logged).toEqual(['one', 'two']);
  });
});

describe('other commands that write to stdout', () => {
  it('info: exit 1 with one line', async () => {
    const r = await track(startWithStdout(['info'], 'full')).done;
    expect(r).toMatchObject({ code: 1, stderr: FULL });
  });

  it('send --wait-reply: the reply cannot be printed, exit 1', async () => {
    const l = track(await startListener(['--echo', '-n', '1']));
    const s = track(startWithStdout(['send', `127.0.0.1:${l.port}`, 'ping', '-w', '10'], 'full'));
    s.child.stdin!.end();
    const r = await s.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`sent 1 datagram (4 bytes) to 127.0.0.1:${l.port}/udp\n${FULL}`);
    expect((await l.done).stdout).toMatch(/^received message: ping from PORT \d+ on 127\.0\.0\.1\n$/);
  });

  it('bench --loopback: the report cannot be printed, exit 1', async () => {
    const r = await track(startWithStdout(['bench', '--loopback', '-t', '0.2', '--rate', '1000', '--json'], 'full')).done;
    expect(r).toMatchObject({ code: 1, stderr: FULL });
  });

  it('relay --json: the counts cannot be printed on exit, exit 1', async () => {
    const relay = track(startWithStdout(['relay', '-p', '0', '--to', '127.0.0.1:9', '--json', '--seed', '1'], 'full'));
    const port = Number((await waitForStderr(relay, /listening on .*?:(\d+)\/udp/))[1]);
    relay.child.kill('SIGTERM');
    const r = await relay.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`listening on *:${port}/udp; relaying to 127.0.0.1:9/udp; no impairment; seed 1\n${FULL}`);
  });

  it('chat --json: stops at the first event it cannot print, exit 1', async () => {
    // --no-broadcast and no --peer: it announces to nobody, so nothing leaves this machine.
    const c = track(startWithStdout(['chat', '--json', '-p', '0', '--no-broadcast', '--name', 'tester'], 'full'));
    const r = await c.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^listening on 0\.0\.0\.0:\d+\/udp as tester; no network to announce to \(add --peer HOST\)\n/);
    // The summary of what it received (nothing) still comes, then the failure.
    expect(r.stderr.split('\n').slice(1).join('\n')).toBe(
      `received 0 datagrams: 0 IPMsg packets, 0 not IPMsg, 0 our own; kernel dropped 0; peers evicted 0, ignored 0; rate-limited sends 0\n${FULL}`,
    );
  });
});
