/** End to end: `listen --tcp` and `send --tcp` with the built binary on loopback. */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { tcpQueues } from '../helpers/tcp-queues.js';
import { until } from '../helpers/until.js';
import { runCli, start, waitForLines, waitForStderr, type Running } from '../helpers/cli.js';

const running: Running[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.child.kill('SIGKILL');
});

async function tcpListener(args: readonly string[] = []): Promise<Running & { port: number }> {
  const r = start(['listen', '--tcp', '--port', '0', ...args]);
  running.push(r);
  const m = await waitForStderr(r, /listening on .*?:(\d+)\/tcp/);
  return Object.assign(r, { port: Number(m[1]) });
}

async function client(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port });
  await once(s, 'connect');
  return s;
}

const portOf = (printed: string): number => Number(/from PORT (\d+) on/.exec(printed)?.[1]);

describe('udpkit listen --tcp / send --tcp', () => {
  it('prints each line like UDP, and "bye" from one connection ends it with exit 0', async () => {
    const l = await tcpListener();
    const sent = await runCli(['send', '--tcp', `127.0.0.1:${l.port}`, 'hello', 'world']);
    expect(sent.code).toBe(0);
    expect(sent.stderr).toBe(`sent 1 message (11 bytes) to 127.0.0.1:${l.port}/tcp\n`);
    const [first] = await waitForLines(l, 1);
    expect(first).toBe(`received message: hello world from PORT ${portOf(first!)} on 127.0.0.1`);
    const idle = await client(l.port); // an open connection must not keep the listener alive
    expect((await runCli(['send', '--tcp', `127.0.0.1:${l.port}`, 'BYE'])).code).toBe(0);
    const done = await l.done;
    idle.destroy();
    expect(done.code).toBe(0);
    expect(done.stdout.split('\n').filter(Boolean)).toHaveLength(2);
    expect(done.stderr).toContain('received 2 messages, 14 bytes; connections 3\n');
  });

  it('keeps each of 5 concurrent senders × 50 lines in order', async () => {
    const l = await tcpListener(['--no-stop-word', '-n', '250']);
    const senders = Array.from({ length: 5 }, (_, s) =>
      runCli(['send', '--tcp', `127.0.0.1:${l.port}`], { input: Array.from({ length: 50 }, (_, i) => `s${s} ${i}\n`).join('') }),
    );
    for (const r of await Promise.all(senders)) expect(r.code).toBe(0);
    const done = await l.done;
    expect(done.code).toBe(0);
    const lines = done.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(250);
    for (let s = 0; s < 5; s++) {
      const mine = lines.filter((x) => x.startsWith(`received message: s${s} `)).map((x) => Number(/ (\d+) from/.exec(x)![1]));
      expect(mine).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    expect(done.stderr).toContain('received 250 messages');
    expect(done.stderr).toContain('connections 5');
  });

  it('joins a line written in two halves, and shows a line cut by a disconnect', async () => {
    const l = await tcpListener();
    const s = await client(l.port);
    s.setNoDelay(true);
    await new Promise<void>((resolve) => s.write('hal', () => resolve()));
    // The listener has read the first half before the second is written: two reads, one line.
    await until(() => {
      const q = tcpQueues(l.port);
      return q.connections === 1 && q.unsent === 0 && q.unread === 0;
    }, 10_000, 'the listener reads the first half');
    s.write('f line\nunfinish');
    await waitForLines(l, 1);
    s.end('ed');
    await waitForStderr(l, /closed the connection mid-line/);
    const lines = await waitForLines(l, 2);
    expect(lines[0]).toMatch(/^received message: half line from PORT \d+ on 127\.0\.0\.1$/);
    expect(lines[1]).toMatch(/^received message: unfinished from PORT \d+ on 127\.0\.0\.1$/);
    l.child.kill('SIGTERM');
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(done.stderr).toContain('received 2 messages, 19 bytes; connections 1\n');
  });

  it('refuses loudly when nobody listens: exit 1, one line', async () => {
    const l = await tcpListener();
    l.child.kill('SIGTERM');
    await l.done;
    const r = await runCli(['send', '--tcp', '127.0.0.1', '-p', String(l.port), 'hello']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`udpkit: cannot connect to 127.0.0.1:${l.port}/tcp: connection refused (nobody is listening)\n`);
  });

  it('cuts a line longer than 1 MiB, with a note, and goes on', async () => {
    const l = await tcpListener(['-n', '2']);
    // A plain client: `send --tcp` itself refuses a line over 1 MiB.
    const s = await client(l.port);
    s.end('x'.repeat(1_500_000) + '\nafter\n');
    const done = await l.done;
    const lines = done.stdout.split('\n').filter(Boolean);
    expect(lines[0]).toContain('x'.repeat(1024 * 1024) + ' from PORT');
    expect(lines[0]).not.toContain('x'.repeat(1024 * 1024 + 1));
    expect(lines[1]).toMatch(/^received message: after from/);
    expect(done.stderr).toMatch(/note: a line from 127\.0\.0\.1:\d+ was longer than 1 MiB; shown cut/);
    expect(done.stderr).toContain(`received 2 messages, ${1024 * 1024 + 5} bytes; connections 1; cut 1 line (line limit 1), ${1_500_000 - 1024 * 1024} bytes not shown\n`);
  });

  it('prints --json lines', async () => {
    const l = await tcpListener(['--json', '-n', '1']);
    await runCli(['send', '--tcp', `127.0.0.1:${l.port}`, 'hi']);
    const done = await l.done;
    const obj = JSON.parse(done.stdout.trim()) as Record<string, unknown>;
    expect(obj).toMatchObject({ from: { address: '127.0.0.1', family: 'IPv4' }, size: 2, text: 'hi' });
  });

  it('closes connections from sources outside --allow and counts them', async () => {
    const l = await tcpListener(['--allow', '10.0.0.0/8']);
    const r = await runCli(['send', '--tcp', `127.0.0.1:${l.port}`, 'hi']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^udpkit: sending to 127\.0\.0\.1:\d+\/tcp: the listener closed the connection/);
    l.child.kill('SIGTERM');
    const done = await l.done;
    expect(done.stdout).toBe('');
    expect(done.stderr).toContain('received 0 messages, 0 bytes; connections 0; refused 1 (not allowed 1)\n');
  });

  it('carries sealed length-prefixed frames with --key, and refuses a plain client', async () => {
    const l = await tcpListener(['--key', 's3cret']);
    const sent = await runCli(['send', '--tcp', `127.0.0.1:${l.port}`, '--key', 's3cret'], { input: 'one\ntwo\n' });
    expect(sent.code).toBe(0);
    const lines = await waitForLines(l, 2);
    expect(lines.map((x) => /message: (.*) from/.exec(x)![1])).toEqual(['one', 'two']);
    const plain = await client(l.port);
    plain.write('hello\n');
    await once(plain, 'close');
    await runCli(['send', '--tcp', `127.0.0.1:${l.port}`, '--key', 's3cret', 'bye']);
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(done.stdout).not.toContain('hello');
    // Its first four bytes, read as a length, ask for more than a sealed frame can be.
    expect(done.stderr).toContain('received 3 messages, 9 bytes; connections 3; refused 1 (frame too large 1)\n');
  });
});
