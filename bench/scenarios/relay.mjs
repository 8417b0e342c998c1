// 11. relay: the blast of section 1 (udp-blast, 64 B text, full speed) into plain `udpkit listen`
// and through `udpkit relay` with no impairment into the C sink, interleaved, medians of the runs.
// Target of issue 15: the relay forwards >= 0.8x what udpkit listen receives from the same blast.
// Each relay run is accounted for: sent = relay received + its kernel drops, and relay forwarded =
// sink received + the sink's kernel drops.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { blastArgs, receiveTest } from '../lib/receive.mjs';
import { freePort } from '../lib/kernel.mjs';
import { cpuOf, readTime, run as exec, signalPid, start, timed, waitChild } from '../lib/procs.mjs';
import { fixed, int, median, pct, rate, ratio } from '../lib/stats.mjs';

const SIZE = 64;
const COUNT = 400_000;
const LISTEN = 'udpkit listen';
const RELAY = 'udpkit relay → C sink';

export const name = 'Relay forwarding rate';

let serial = 0;

/** One blast through `udpkit relay` (no impairment) into the C sink; the counts of each hop. */
async function relayTest(ctx, count) {
  const sinkPort = await freePort();
  const sink = start(ctx.bins['udp-sink'], [String(sinkPort), '1000'], { timeoutMs: 150_000 });
  const timeFile = join(ctx.tmpDir, `relay-time-${serial++}.txt`);
  const relay = start(...timed(timeFile, 'node', [ctx.udpkit, 'relay', '-p', '0', '--bind', '127.0.0.1', '--to', `127.0.0.1:${sinkPort}`]), { timeoutMs: 150_000 });
  try {
    await sink.waitFor('stderr', /ready/);
    const port = Number((await relay.waitFor('stderr', /listening on [^;]*?:(\d+)\/udp/))[1]);
    const pid = await waitChild(relay.pid);
    const atReady = cpuOf(pid);
    const blast = await exec(ctx.bins['udp-blast'], blastArgs({ port, count, size: SIZE, kind: 'text' }), { timeoutMs: 120_000 });
    const m = blast.stdout.match(/sent (\d+) in ([\d.]+) seconds/);
    if (!m) throw new Error(`udp-blast failed: ${blast.stderr || blast.stdout}`);
    // The sink stops itself after a quiet second.
    const sinkDone = await Promise.race([sink.exited, sleep(30_000).then(() => undefined)]);
    if (!sinkDone) throw new Error('the C sink did not stop within 30 s of the blast');
    const s = sinkDone.stdout.match(/received (\d+) bytes (\d+) drops (\d+)/);
    if (!s) throw new Error(`udp-sink printed no summary: ${sinkDone.stdout}${sinkDone.stderr}`);
    signalPid(pid, 'SIGINT');
    const relayDone = await Promise.race([relay.exited, sleep(15_000).then(() => undefined)]);
    if (!relayDone) throw new Error('udpkit relay did not stop within 15 s of SIGINT');
    const up = relayDone.stderr.match(/up: received (\d+), forwarded (\d+),.*?; clients \d+; kernel dropped (\d+)/);
    if (!up) throw new Error(`udpkit relay printed no summary: ${relayDone.stderr.slice(-400)}`);
    const time = readTime(timeFile);
    const cpu = time && atReady ? { user: Math.max(0, time.user - atReady.user), sys: Math.max(0, time.sys - atReady.sys) } : undefined;
    const sinkReceived = Number(s[1]);
    return {
      name: RELAY,
      sent: Number(m[1]),
      blastSeconds: Number(m[2]),
      relayReceived: Number(up[1]),
      forwarded: Number(up[2]),
      relayKernel: Number(up[3]),
      received: sinkReceived,
      sinkDrops: Number(s[3]),
      cpuUs: cpu ? ((cpu.user + cpu.sys) * 1e6) / Math.max(Number(up[1]), 1) : NaN,
      rssMb: time?.rssMb,
    };
  } finally {
    sink.signalGroup('SIGKILL');
    relay.signalGroup('SIGKILL');
  }
}

