// 3. Senders: udp-blast against `udpkit send` reading lines of 63 characters from a file, both
// into the C sink. Medians of runs of 2,000,000; then udpkit once with 10,000,000 for memory.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../lib/kernel.mjs';
import { readTime, start, timed } from '../lib/procs.mjs';
import { linesFile } from '../lib/setup.mjs';
import { cpuPerDatagram, cpuText, excessText } from '../lib/cpu.mjs';
import { fixed, int, max, median, pct, rate, ratio, times } from '../lib/stats.mjs';

const SIZE = 63;
let serial = 0;

async function sendTest(ctx, who, lines, file) {
  const port = await freePort();
  const sink = start(ctx.bins['udp-sink'], [String(port), '1000'], { timeoutMs: 200_000 });
  const timeFile = join(ctx.tmpDir, `send-${serial++}.txt`);
  let input;
  try {
    await sink.waitFor('stderr', /ready/);
    let sender;
    if (who === 'C') {
      sender = start(...timed(timeFile, ctx.bins['udp-blast'], ['127.0.0.1', String(port), String(lines), String(SIZE)]), { timeoutMs: 200_000 });
    } else {
      input = openSync(file, 'r');
      sender = start(...timed(timeFile, 'node', [ctx.udpkit, 'send', `127.0.0.1:${port}`]), { stdio: [input, 'pipe', 'pipe'], timeoutMs: 200_000 });
    }
    const done = await sender.exited;
    const m = who === 'C' ? done.stdout.match(/sent (\d+) in/) : done.stderr.match(/sent (\d+) datagrams?/);
    if (!m) throw new Error(`${who} sender printed no count (exit ${done.code}): ${done.stderr.slice(-400)}`);
    const sunk = await Promise.race([sink.exited, sleep(15_000).then(() => undefined)]);
    const s = sunk?.stdout.match(/received (\d+) bytes (\d+) drops (\d+)/);
    const time = readTime(timeFile);
    return {
      sent: Number(m[1]),
      received: s ? Number(s[1]) : NaN,
      drops: s ? Number(s[3]) : NaN,
      elapsed: time?.elapsed ?? NaN,
      rate: time ? Number(m[1]) / time.elapsed : NaN,
      time,
      n: Number(m[1]),
      rssMb: time?.rssMb ?? NaN,
    };
  } finally {
    if (input !== undefined) closeSync(input);
    sink.signalGroup('SIGKILL');
  }
}

export const name = 'Senders';

export async function run(ctx) {
  const small = ctx.scale(2_000_000);
  const big = ctx.scale(10_000_000);
  const smallFile = await linesFile(ctx.outDir, small, ctx.log);
  const bigFile = await linesFile(ctx.outDir, big, ctx.log);
  const res = { C: [], udpkit: [] };
  for (let rep = 0; rep < ctx.runs; rep++) {
    for (const who of ['C', 'udpkit']) {
      const r = await sendTest(ctx, who, small, smallFile);
      res[who].push(r);
      ctx.log(`[3 senders ${rep * 2 + (who === 'C' ? 1 : 2)}/${ctx.runs * 2}] ${who} ${int(small)}: ${rate(r.rate)}/s, RSS ${fixed(r.rssMb, 0)} MB`);
    }
  }
  const long = await sendTest(ctx, 'udpkit', big, bigFile);
  ctx.log(`[3 senders, once] udpkit ${int(big)}: ${rate(long.rate)}/s, RSS ${fixed(long.rssMb, 0)} MB, ${fixed(long.elapsed, 1)} s`);

  const fig = (rs) => ({
    rate: median(rs.map((r) => r.rate)),
    rssMb: median(rs.map((r) => r.rssMb)),
    cpu: cpuPerDatagram(rs),
    received: median(rs.map((r) => r.received / r.sent)),
    sent: median(rs.map((r) => r.sent)),
  });
  const c = fig(res.C);
  const u = fig(res.udpkit);
  const l = fig([long]);
  const row = (name, lines, f, runs) => [name, int(lines), runs, rate(f.rate), times(ratio(f.rate, c.rate)), fixed(f.cpu.total, 2), fixed(f.rssMb, 1), pct(f.received)];
  const peak = max([...res.udpkit.map((r) => r.rssMb), long.rssMb]);
  const t1 = { what: `sender: udpkit send datagrams/s vs udp-blast (${int(small)} lines)`, measured: rate(u.rate), reference: rate(c.rate), ratio: ratio(u.rate, c.rate), needed: '>= 0.60x' };
  t1.pass = t1.ratio >= 0.6;
  const t2 = { what: `sender: udpkit send peak RSS (up to ${int(big)} lines)`, measured: `${fixed(peak, 1)} MB`, reference: `${fixed(c.rssMb, 1)} MB (C)`, ratio: NaN, needed: '< 80 MB' };
  t2.pass = peak < 80;
  const limits = [];
  if (!t1.pass) {
    limits.push(
      `**Sender rate** (${times(t1.ratio)}): udpkit send reached ${rate(u.rate)}/s against udp-blast's ${rate(c.rate)}/s, the sink receiving ` +
      `${pct(u.received)}. Its CPU per datagram was ${cpuText(u.cpu)} against udp-blast's ${cpuText(c.cpu)}, start-up and reading the ` +
      `file included (on loopback both include the kernel delivering into the sink's socket). ${excessText(u.cpu, c.cpu, 'udp-blast')} ` +
      `udp-blast hands the kernel 64 datagrams per sendmmsg call.`,
    );
  }
  if (!t2.pass) {
    limits.push(
      `**Sender memory**: udpkit send peaked at ${fixed(peak, 1)} MB (median ${fixed(u.rssMb, 1)} MB with ${int(small)} lines, ${fixed(long.rssMb, 1)} MB with ${int(big)}). ` +
      (long.rssMb > u.rssMb * 1.5
        ? 'It grows with the input, so something is kept per line.'
        : 'It hardly grows with five times the input, so it is a fixed cost of the process, not a queue that grows with the lines.'),
    );
  }
  return {
    id: 3,
    title: 'Senders into the C sink (lines of 63 characters)',
    header: ['sender', 'datagrams', 'runs', 'datagrams/s', 'vs udp-blast', 'CPU µs/datagram', 'peak RSS MB', 'sink received'],
    rows: [row('udp-blast (C, sendmmsg)', small, c, ctx.runs), row('udpkit send < file', small, u, ctx.runs), row('udpkit send < file', big, l, 1)],
    targets: [t1, t2],
    limits,
    notes: ['datagrams/s is the sender\'s count over its wall time from GNU time (`%e`), start-up included; peak RSS is GNU time\'s `%M`.'],
    commands: [
      'bench/out/udp-sink PORT 1000',
      `/usr/bin/time -f %M bench/out/udp-blast 127.0.0.1 PORT ${small} ${SIZE}`,
      `/usr/bin/time -f %M ${ctx.udpkitShown} send 127.0.0.1:PORT < bench/out/lines-${small}.txt     # and lines-${big}.txt, once`,
    ],
  };
}
