// 13. Pacing: `udpkit bench` at 100,000 datagrams/s (64 B, 3 s, loopback) against `iperf3 -u` at
// the same rate (-l 64 -b 51.2M: iperf3's -b counts UDP payload bits, 100,000 x 64 x 8). Both run
// in a private network namespace, and one tcpdump on its loopback stamps every test datagram
// (kernel time, nanoseconds) as it leaves the sender: the same meter for both tools. From those
// stamps: the achieved rate and the coefficient of variation (stddev / mean) of the gaps. udpkit
// also reports its own view (the gaps its clock saw between sends).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openNetns } from '../lib/netns.mjs';
import { run as exec, start } from '../lib/procs.mjs';
import { fixed, int, median, pct, rate } from '../lib/stats.mjs';

const RATE = 100_000;
const LEN = 64;
const PORT = 5201;

export const name = 'Pacing';

/** Gaps between the packets of a classic pcap with nanosecond stamps (magic a1b23c4d). */
export function gapsOfPcap(bytes) {
  const magic = bytes.readUInt32LE(0);
  const nano = magic === 0xa1b23c4d;
  if (!nano && magic !== 0xa1b2c3d4) throw new Error(`not a classic little-endian pcap (magic ${magic.toString(16)})`);
  const stamps = [];
  for (let at = 24; at + 16 <= bytes.length; ) {
    const sec = bytes.readUInt32LE(at);
    const frac = bytes.readUInt32LE(at + 4);
    const caplen = bytes.readUInt32LE(at + 8);
    stamps.push(sec * 1e9 + (nano ? frac : frac * 1000));
    at += 16 + caplen;
  }
  return stamps;
}

/**
 * Count, achieved rate (over first to last), gap mean (µs) and CV of stamps in ns, and the
 * share of gaps within half a nominal gap of it (`evenShare`): the CV is swayed by a few long
 * stalls (a descheduled sender), this share shows how the rest were spaced.
 */
export function gapStats(stamps, nominalNs) {
  const n = stamps.length;
  if (n < 2) return { packets: n, rate: NaN, meanUs: NaN, cv: NaN, evenShare: NaN };
  let sum = 0;
  let sq = 0;
  let even = 0;
  for (let i = 1; i < n; i++) {
    const g = stamps[i] - stamps[i - 1];
    sum += g;
    sq += g * g;
    if (Math.abs(g - nominalNs) <= nominalNs / 2) even++;
  }
  const mean = sum / (n - 1);
  const sd = Math.sqrt(Math.max(0, sq / (n - 1) - mean * mean));
  return { packets: n, rate: ((n - 1) * 1e9) / (stamps[n - 1] - stamps[0]), meanUs: mean / 1000, cv: sd / mean, evenShare: even / (n - 1) };
}

/**
 * Runs `client` (after `server`, if any, is ready) while tcpdump records datagrams of LEN bytes
 * to PORT on the namespace's loopback; returns the stamps' statistics and the client's output.
 */
async function measured(ctx, ns, label, { server, ready, client }) {
  const file = join(ctx.tmpDir, `pacing-${label}-${Date.now()}.pcap`);
  // UDP length LEN + 8: test datagrams only, no control frames; -B: 64 MiB of capture buffer.
  const filter = `udp and dst port ${PORT} and udp[4:2] = ${LEN + 8}`;
  const dump = start(...ns.wrap('tcpdump', ['-i', 'lo', '-n', '-B', '65536', '-s', '96', '--time-stamp-precision=nano', '-w', file, filter]), { timeoutMs: 60_000 });
  const srv = server && start(...ns.wrap(server[0], server.slice(1)), { timeoutMs: 60_000 });
  try {
    await dump.waitFor('stderr', /listening on/);
    if (srv) await srv.waitFor(ready.stream, ready.re);
    const c = await exec(...ns.wrap(client[0], client.slice(1)), { timeoutMs: 60_000 });
    if (c.code !== 0) throw new Error(`${label} exited ${c.code}: ${c.stderr.slice(-400)}`);
    await sleep(200);
    dump.signalGroup('SIGINT');
    const d = await dump.exited;
    const dropped = Number(/(\d+) packets? dropped by kernel/.exec(d.stderr)?.[1] ?? NaN);
    return { ...gapStats(gapsOfPcap(readFileSync(file)), 1e9 / RATE), dropped, stdout: c.stdout };
  } finally {
    srv?.signalGroup('SIGKILL');
    dump.signalGroup('SIGKILL');
    await exec('rm', ['-f', file]);
  }
}

function udpkitRun(ctx, ns, seconds) {
  return measured(ctx, ns, 'udpkit', {
    server: ['node', ctx.udpkit, 'bench', '--server', '-p', String(PORT), '--bind', '127.0.0.1', '--once'],
    ready: { stream: 'stderr', re: /listening on/ },
    client: ['node', ctx.udpkit, 'bench', `127.0.0.1:${PORT}`, '-l', String(LEN), '--rate', String(RATE), '-t', String(seconds), '--json'],
  }).then((r) => {
    const j = JSON.parse(r.stdout.trim().split('\n').pop());
    return { ...r, self: { sent: j.sent, rate: j.sentPerSecond, cv: j.gaps.cv, lost: j.lost } };
  });
}

