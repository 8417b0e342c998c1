/**
 * `udpkit relay --pcap FILE`: what the relay forwarded, both ways, after the impairments, as
 * tcpdump reads it: client to upstream and back, exactly the datagrams the seeded core let through.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { decide } from '../../src/protocol/impairment-decide.js';
import { validateImpairment } from '../../src/protocol/impairment-options.js';
import { seededRandom } from '../../src/protocol/seeded-random.js';
import { killedAfterEach, runCli, start, waitForStderr } from '../helpers/cli.js';
import { tcpdumpRead } from '../helpers/tcpdump-read.js';

const { track, listener } = killedAfterEach();

/** Sends `messages` from one socket and resolves with its port once `replies` answers came back (10 s at most). */
async function exchange(port: number, messages: readonly string[], replies: number): Promise<{ port: number; got: string[] }> {
  const socket = dgram.createSocket('udp4');
  const got: string[] = [];
  const enough = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    socket.on('message', (m) => {
      if (got.push(m.toString()) === replies) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const own = socket.address().port;
  for (const m of messages) socket.send(m, port, '127.0.0.1');
  await enough;
  socket.close();
  return { port: own, got };
}

describe('udpkit relay --pcap', () => {
  it('records what it forwarded both ways, after --loss, and tcpdump reads it', async () => {
    const messages = Array.from({ length: 40 }, (_, i) => `datagram ${i}`);
    const random = seededRandom(3);
    const settings = validateImpairment({ loss: 0.5 });
    const through = messages.filter(() => !decide(settings, random).lost);
    expect(through.length).toBeGreaterThan(5);
    expect(through.length).toBeLessThan(35);

    const upstream = await listener(['--bind', '127.0.0.1', '--echo', '--no-stop-word']);
    const dir = mkdtempSync(join(tmpdir(), 'udpkit-relay-pcap-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'relayed.pcap');
    const relay = track(start(['relay', '-p', '0', '--bind', '127.0.0.1', '--to', `127.0.0.1:${upstream.port}`, '--loss', '0.5', '--up-only', '--seed', '3', '--json', '--pcap', file, '--pcap-format', 'pcap']));
    const relayPort = Number((await waitForStderr(relay, /listening on .*?:(\d+)\/udp/))[1]);
    const client = await exchange(relayPort, messages, through.length);
    expect(client.got).toEqual(through);
    relay.child.kill('SIGTERM');
    const done = await relay.done;
    expect(done.code).toBe(0);
    const stats = JSON.parse(done.stdout) as { up: { forwarded: number }; down: { forwarded: number } };
    expect([stats.up.forwarded, stats.down.forwarded]).toEqual([through.length, through.length]);

    const { packets } = await tcpdumpRead(readFileSync(file));
    expect(packets.length).toBe(stats.up.forwarded + stats.down.forwarded);
    const up = packets.filter((p) => p.srcPort === client.port);
    const down = packets.filter((p) => p.dstPort === client.port);
    expect(up.map((p) => [p.src, p.dst, p.dstPort, p.payload.toString()])).toEqual(through.map((m) => ['127.0.0.1', '127.0.0.1', upstream.port, m]));
    expect(down.map((p) => [p.src, p.srcPort, p.dst, p.payload.toString()])).toEqual(through.map((m) => ['127.0.0.1', upstream.port, '127.0.0.1', m]));
    for (const p of packets) expect(p.text).toContain('[udp sum ok]');
  });

  it('refuses --pcap-format without --pcap (exit 2)', async () => {
    const r = await runCli(['relay', '-p', '0', '--to', '127.0.0.1:9', '--pcap-format', 'pcap']);
    expect([r.code, r.stderr]).toEqual([2, "udpkit: --pcap-format goes with --pcap FILE\nhint: see 'udpkit relay --help'\n"]);
  });
});
