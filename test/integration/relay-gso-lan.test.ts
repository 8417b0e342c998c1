/**
 * `udpkit relay` sends runs of same-size datagrams with UDP GSO (native/send.cc): the kernel
 * walks its stack once per run and splits it into the same datagrams. Checked on a namespace
 * LAN, where a relay host's UDP counters (/proc/net/snmp, per namespace) tell how many sends its
 * kernel made: with GSO fewer than the datagrams forwarded, without (UDPKIT_GSO=0) exactly as
 * many. Either way the receiver, Python's socket module on a third host, gets every datagram,
 * byte for byte and in order, including empty and one-byte ones, a run ended by a shorter one,
 * and 2,000-byte datagrams over the LAN's 1,500-byte MTU, which the kernel refuses to segment
 * (EINVAL): the relay then sends one by one, and the kernel fragments them as usual.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native/binding.js';
import { BIN } from '../helpers/cli.js';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';

const support = probeNetns();
// The relay segments only with the addon (the built CLI loads it as this process does; the
// node:dgram pass runs with UDPKIT_NATIVE=0, and then every datagram is a send of its own).
const segments = loadNative() !== undefined;

// Sizes in the order sent: runs of one size (longer than a 64-datagram batch), a run ended by a
// shorter datagram, empty and tiny ones, the largest that fits the MTU, then ones that do not.
const SIZES = [
  ...Array<number>(100).fill(64), 10, ...Array<number>(5).fill(64), 0, ...Array<number>(70).fill(1200), 1199, 1,
  ...Array<number>(40).fill(1472), ...Array<number>(20).fill(512), 3, ...Array<number>(30).fill(2000), ...Array<number>(10).fill(64),
];
const PAYLOADS = SIZES.map((n, i) => `${i}:`.padEnd(n, String.fromCharCode(97 + (i % 26))).slice(0, n));

// Sends PAYLOADS (built from SIZES the same way) as fast as it can, from one socket.
const SENDER = `
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i, n in enumerate(json.loads(sys.argv[3])):
    s.sendto(((str(i) + ':') + chr(97 + i % 26) * n)[:n].encode(), (sys.argv[1], int(sys.argv[2])))
`;

// Receives `count` datagrams (a socket buffer large enough for all of them), then prints them.
const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: root, in our own namespace
s.bind((sys.argv[1], 0))
print('bound', s.getsockname()[1], file=sys.stderr, flush=True)
s.settimeout(15)
got = []
try:
    while len(got) < int(sys.argv[2]):
        got.append(s.recv(65535).decode())
except socket.timeout:
    pass
print(json.dumps(got), flush=True)
`;

/** A counter of /proc/net/snmp in the host's namespace: `Udp` `OutDatagrams` counts sends, `Ip` `InDelivers` packets handed to UDP (after reassembly). */
async function snmp(lan: Lan, host: LanHost, proto: 'Ip' | 'Udp', name: string): Promise<number> {
  const child = lan.run(host, 'cat', ['/proc/net/snmp']);
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (text += s));
  await new Promise((resolve) => child.once('close', resolve));
  const [names, values] = text.split('\n').filter((l) => l.startsWith(`${proto}: `)).map((l) => l.split(/\s+/));
  return Number(values![names!.indexOf(name)]);
}

/** One relay run: the datagrams the receiver got and the sends the relay host's kernel made. */
async function relayOnce(lan: Lan, gso: boolean): Promise<{ got: string[]; sends: number; stats: { up: { forwarded: number } } }> {
  const [h1, h2, h3] = lan.hosts as [LanHost, LanHost, LanHost];
  const rx = lan.run(h3, 'python3', ['-c', RECEIVER, h3.address, String(PAYLOADS.length)]);
  let rxOut = '';
  let rxErr = '';
  rx.stdout!.setEncoding('utf8').on('data', (s: string) => (rxOut += s));
  rx.stderr!.setEncoding('utf8');
  const rxPort = await new Promise<number>((resolve, reject) => {
    rx.stderr!.on('data', (s: string) => {
      rxErr += s;
      const m = /^bound (\d+)$/m.exec(rxErr);
      if (m) resolve(Number(m[1]));
    });
    rx.once('close', () => reject(new Error(`receiver exited: ${rxErr}`)));
  });
  const relay = spawn('ip', ['netns', 'exec', h2.ns, process.execPath, BIN, 'relay', '-p', '0', '--to', `${h3.address}:${rxPort}`, '--json'], {
    env: { ...process.env, UDPKIT_GSO: gso ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  relay.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  relay.stderr.setEncoding('utf8');
  const relayPort = await new Promise<number>((resolve, reject) => {
    relay.stderr.on('data', (s: string) => {
      err += s;
      const m = /listening on \S*:(\d+)\/udp/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    relay.once('close', (code) => reject(new Error(`relay exited ${code}: ${err}`)));
  });
  const before = await snmp(lan, h2, 'Udp', 'OutDatagrams');
  const delivered = await snmp(lan, h2, 'Ip', 'InDelivers');
  // The relay is stopped while they arrive, so that it finds them all queued and reads them 64
  // at a time, as under load: runs to segment, whatever the machine's speed.
  relay.kill('SIGSTOP');
  const tx = lan.run(h1, 'python3', ['-c', SENDER, h2.address, String(relayPort), JSON.stringify(SIZES)]);
  expect(await new Promise((resolve) => tx.once('close', resolve))).toBe(0);
  const deadline = Date.now() + 10_000;
  // Queued at the relay's socket: every datagram handed to UDP in its namespace (nothing else runs there).
  while ((await snmp(lan, h2, 'Ip', 'InDelivers')) - delivered < PAYLOADS.length && Date.now() < deadline);
  relay.kill('SIGCONT');
  await new Promise((resolve) => rx.once('close', resolve));
  const after = await snmp(lan, h2, 'Udp', 'OutDatagrams');
  relay.kill('SIGINT');
  await new Promise((resolve) => relay.once('close', resolve));
  return { got: JSON.parse(rxOut) as string[], sends: after - before, stats: JSON.parse(out) as { up: { forwarded: number } } };
}

describe.skipIf(!support.ok)('relay: runs of datagrams sent with UDP GSO (namespace LAN)', () => {
  let lan: Lan;
  beforeAll(async () => {
    lan = await createLan(3);
  }, 60_000);
  afterAll(async () => {
    await lan?.destroy();
  });

  it(`with GSO: every datagram arrives as sent, in order, ${segments ? 'from fewer sends than datagrams' : 'one send each (node:dgram)'}`, async () => {
    const r = await relayOnce(lan, true);
    expect(r.got).toEqual(PAYLOADS);
    expect(r.stats.up.forwarded).toBe(PAYLOADS.length);
    // Read 64 at a time, the runs went as one send each (the 2,000-byte ones one by one):
    // 4 batches of 64-byte datagrams... 51 sends here.
    if (segments) expect(r.sends).toBeLessThan(PAYLOADS.length / 2);
    else expect(r.sends).toBe(PAYLOADS.length);
  }, 60_000);

  it('with UDPKIT_GSO=0: the same datagrams, one send each', async () => {
    const r = await relayOnce(lan, false);
    expect(r.got).toEqual(PAYLOADS);
    expect(r.stats.up.forwarded).toBe(PAYLOADS.length);
    expect(r.sends).toBe(PAYLOADS.length);
  }, 60_000);
});
