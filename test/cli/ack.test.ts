/**
 * `send --ack` end to end on loopback: through `udpkit relay` with heavy impairment, to a closed
 * port, two senders at once, a restarted sender, and a listener whose acknowledgements get lost.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { runCli, start, waitForStderr, killedAfterEach } from '../helpers/cli.js';
import { closedUdpPort } from '../helpers/closed-port.js';

const { track, listener } = killedAfterEach();
async function relayTo(port: number, args: string[], timeoutMs?: number) {
  const r = start(['relay', '--port', '0', '--to', `127.0.0.1:${port}`, ...args], timeoutMs === undefined ? {} : { timeoutMs });
  track(r);
  const m = await waitForStderr(r, /listening on .*?:(\d+)\/udp/);
  return Number(m[1]);
}
const texts = (stdout: string): string[] => stdout.split('\n').filter((l) => l !== '').map((l) => /^received message: (.*) from PORT \d+ on /.exec(l)?.[1] ?? `?${l}`);
const lines = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

describe('send --ack', () => {
  it('through a relay that drops a fifth, duplicates and reorders: every line once, in order, exit 0', async () => {
    // 5-8 s here, 13-15 s seen on a loaded machine: the safety kills of the listener and the
    // relay (15 s by default) must come after the sender's own limit.
    const l = await listener(['-n', '1000'], { timeoutMs: 28_000 });
    const relay = await relayTo(l.port, ['--loss', '0.2', '--dup', '0.05', '--reorder', '0.1', '--seed', '3'], 28_000);
    const s = await runCli(['send', '--ack', `127.0.0.1:${relay}`], { input: lines(1, 1000).join('\n') + '\n', timeoutMs: 25_000 });
    expect(s.code).toBe(0);
    expect(s.stderr).toMatch(new RegExp(`^sent 1000 messages to 127\\.0\\.0\\.1:${relay}/udp, all confirmed \\(\\d+ retransmissions\\)\\n$`));
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(texts(done.stdout)).toEqual(lines(1, 1000));
  }, 30_000);

  it('to a closed port: exits 3 at once, saying nobody listens', async () => {
    const closed = await closedUdpPort();
    try {
      const s = await runCli(['send', '--ack', `127.0.0.1:${closed.port}`, 'anyone?']);
      expect(s.code).toBe(3);
      // The default --ack-timeout is 10 s; this line says it ended on the ICMP answer instead.
      expect(s.stderr).toBe(`udpkit: no listener at 127.0.0.1:${closed.port}/udp (port unreachable); 1 of 1 message unconfirmed (0 confirmed)\n`);
    } finally {
      await closed.close();
    }
  });

  it('SIGTERM while waiting for acknowledgements stops at once: exit 3, saying it was stopped', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const port = silent.address().port;
      const s = start(['send', '--ack', '--ack-timeout', '600', `127.0.0.1:${port}`, 'hello?']);
      track(s);
      silent.once('message', () => s.child.kill('SIGTERM'));
      const done = await s.done;
      expect(done).toMatchObject({ code: 3, stdout: '', stderr: `udpkit: stopped before 127.0.0.1:${port}/udp acknowledged everything; 1 of 1 message unconfirmed (0 confirmed)\n` });
    } finally {
      silent.close();
    }
  });

  it('when nothing answers at all: exits 3 after --ack-timeout', async () => {
    // A relay that drops everything keeps the port open, so no ICMP tells the sender.
    const l = await listener(['--timeout', '5']);
    const relay = await relayTo(l.port, ['--loss', '1']);
    const s = await runCli(['send', '--ack', '--ack-timeout', '0.5', `127.0.0.1:${relay}`, 'lost']);
    expect(s.code).toBe(3);
    expect(s.stderr).toBe(`udpkit: no acknowledgement from 127.0.0.1:${relay}/udp for 0.5 s; 1 of 1 message unconfirmed (0 confirmed)\n`);
    expect(l.stdout).toBe('');
  });

  it('two senders at once each keep their own order; --count counts messages, not datagrams', async () => {
    const l = await listener(['-n', '400']);
    const relay = await relayTo(l.port, ['--dup', '0.3', '--reorder', '0.3', '--seed', '5']);
    const [a, b] = await Promise.all(
      ['a', 'b'].map((k) => runCli(['send', '--ack', `127.0.0.1:${relay}`, '-q'], { input: lines(1, 200).map((n) => `${k}${n}`).join('\n') + '\n' })),
    );
    expect([a!.code, b!.code]).toEqual([0, 0]);
    const got = texts((await l.done).stdout);
    expect(got).toHaveLength(400);
    for (const k of ['a', 'b']) expect(got.filter((t) => t.startsWith(k))).toEqual(lines(1, 200).map((n) => `${k}${n}`));
  });

  it('a restarted sender is a new session: its messages are not taken for repeats of the old ones', async () => {
    const l = await listener(['-n', '100']);
    for (let run = 0; run < 2; run++) {
      expect((await runCli(['send', '--ack', `127.0.0.1:${l.port}`, '-q'], { input: lines(1, 50).join('\n') + '\n' })).code).toBe(0);
    }
    expect(texts((await l.done).stdout)).toEqual([...lines(1, 50), ...lines(1, 50)]);
  });

  it('a listener that stops on bye lingers, so a sender whose acknowledgements are lost still finishes', async () => {
    const l = await listener([]);
    // Only the way back is impaired: most acknowledgements are lost, data always arrives.
    const relay = await relayTo(l.port, ['--loss', '0.7', '--down-only', '--seed', '9']);
    const s = await runCli(['send', '--ack', `127.0.0.1:${relay}`, '-q'], { input: 'one\ntwo\nbye\n' });
    expect(s.code).toBe(0);
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(texts(done.stdout)).toEqual(['one', 'two', 'bye']);
  });

  it('composes with --key: sealed frames, re-sealed by relay --key for each hop, acknowledged and in order', async () => {
    const l = await listener(['-n', '20', '--key', 'k3y-for-tests']);
    const relay = await relayTo(l.port, ['--loss', '0.2', '--seed', '11', '--key', 'k3y-for-tests']);
    const s = await runCli(['send', '--ack', '--key', 'k3y-for-tests', `127.0.0.1:${relay}`, '-q'], { input: lines(1, 20).join('\n') + '\n' });
    expect(s.code).toBe(0);
    expect(texts((await l.done).stdout)).toEqual(lines(1, 20));
  });

  it('plain senders still work next to --ack ones', async () => {
    const l = await listener(['-n', '2']);
    await runCli(['send', '--ack', `127.0.0.1:${l.port}`, 'framed']);
    await runCli(['send', `127.0.0.1:${l.port}`, 'plain']);
    expect(texts((await l.done).stdout)).toEqual(['framed', 'plain']);
  });
});
