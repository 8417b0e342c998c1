/**
 * A capture tcpdump made on a LAN's Ethernet (inside network namespaces, so nothing leaves this
 * machine's own namespace) replays into `udpkit listen` on loopback with the same payloads.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/transport/read-capture.js';
import { killedAfterEach } from '../helpers/cli.js';
import { replayAll } from '../helpers/replay-check.js';
import { createLan, probeNetns, type Lan } from '../helpers/netns-lan.js';
import { pyReceiver, pySend } from '../helpers/py-udp.js';
import { startTcpdump } from '../helpers/tcpdump.js';

const support = probeNetns();
const dir = mkdtempSync(join(tmpdir(), 'udpkit-replay-lan-'));
const { listener } = killedAfterEach();

describe.skipIf(!support.ok)('send --replay of a tcpdump capture from a namespace LAN (Ethernet)', () => {
  let lan: Lan;
  const file = join(dir, 'lan.pcap');
  const payloads = Array.from({ length: 20 }, (_, i) => `lan datagram ${i} ${'-'.repeat(i * 7)}`);
  let receiverPort = 0;

  beforeAll(async () => {
    lan = await createLan(2);
    const [h1, h2] = lan.hosts as [Lan['hosts'][0], Lan['hosts'][0]];
    const rx = await pyReceiver({ address: h2.address, count: payloads.length, prefix: h2.exec });
    receiverPort = rx.port;
    const dump = await startTcpdump('eth0', file, payloads.length, ['udp', 'port', String(rx.port)], h2.exec);
    // `broadcast: true` only makes the sender bind 0.0.0.0 (not 127.0.0.1) and set SO_BROADCAST;
    // the destination is h2's unicast address.
    await pySend(rx.port, payloads, { host: h2.address, prefix: h1.exec, broadcast: true });
    expect((await rx.waitFor(payloads.length)).map((d) => d.text)).toEqual(payloads);
    expect(await dump.done()).toBe(payloads.length);
  }, 60_000);

  afterAll(async () => {
    await lan?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the capture is Ethernet (link type 1) and reads as 10.77.0.1 -> 10.77.0.2', async () => {
    expect(readFileSync(file).readUInt32LE(20)).toBe(1);
    const got = [];
    for await (const p of readCapture(file)) got.push([p.from.address, p.to.address, p.to.port, p.data.toString()]);
    expect(got).toEqual(payloads.map((p) => ['10.77.0.1', '10.77.0.2', receiverPort, p]));
  });

  it('replays into udpkit listen on loopback: same payloads, same order, all accounted for', async () => {
    expect(await replayAll(file, await listener(), payloads.length)).toEqual(payloads);
  });
});
