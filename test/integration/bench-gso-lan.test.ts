/**
 * `udpkit bench` unpaced hands its data frames to the kernel as runs to segment (UDP GSO,
 * DatagramSpans.gso): the client host's kernel then makes far fewer sends than datagrams, and
 * the server still counts each datagram. Checked between two namespace hosts, where the client
 * host's `Udp OutDatagrams` (/proc/net/snmp, per namespace) counts its sends; with
 * UDPKIT_GSO=0 (or without the addon) one send per datagram, and also for datagrams over the
 * LAN's MTU, whose runs the kernel refuses. Either way the server's count is the client's and
 * every datagram is accounted for.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native/binding.js';
import type { BenchReport } from '../../src/protocol/bench-report.js';
import type { BenchSessionSummary } from '../../src/protocol/bench-sessions.js';
import { expectAccounted } from '../helpers/bench-accounted.js';
import { BIN } from '../helpers/cli.js';
import { JsonLines, type JsonEvent } from '../helpers/json-lines.js';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';

const support = probeNetns();
if (!support.ok) console.warn(`SKIPPED bench GSO LAN tests: ${support.reason}`);
const segments = loadNative() !== undefined;

/** `Udp OutDatagrams` of the host's namespace: the sends its kernel made. */
async function udpSends(lan: Lan, host: LanHost): Promise<number> {
  const child = lan.run(host, 'cat', ['/proc/net/snmp']);
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (text += s));
  await new Promise((resolve) => child.once('close', resolve));
  const [names, values] = text.split('\n').filter((l) => l.startsWith('Udp: ')).map((l) => l.split(/\s+/));
  return Number(values![names!.indexOf('OutDatagrams')]);
}

describe.skipIf(!support.ok)('bench: unpaced data frames sent with UDP GSO (namespace LAN)', () => {
  let lan: Lan;
  let h1: LanHost, h2: LanHost;
  let server: JsonLines;
  let port: number;

  beforeAll(async () => {
    lan = await createLan(2);
    [h1, h2] = lan.hosts as [LanHost, LanHost];
    server = new JsonLines('server', lan.run(h2, process.execPath, [BIN, 'bench', '--server', '--port', '0', '--json']));
    port = Number((await server.waitForStderr(/listening on \S*:(\d+)\/udp/, 15_000))[1]);
  }, 60_000);
  afterAll(() => lan?.destroy(), 30_000);

  const run = async (gso: boolean, extra: readonly string[] = []): Promise<{ report: BenchReport; sends: number; served: BenchSessionSummary }> => {
    const before = await udpSends(lan, h1);
    const since = server.mark();
    const client = spawn('ip', ['netns', 'exec', h1.ns, process.execPath, BIN, 'bench', `${h2.address}:${port}`, '-t', '0.5', '--rate', '0', '--json', ...extra], {
      env: { ...process.env, UDPKIT_GSO: gso ? '1' : '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    client.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    client.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const code = await new Promise((resolve) => client.once('close', resolve));
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const sends = (await udpSends(lan, h1)) - before;
    const report = JSON.parse(out) as BenchReport;
    // The server's summaries are JSON lines without an `event` (JsonLines keeps them as text).
    const summaryOf = (e: JsonEvent): BenchSessionSummary | undefined => (typeof e['line'] === 'string' ? (JSON.parse(e['line']) as BenchSessionSummary) : undefined);
    const served = summaryOf(await server.waitFor((e) => summaryOf(e)?.id === report.session, 'session summary', { since, ms: 10_000 }))!;
    return { report, sends, served };
  };

  it(`unpaced: every datagram counted at both ends, ${segments ? 'from far fewer sends than datagrams' : 'one send each (node:dgram)'}`, async () => {
    const { report, sends, served } = await run(true);
    expectAccounted(report);
    expect(report.sent).toBeGreaterThan(10_000);
    expect(served).toMatchObject({ ended: 'finished', sent: report.sent, received: report.received });
    // Runs of 64 data frames, plus a few control frames: well under a tenth.
    if (segments) expect(sends).toBeLessThan(report.sent / 10);
    else expect(sends).toBeGreaterThanOrEqual(report.sent);
  }, 60_000);

  it('with UDPKIT_GSO=0: one send per datagram, the same accounting', async () => {
    const { report, sends, served } = await run(false);
    expectAccounted(report);
    expect(served).toMatchObject({ ended: 'finished', sent: report.sent, received: report.received });
    expect(sends).toBeGreaterThanOrEqual(report.sent);
  }, 60_000);

  it('datagrams over the MTU (2,000 B on a 1,500 B LAN): the kernel refuses the runs, each goes on its own, fragmented', async () => {
    const { report, sends, served } = await run(true, ['-l', '2000']);
    expectAccounted(report);
    expect(report.sent).toBeGreaterThan(1000);
    expect(served).toMatchObject({ ended: 'finished', sent: report.sent, received: report.received, length: 2000 });
    expect(sends).toBeGreaterThanOrEqual(report.sent);
  }, 60_000);
});
