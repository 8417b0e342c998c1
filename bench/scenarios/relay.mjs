// 11. relay: the blast of section 1 (udp-blast, 64 B text, full speed) into plain `udpkit listen`
// and through `udpkit relay` with no impairment into the C sink, interleaved, medians of the runs;
// then the same at a paced 100,000 datagrams/s (reported). Target of issue 15: at full speed the
// relay forwards >= 0.8x what udpkit listen receives from the same blast.
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
/** The paced blasts: half as many, at this rate (0: full speed for the target). */
const PACED = { count: 200_000, rate: 100_000 };
const LISTEN = 'udpkit listen';
const RELAY = 'udpkit relay → C sink';

export const name = 'Relay forwarding rate';

let serial = 0;

/** One blast through `udpkit relay` (no impairment) into the C sink; the counts of each hop. */
async function relayTest(ctx, count, blastRate) {
  const sinkPort = await freePort();
  const sink = start(ctx.bins['udp-sink'], [String(sinkPort), '1000'], { timeoutMs: 150_000 });
  const timeFile = join(ctx.tmpDir, `relay-time-${serial++}.txt`);
  const relay = start(...timed(timeFile, 'node', [ctx.udpkit, 'relay', '-p', '0', '--bind', '127.0.0.1', '--to', `127.0.0.1:${sinkPort}`]), { timeoutMs: 150_000 });
  try {
    await sink.waitFor('stderr', /ready/);
    const port = Number((await relay.waitFor('stderr', /listening on [^;]*?:(\d+)\/udp/))[1]);
    const pid = await waitChild(relay.pid);
    const atReady = cpuOf(pid);
    const blast = await exec(ctx.bins['udp-blast'], blastArgs({ port, count, size: SIZE, kind: 'text', rate: blastRate }), { timeoutMs: 120_000 });
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
      rate: blastRate,
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
  const paced = ctx.scale(PACED.count);
  const results = [];
  const total = ctx.runs * 4;
  let k = 0;
  const listenReceiver = { argv: () => ['node', [ctx.udpkit, 'listen', '-p', '0', '--no-stop-word']], ready: 'listening', count: 'summary' };
  for (let rep = 0; rep < ctx.runs; rep++) {
    for (const [n, blastRate] of [[count, 0], [paced, PACED.rate]]) {
      const plain = await receiveTest(ctx, LISTEN, { count: n, size: SIZE, kind: 'text', rate: blastRate, receiver: listenReceiver });
      plain.rate = blastRate;
      plain.cpuUs = plain.cpu ? ((plain.cpu.user + plain.cpu.sys) * 1e6) / Math.max(plain.received, 1) : NaN;
      plain.rssMb = plain.time?.rssMb;
      results.push(plain);
      ctx.log(`[11 relay ${++k}/${total}] ${LISTEN} at ${blastRate || 'full speed'}: ${int(plain.received)} of ${int(plain.sent)}, kernel dropped ${int(plain.drops)}`);
      const r = await relayTest(ctx, n, blastRate);
      results.push(r);
      ctx.log(`[11 relay ${++k}/${total}] ${RELAY} at ${blastRate || 'full speed'}: relay read ${int(r.relayReceived)} of ${int(r.sent)} (kernel dropped ${int(r.relayKernel)}), forwarded ${int(r.forwarded)}, sink received ${int(r.received)} (kernel dropped ${int(r.sinkDrops)})`);
    }
  }
  const of = (which, blastRate) => results.filter((r) => r.name === which && r.rate === blastRate);
  const fig = (rs) => ({
    received: median(rs.map((r) => r.received)),
    sent: median(rs.map((r) => r.sent)),
    perSecond: median(rs.map((r) => r.received / r.blastSeconds)),
    cpuUs: median(rs.map((r) => r.cpuUs)),
    rssMb: median(rs.map((r) => r.rssMb)),
    blastRate: median(rs.map((r) => r.sent / r.blastSeconds)),
  });
  const relayRuns = results.filter((r) => r.name === RELAY);
  const accounted = relayRuns.every((r) => r.relayReceived + r.relayKernel === r.sent && r.received + r.sinkDrops === r.forwarded);
  const rows = [];
  for (const blastRate of [0, PACED.rate]) {
    const at = blastRate ? `paced ${rate(blastRate)}/s` : 'full speed';
    const p = fig(of(LISTEN, blastRate));
    const q = fig(of(RELAY, blastRate));
    const rr = of(RELAY, blastRate);
    rows.push([at, LISTEN, int(p.received), pct(p.received / p.sent), `${int(median(of(LISTEN, blastRate).map((r) => r.drops)))} (listen's socket)`, rate(p.perSecond), fixed(p.cpuUs, 2), fixed(p.rssMb, 0), rate(p.blastRate)]);
    rows.push([at, RELAY, int(q.received), pct(q.received / q.sent), `${int(median(rr.map((r) => r.relayKernel)))} (relay's socket) + ${int(median(rr.map((r) => r.sinkDrops)))} (sink's)`, rate(q.perSecond), fixed(q.cpuUs, 2), fixed(q.rssMb, 0), rate(q.blastRate)]);
  }
  const plain = fig(of(LISTEN, 0));
  const relayed = fig(of(RELAY, 0));
  const pacedRatio = ratio(fig(of(RELAY, PACED.rate)).received, fig(of(LISTEN, PACED.rate)).received);
  const r = ratio(relayed.received, plain.received);
  return {
    id: 11,
    title: `Relay: forwarding with no impairment under a blast (${int(count)} datagrams of ${SIZE} B from udp-blast at full speed, then ${int(paced)} at ${rate(PACED.rate)}/s)`,
    tables: [{
      title: 'udpkit listen, and udpkit relay into the C sink, medians of the runs',
      header: ['blast', 'receiver', 'received', '% of sent', 'kernel dropped', 'per second of blast', 'CPU µs/datagram', 'RSS MB', 'blast rate/s'],
      rows,
    }],
    targets: [
      { what: `relay forwarded (received by the C sink) vs udpkit listen received, ${SIZE} B`, measured: int(relayed.received), reference: int(plain.received), ratio: r, needed: '>= 0.80x', pass: Number.isFinite(r) ? r >= 0.8 : undefined },
      { what: `relay forwarded vs udpkit listen received, ${SIZE} B, blast paced at ${rate(PACED.rate)}/s`, measured: int(fig(of(RELAY, PACED.rate)).received), reference: int(fig(of(LISTEN, PACED.rate)).received), ratio: pacedRatio, needed: 'none (reported)' },
      { what: 'relay runs accounted for: sent = relay read + its kernel drops; forwarded = sink received + its kernel drops', measured: accounted ? 'all' : 'not all', reference: 'all', ratio: NaN, needed: 'all', pass: accounted },
    ],
    limits: Number.isFinite(r) && r < 0.8 ? [
      `**Full speed**: the relay used ${fixed(relayed.cpuUs, 2)} µs of CPU per datagram it read, against listen's ${fixed(plain.cpuUs, 2)} µs per datagram received. ` +
        'A forward is a receive and a send; on loopback the send (sendmmsg, up to 64 a call) carries each datagram through the kernel into the sink\'s socket inside the sender\'s syscall, so it costs several times the receive, and the blast, the relay and the sink share the machine\'s cores. What the relay cannot read in time the kernel drops at its socket (counted above).',
    ] : [],
    notes: [
      '`udpkit listen` prints text lines to a pipe into `wc -c`, as in section 1. `udpkit relay` has no impairment and forwards to the C sink (bench/c/udp-sink.c: recvmmsg, 8 MB buffer), which counts and stops itself after a quiet second; the relay is then stopped with SIGINT and prints its counts.',
      'CPU µs/datagram: the listener\'s or the relay\'s user + system time after it was ready, over the datagrams it received (as in section 1). The relay receives and sends each datagram.',
    ],
    commands: [
      `${ctx.udpkitShown} listen -p 0 --no-stop-word | wc -c`,
      'bench/out/udp-sink SINKPORT 1000',
      `${ctx.udpkitShown} relay -p 0 --bind 127.0.0.1 --to 127.0.0.1:SINKPORT`,
      `bench/out/udp-blast -k text -s 1 127.0.0.1 PORT ${count} ${SIZE}     # full speed`,
      `bench/out/udp-blast -k text -s 1 127.0.0.1 PORT ${paced} ${SIZE} ${PACED.rate}`,
    ],
  };
}