export async function run(ctx) {
  const count = ctx.scale(COUNT);
  const results = [];
  const total = ctx.runs * 2;
  let k = 0;
  for (let rep = 0; rep < ctx.runs; rep++) {
    const plain = await receiveTest(ctx, LISTEN, { count, size: SIZE, kind: 'text', receiver: { argv: () => ['node', [ctx.udpkit, 'listen', '-p', '0', '--no-stop-word']], ready: 'listening', count: 'summary' } });
    plain.cpuUs = plain.cpu ? ((plain.cpu.user + plain.cpu.sys) * 1e6) / Math.max(plain.received, 1) : NaN;
    plain.rssMb = plain.time?.rssMb;
    results.push(plain);
    ctx.log(`[11 relay ${++k}/${total}] ${LISTEN}: ${int(plain.received)} of ${int(plain.sent)}, kernel dropped ${int(plain.drops)}`);
    const r = await relayTest(ctx, count);
    results.push(r);
    ctx.log(`[11 relay ${++k}/${total}] ${RELAY}: relay read ${int(r.relayReceived)} of ${int(r.sent)} (kernel dropped ${int(r.relayKernel)}), forwarded ${int(r.forwarded)}, sink received ${int(r.received)} (kernel dropped ${int(r.sinkDrops)})`);
  }
  const of = (which) => results.filter((r) => r.name === which);
  const fig = (rs) => ({
    received: median(rs.map((r) => r.received)),
    sent: median(rs.map((r) => r.sent)),
    perSecond: median(rs.map((r) => r.received / r.blastSeconds)),
    cpuUs: median(rs.map((r) => r.cpuUs)),
    rssMb: median(rs.map((r) => r.rssMb)),
    blastRate: median(rs.map((r) => r.sent / r.blastSeconds)),
  });
  const plain = fig(of(LISTEN));
  const relayed = fig(of(RELAY));
  const relayRuns = of(RELAY);
  const accounted = relayRuns.every((r) => r.relayReceived + r.relayKernel === r.sent && r.received + r.sinkDrops === r.forwarded);
  const rows = [
    [LISTEN, int(plain.received), pct(plain.received / plain.sent), `${int(median(of(LISTEN).map((r) => r.drops)))} (listen's socket)`, rate(plain.perSecond), fixed(plain.cpuUs, 2), fixed(plain.rssMb, 0), rate(plain.blastRate)],
    [RELAY, int(relayed.received), pct(relayed.received / relayed.sent),
      `${int(median(relayRuns.map((r) => r.relayKernel)))} (relay's socket) + ${int(median(relayRuns.map((r) => r.sinkDrops)))} (sink's)`,
      rate(relayed.perSecond), fixed(relayed.cpuUs, 2), fixed(relayed.rssMb, 0), rate(relayed.blastRate)],
  ];
  const r = ratio(relayed.received, plain.received);
  return {
    id: 11,
    title: `Relay: forwarding with no impairment under a blast (${int(count)} datagrams of ${SIZE} B from udp-blast at full speed)`,
    tables: [{
      title: 'udpkit listen, and udpkit relay into the C sink, medians of the runs',
      header: ['receiver', 'received', '% of sent', 'kernel dropped', 'per second of blast', 'CPU µs/datagram', 'RSS MB', 'blast rate/s'],
      rows,
    }],
    targets: [
      { what: `relay forwarded (received by the C sink) vs udpkit listen received, ${SIZE} B`, measured: int(relayed.received), reference: int(plain.received), ratio: r, needed: '>= 0.80x', pass: Number.isFinite(r) ? r >= 0.8 : undefined },
      { what: 'relay runs accounted for: sent = relay read + its kernel drops; forwarded = sink received + its kernel drops', measured: accounted ? 'all' : 'not all', reference: 'all', ratio: NaN, needed: 'all', pass: accounted },
    ],
    limits: [],
    notes: [
      '`udpkit listen` prints text lines to a pipe into `wc -c`, as in section 1. `udpkit relay` has no impairment and forwards to the C sink (bench/c/udp-sink.c: recvmmsg, 8 MB buffer), which counts and stops itself after a quiet second; the relay is then stopped with SIGINT and prints its counts.',
      'CPU µs/datagram: the listener\'s or the relay\'s user + system time after it was ready, over the datagrams it received (as in section 1). The relay receives and sends each datagram.',
    ],
    commands: [
      `${ctx.udpkitShown} listen -p 0 --no-stop-word | wc -c`,
      'bench/out/udp-sink SINKPORT 1000',
      `${ctx.udpkitShown} relay -p 0 --bind 127.0.0.1 --to 127.0.0.1:SINKPORT`,
      `bench/out/udp-blast -k text -s 1 127.0.0.1 PORT ${count} ${SIZE}`,
    ],
  };
}
