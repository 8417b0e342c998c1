/**
 * `listen --echo` against forged source addresses, made for real with a raw socket
 * (test/fixtures/forge_udp.py, needs root): two echo listeners aimed at each other stop within
 * a few datagrams, a listener aimed at itself shows the datagram but does not answer it, and
 * the counters add up. Legitimate echo use keeps working.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { deriveKey } from '../../src/protocol/seal-key.js';
import { Sealer } from '../../src/protocol/seal.js';
import { waitForLines, waitForStderr, type CliResult, type Running, killedAfterEach } from '../helpers/cli.js';
import { forgeUdp } from '../helpers/forge.js';

const { track, listener } = killedAfterEach();
/** Stops a listener as Ctrl-C would, and returns what it printed. */
async function stop(r: Running): Promise<CliResult> {
  r.child.kill('SIGTERM');
  const done = await r.done;
  expect(done.code).toBe(0);
  return done;
}
const summaryOf = (done: CliResult): string => done.stderr.split('\n').filter((l) => l.startsWith('received '))[0] ?? `?${done.stderr}`;
const linesOf = (done: CliResult): string[] => done.stdout.split('\n').filter((l) => l !== '');
const LOCAL = '127.0.0.1';

describe('listen --echo with forged sources', () => {
  it('two echo listeners aimed at each other stop after two bounces each way, and say why', async () => {
    const a = await listener(['--echo', '--no-stop-word']);
    const b = await listener(['--echo', '--no-stop-word']);
    // One datagram to B that claims to come from A: B echoes to A, A to B, and so on.
    await forgeUdp({ address: LOCAL, port: a.port }, { address: LOCAL, port: b.port }, [Buffer.from('ping-pong')]);
    // The loop ends when one of them holds the echo back; nothing is in flight after that.
    const note = /note: not echoing the same payload to 127\.0\.0\.1:(\d+) again so soon/;
    await Promise.any([waitForStderr(a, note), waitForStderr(b, note)]);
    const [da, db] = [await stop(a), await stop(b)];
    const [na, nb] = [linesOf(da), linesOf(db)];
    expect(new Set(na)).toEqual(new Set([`received message: ping-pong from PORT ${b.port} on ${LOCAL}`]));
    expect(new Set(nb)).toEqual(new Set([`received message: ping-pong from PORT ${a.port} on ${LOCAL}`]));
    // Burst 2, refilled once a second: B shows 3 (the forged one and two echoes), A shows 2. A
    // machine stalled for over a second between bounces may add a refill; never more than a few.
    expect(nb.length).toBeGreaterThanOrEqual(3);
    expect(nb.length).toBeLessThanOrEqual(5);
    // Exactly one echo was held back, by whichever side ran out first; every other one arrived.
    const limitedA = da.stderr.includes('note: not echoing the same payload') ? 1 : 0;
    const limitedB = 1 - limitedA;
    const echoedA = nb.length - 1;
    const echoedB = na.length - limitedA;
    expect(na.length).toBe(echoedA + limitedA);
    expect(nb.length).toBe(echoedB + limitedB);
    const line = (n: number, echoed: number, limited: number): string =>
      `received ${n} datagrams, ${9 * n} bytes; kernel dropped 0; echoed ${echoed}` + (limited ? '; echo limited 1 (same payload 1)' : '');
    expect(summaryOf(da)).toBe(line(na.length, echoedA, limitedA));
    expect(summaryOf(db)).toBe(line(nb.length, echoedB, limitedB));
  });

  it('shows a datagram forged from its own port (on loopback or an interface address) but never echoes it', async () => {
    const l = await listener(['--echo', '--no-stop-word']);
    const own = ['127.0.0.1', '127.0.0.2'];
    const iface = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (iface) own.push(iface.address);
    for (const [k, address] of own.entries()) await forgeUdp({ address, port: l.port }, { address: LOCAL, port: l.port }, [Buffer.from(`self${k}`)]);
    await waitForLines(l, own.length);
    await waitForStderr(l, new RegExp(`note: not echoing to 127\\.0\\.0\\.1:${l.port}, this listener's own port on this machine`));
    // An ordinary peer is still answered.
    const peer = dgram.createSocket('udp4');
    peer.bind(0, LOCAL);
    await once(peer, 'listening');
    peer.send('hello', l.port, LOCAL);
    const [echo] = (await once(peer, 'message')) as [Buffer];
    peer.close();
    expect(echo.toString()).toBe('hello');
    const done = await stop(l);
    expect(linesOf(done)).toEqual([...own.map((a, k) => `received message: self${k} from PORT ${l.port} on ${a}`), expect.stringMatching(/^received message: hello from PORT \d+ on 127\.0\.0\.1$/)]);
    const n = own.length + 1;
    expect(summaryOf(done)).toBe(`received ${n} datagrams, ${5 * own.length + 5} bytes; kernel dropped 0; echoed 1; not echoed ${own.length} (own address ${own.length})`);
  });

  it('with --key, a sealed datagram forged from A to B is echoed once: A does not answer a sealed answer', async () => {
    const secret = 'echo-loop-secret';
    const a = await listener(['--echo', '--no-stop-word', '--key', secret]);
    const b = await listener(['--echo', '--no-stop-word', '--key', secret]);
    const sealed = new Sealer(deriveKey(secret)).seal(Buffer.from('sealed ping'), Date.now(), { port: b.port });
    await forgeUdp({ address: LOCAL, port: a.port }, { address: LOCAL, port: b.port }, [sealed]);
    await waitForStderr(a, new RegExp(`note: not echoing a sealed answer from 127\\.0\\.0\\.1:${b.port}`));
    const [da, db] = [await stop(a), await stop(b)];
    expect(linesOf(db)).toEqual([`received message: sealed ping from PORT ${a.port} on ${LOCAL}`]);
    expect(linesOf(da)).toEqual([`received message: sealed ping from PORT ${b.port} on ${LOCAL}`]);
    expect(summaryOf(db)).toBe('received 1 datagram, 11 bytes; kernel dropped 0; refused 0; echoed 1');
    expect(summaryOf(da)).toBe('received 1 datagram, 11 bytes; kernel dropped 0; refused 0; echoed 0; not echoed 1 (sealed answer 1)');
  });

  it('still answers a client sending 300 distinct messages back to back, every one', async () => {
    const l = await listener(['--echo', '-n', '300']);
    // 300 echoes back to back outgrow a default receive buffer when this process is busy.
    const peer = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    peer.bind(0, LOCAL);
    await once(peer, 'listening');
    const got = new Set<string>();
    const all = new Promise<void>((resolve) =>
      peer.on('message', (m) => {
        got.add(m.toString());
        if (got.size === 300) resolve();
      }),
    );
    for (let i = 0; i < 300; i++) peer.send(`m${i}`, l.port, LOCAL);
    await all;
    peer.close();
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(linesOf(done)).toHaveLength(300);
    expect(summaryOf(done)).toBe('received 300 datagrams, 1090 bytes; kernel dropped 0; echoed 300');
  });
});
