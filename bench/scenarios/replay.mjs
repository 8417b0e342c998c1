// 9. Replay: `udpkit send --replay CAPTURE --speed 0` against `udpkit send < lines` of the same
// 1,000,000 payloads (63 bytes), both into the C sink, as the senders scenario measures them.
// Target: the replay reaches >= 0.8x the rate of the plain sender.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../lib/kernel.mjs';
import { captureOfLines } from '../lib/pcap-file.mjs';
import { readTime, start, timed } from '../lib/procs.mjs';
import { linesFile } from '../lib/setup.mjs';
import { fixed, int, median, pct, rate, ratio, times } from '../lib/stats.mjs';

const LINE = 64;
let serial = 0;

/** One run of `who` ('replay' or 'send') into a fresh sink: its count, wall time and what arrived. */
async function sendTest(ctx, who, files) {
  const port = await freePort();
  const sink = start(ctx.bins['udp-sink'], [String(port), '1000'], { timeoutMs: 200_000 });
  const timeFile = join(ctx.tmpDir, `replay-${serial++}.txt`);
  let input;
  try {
    await sink.waitFor('stderr', /ready/);
    let sender;
    if (who === 'replay') {
      sender = start(...timed(timeFile, 'node', [ctx.udpkit, 'send', '--replay', files.capture, '--speed', '0', `127.0.0.1:${port}`]), { timeoutMs: 200_000 });
    } else {
      input = openSync(files.lines, 'r');
      sender = start(...timed(timeFile, 'node', [ctx.udpkit, 'send', `127.0.0.1:${port}`]), { stdio: [input, 'pipe', 'pipe'], timeoutMs: 200_000 });
    }
    const done = await sender.exited;
    const m = who === 'replay' ? done.stderr.match(/replayed (\d+) of/) : done.stderr.match(/sent (\d+) datagrams?/);
    if (!m) throw new Error(`${who} printed no count (exit ${done.code}): ${done.stderr.slice(-400)}`);
    const sunk = await Promise.race([sink.exited, sleep(15_000).then(() => undefined)]);
    const s = sunk?.stdout.match(/received (\d+) bytes (\d+) drops (\d+)/);
    const time = readTime(timeFile);
    return { sent: Number(m[1]), received: s ? Number(s[1]) : NaN, rate: time ? Number(m[1]) / time.elapsed : NaN, rssMb: time?.rssMb ?? NaN };
  } finally {
    if (input !== undefined) closeSync(input);
    sink.signalGroup('SIGKILL');
  }
}

export const name = 'Replay';

export async function run(ctx) {
  const count = ctx.scale(1_000_000);
  const lines = await linesFile(ctx.outDir, count, ctx.log);
  const capture = await captureOfLines(ctx.outDir, lines, count, LINE, ctx.log);
  const res = { send: [], replay: [] };
  for (let rep = 0; rep < ctx.runs; rep++) {
    for (const who of ['send', 'replay']) {
      const r = await sendTest(ctx, who, { lines, capture });
      if (r.sent !== count) throw new Error(`${who} sent ${r.sent} of ${count}`);
      res[who].push(r);
      ctx.log(`[9 replay ${rep * 2 + (who === 'send' ? 1 : 2)}/${ctx.runs * 2}] ${who} ${int(count)}: ${rate(r.rate)}/s, RSS ${fixed(r.rssMb, 0)} MB`);
    }
  }
  const fig = (rs) => ({ rate: median(rs.map((r) => r.rate)), rssMb: median(rs.map((r) => r.rssMb)), received: median(rs.map((r) => r.received / r.sent)) });
  const s = fig(res.send);
  const p = fig(res.replay);
  const row = (label, f) => [label, int(count), ctx.runs, rate(f.rate), times(ratio(f.rate, s.rate)), fixed(f.rssMb, 1), pct(f.received)];
  const t1 = { what: `replay: udpkit send --replay --speed 0 datagrams/s vs udpkit send < lines (${int(count)})`, measured: rate(p.rate), reference: rate(s.rate), ratio: ratio(p.rate, s.rate), needed: '>= 0.80x' };
  t1.pass = t1.ratio >= 0.8;
  const limits = [];
  if (!t1.pass) {
    limits.push(`**Replay rate** (${times(t1.ratio)}): the replay reached ${rate(p.rate)}/s against ${rate(s.rate)}/s for the same payloads as lines; the capture file is ${fixed((24 + count * (16 + 28 + LINE - 1)) / count, 0)} bytes per payload against ${LINE} for a line.`);
  }
  return {
    id: 9,
    title: 'Replaying a capture into the C sink (payloads of 63 bytes)',
    header: ['sender', 'datagrams', 'runs', 'datagrams/s', 'vs udpkit send', 'peak RSS MB', 'sink received'],
    rows: [row('udpkit send < lines', s), row('udpkit send --replay --speed 0', p)],
    targets: [t1],
    limits,
    notes: ['datagrams/s is the sender\'s count over its wall time from GNU time (`%e`), start-up and reading the file included; the capture is classic pcap, raw IP, written by bench/lib/pcap-file.mjs.'],
    commands: [
      'bench/out/udp-sink PORT 1000',
      `/usr/bin/time -f %M ${ctx.udpkitShown} send 127.0.0.1:PORT < bench/out/lines-${count}.txt`,
      `/usr/bin/time -f %M ${ctx.udpkitShown} send --replay bench/out/lines-${count}.pcap --speed 0 127.0.0.1:PORT`,
    ],
  };
}