function iperfRun(ctx, ns, seconds) {
  return measured(ctx, ns, 'iperf3', {
    server: ['iperf3', '-s', '-1', '-p', String(PORT), '--forceflush'],
    ready: { stream: 'stdout', re: /Server listening/ },
    client: ['iperf3', '-u', '-c', '127.0.0.1', '-p', String(PORT), '-l', String(LEN), '-b', String(RATE * LEN * 8), '-t', String(seconds), '--json'],
  }).then((r) => {
    const j = JSON.parse(r.stdout);
    if (j.error) throw new Error(`iperf3: ${j.error}`);
    const s = j.end.sum ?? j.end.sum_sent;
    return { ...r, self: { sent: s.packets, rate: s.packets / s.seconds, cv: NaN, lost: s.lost_packets } };
  });
}

export async function run(ctx) {
  const seconds = ctx.quick ? 1 : 3;
  const ns = await openNetns(120);
  if (!ns) throw new Error('pacing needs a private network namespace (unshare -n) for tcpdump on its loopback');
  const res = { udpkit: [], iperf3: [] };
  try {
    for (let rep = 0; rep < ctx.runs; rep++) {
      for (const [tool, fn] of [['iperf3', iperfRun], ['udpkit', udpkitRun]]) {
        const r = await fn(ctx, ns, seconds);
        res[tool].push(r);
        ctx.log(`[13 pacing ${rep * 2 + (tool === 'udpkit' ? 2 : 1)}/${ctx.runs * 2}] ${tool}: ${int(r.packets)} captured, ${rate(r.rate)}/s, gap CV ${fixed(r.cv, 3)}, ${pct(r.evenShare)} of gaps 5-15 µs (tcpdump dropped ${r.dropped})`);
      }
    }
  } finally {
    ns.close();
  }
  const row = (tool) => {
    const rs = res[tool];
    return [
      tool, int(median(rs.map((r) => r.packets))), rate(median(rs.map((r) => r.rate))), fixed(median(rs.map((r) => r.meanUs)), 2),
      fixed(median(rs.map((r) => r.cv)), 3), pct(median(rs.map((r) => r.evenShare))), fixed(median(rs.map((r) => r.self.cv)), 3), rate(median(rs.map((r) => r.self.rate))),
      int(Math.max(...rs.map((r) => r.dropped))),
    ];
  };
  const cvU = median(res.udpkit.map((r) => r.cv));
  const cvI = median(res.iperf3.map((r) => r.cv));
  const rateU = median(res.udpkit.map((r) => r.rate));
  return {
    id: 13,
    title: `Pacing (${int(RATE)} datagrams/s of ${LEN} B for ${seconds} s on loopback, gaps stamped by one tcpdump)`,
    header: ['tool', 'datagrams captured (median)', 'achieved rate/s (capture)', 'mean gap µs', 'gap CV (capture)', 'gaps 5-15 µs (capture)', 'gap CV (own view)', 'rate/s (own view)', 'tcpdump dropped (worst)'],
    rows: [row('udpkit'), row('iperf3')],
    targets: [
      {
        what: `paced ${rate(RATE)}/s: udpkit's gap CV below iperf3's`,
        measured: fixed(cvU, 3),
        reference: `iperf3 ${fixed(cvI, 3)}`,
        ratio: cvU / cvI,
        needed: '< 1x',
        pass: cvU < cvI,
      },
      {
        what: `paced ${rate(RATE)}/s: udpkit achieves the rate`,
        measured: `${rate(rateU)}/s`,
        reference: `${rate(RATE)}/s`,
        ratio: rateU / RATE,
        needed: '>= 0.95x',
        pass: rateU >= 0.95 * RATE,
      },
    ],
    limits: [],
    notes: [
      'tcpdump runs in the namespace of both tools and stamps each test datagram (UDP length 72: control frames left out) on the loopback as it is sent; "gap CV" is the standard deviation of the gaps between consecutive stamps over their mean, so 0 is perfectly even; a few long stalls (a sender descheduled on a busy machine) weigh heavily in it, so the share of gaps within half a nominal gap (5 to 15 µs) is shown too. "Own view" is what the tool reports itself: udpkit the gaps its clock saw between sends, iperf3 nothing comparable (n/a).',
      'iperf3 paces with a timer (by default every 1000 µs, --pacing-timer) and sends what is due in a burst; udpkit polls a nanosecond clock and sends one datagram at a time (--burst 1), catching up at twice the rate after a stall.',
    ],
    commands: [
      `tcpdump -i lo -n -B 65536 -s 96 --time-stamp-precision=nano -w FILE 'udp and dst port ${PORT} and udp[4:2] = ${LEN + 8}'`,
      `${ctx.udpkitShown} bench --server -p ${PORT} --bind 127.0.0.1 --once`,
      `${ctx.udpkitShown} bench 127.0.0.1:${PORT} -l ${LEN} --rate ${RATE} -t ${seconds} --json`,
      `iperf3 -s -1 -p ${PORT}`,
      `iperf3 -u -c 127.0.0.1 -p ${PORT} -l ${LEN} -b ${RATE * LEN * 8} -t ${seconds} --json`,
    ],
  };
}
