/**
 * Ctrl-C: the terminal sends SIGINT to the whole foreground process group. Under `npm start`,
 * npm also passes it on to its child, so udpkit gets it twice within moments; that is one
 * Ctrl-C (exit 0), while a second press during a slow shutdown still means "now" (exit 130).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli, startListener, waitForStderr, type CliResult, type Running, killedAfterEach } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const { track } = killedAfterEach();

describe('Ctrl-C', () => {
  it('through `npm start`: exit 0, the summary printed once', async () => {
    // Its own process group, so the test can do what a terminal does on Ctrl-C.
    const child = spawn('npm', ['start', '--', '-p', '0'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const r: Running = {
      child,
      stdout: '',
      stderr: '',
      done: new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout: r.stdout, stderr: r.stderr }))),
    };
    track(r);
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (r.stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (r.stderr += s));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
    try {
      await waitForStderr(r, /listening on \*:\d+\/udp/, 15_000);
      process.kill(-child.pid!, 'SIGINT');
      const done = await r.done;
      expect(done).toMatchObject({ code: 0, signal: null });
      expect(done.stderr.match(/^received 0 datagrams, 0 bytes; kernel dropped 0$/gm)).toHaveLength(1);
    } finally {
      clearTimeout(timer);
    }
  });

  it('a second press while it still lingers for --ack senders: exit 130 at once', async () => {
    const l = await startListener(['--linger', '60']);
    track(l);
    // An --ack sender makes the listener linger after it stops, to answer late retransmissions.
    expect((await runCli(['send', '--ack', `127.0.0.1:${l.port}`, 'hello', '-q'])).code).toBe(0);
    l.child.kill('SIGINT');
    // A second press, well apart from the first (a copy from npm comes within milliseconds).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(l.child.exitCode).toBe(null);
    l.child.kill('SIGINT');
    const done = await l.done;
    expect(done).toMatchObject({ code: 130, signal: null });
  });
});
