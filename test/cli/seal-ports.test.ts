/**
 * Sealed datagrams are bound to their destination port: one captured on its way to listener A
 * does nothing to listener B with the same key, and `udpkit relay` (which changes ports) needs
 * the key to re-seal each hop, and says so when it has none.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { deriveKey } from '../../src/protocol/seal-key.js';
import { Sealer } from '../../src/protocol/seal.js';
import { listen } from '../../src/transport/listener.js';
import { runCli, start, waitForLines, waitForStderr, type Running, killedAfterEach } from '../helpers/cli.js';

const SECRET = 'port-bound-secret';
const { track, listener } = killedAfterEach();
async function startRelay(to: number, args: string[] = []): Promise<Running & { port: number }> {
  const r = start(['relay', '--port', '0', '--to', `127.0.0.1:${to}`, '--json', ...args]);
  track(r);
  const m = await waitForStderr(r, /listening on .*?:(\d+)\/udp/);
  return Object.assign(r, { port: Number(m[1]) });
}
async function stopRelay(r: Running): Promise<{ up: Record<string, number>; down: Record<string, number> }> {
  r.child.kill('SIGINT');
  const done = await r.done;
  expect(done.code).toBe(0);
  return JSON.parse(done.stdout) as never;
}

/** Sends raw bytes from Python's socket module (a sender nobody here wrote), one datagram each. */
async function pySend(port: number, payloads: readonly Buffer[]): Promise<void> {
  const code = 'import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor h in sys.argv[2:]: s.sendto(bytes.fromhex(h),("127.0.0.1",int(sys.argv[1])))';
  await promisify(execFile)('python3', ['-c', code, String(port), ...payloads.map((p) => p.toString('hex'))], { timeout: 10_000 });
}
const summaryOf = (stderr: string): string => stderr.split('\n').filter((l) => l.startsWith('received '))[0] ?? `?${stderr}`;

describe('sealed datagrams open only on the port they were sealed for', () => {
  it('a sealed bye captured for listener A is refused by listener B as misdirected (B keeps running), while A accepts it', async () => {
    const a = await listener(['--key', SECRET]);
    const b = await listener(['--key', SECRET]);
    const byeForA = new Sealer(deriveKey(SECRET)).seal(Buffer.from('bye'), Date.now(), { port: a.port });
    await pySend(b.port, [byeForA]);
    await pySend(a.port, [byeForA]);
    const doneA = await a.done;
    expect(doneA.code).toBe(0);
    expect(doneA.stdout).toMatch(/^received message: bye from PORT \d+ on 127\.0\.0\.1\n$/);
    expect(summaryOf(doneA.stderr)).toBe('received 1 datagram, 3 bytes; kernel dropped 0; refused 0');
    // B refused it and is still there: a sealed hello shows, then its own bye stops it.
    expect((await runCli(['send', `127.0.0.1:${b.port}`, 'hello', '--key', SECRET])).code).toBe(0);
    await waitForLines(b, 1);
    expect(b.child.exitCode).toBe(null);
    expect((await runCli(['send', `127.0.0.1:${b.port}`, 'bye', '--key', SECRET])).code).toBe(0);
    const doneB = await b.done;
    expect(doneB.code).toBe(0);
    expect(doneB.stdout).toMatch(/^received message: hello from PORT \d+ on 127\.0\.0\.1\nreceived message: bye from PORT \d+ on 127\.0\.0\.1\n$/);
    expect(summaryOf(doneB.stderr)).toBe('received 2 datagrams, 8 bytes; kernel dropped 0; refused 1 (misdirected 1)');
  });

  it('a relay without the key says once what to do, and the listener behind it refuses what passes as misdirected', async () => {
    const l = await listen({ port: 0, key: SECRET });
    const refusals: string[] = [];
    l.on('refused', (reason: string) => refusals.push(reason));
    try {
      const r = await startRelay(l.address().port);
      const sent = await runCli(['send', `127.0.0.1:${r.port}`, '--key', SECRET, '-q'], { input: 'one\ntwo\nthree\n' });
      expect(sent.code).toBe(0);
      await waitForStderr(r, /note: sealed datagrams \(--key\) are passing through/);
      while (refusals.length < 3) await once(l, 'refused');
      expect(refusals).toEqual(['misdirected', 'misdirected', 'misdirected']);
      expect(l.stats).toMatchObject({ datagrams: 0, refused: 3, refusedBy: { misdirected: 3 } });
      const stats = await stopRelay(r);
      expect(stats.up).toMatchObject({ received: 3, forwarded: 3, refused: 0 });
      expect(r.stderr.match(/note: sealed datagrams/g)).toHaveLength(1);
    } finally {
      await l.close();
    }
  });

  it('relay --key opens and re-seals each hop both ways, and refuses what is not sealed with the key', async () => {
    const l = await listener(['--key', SECRET, '--echo', '--no-stop-word']);
    const r = await startRelay(l.port, ['--key', SECRET]);
    expect(r.stderr).toContain('; sealed (--key): opened and sealed again for each hop\n');
    const stranger = new Sealer(deriveKey('another secret')).seal(Buffer.from('x'), Date.now(), { port: r.port });
    await pySend(r.port, [Buffer.from('plain'), stranger]);
    const s = await runCli(['send', `127.0.0.1:${r.port}`, 'through', '-w', '5', '-q'], { env: { UDPKIT_KEY: SECRET } });
    expect(s).toMatchObject({ code: 0, stdout: `received message: through from PORT ${r.port} on 127.0.0.1\n` });
    const stats = await stopRelay(r);
    expect(stats.up).toMatchObject({ received: 1, forwarded: 1, refused: 2 });
    expect(stats.down).toMatchObject({ received: 1, forwarded: 1, refused: 0 });
    expect(r.stderr).not.toContain('note: sealed datagrams');
    l.child.kill('SIGTERM');
    const done = await l.done;
    expect(done.stdout).toMatch(/^received message: through from PORT \d+ on 127\.0\.0\.1\n$/);
    expect(summaryOf(done.stderr)).toBe('received 1 datagram, 7 bytes; kernel dropped 0; refused 0; echoed 1');
  });
});
