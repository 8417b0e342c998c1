// Writes docs/bench-chart-example.svg (the README's bench chart) from a real run on loopback:
// `udpkit bench --server` in a child process, the page's bench runner (dist/ui/bench-run.js,
// the library's bench client with its once-a-second progress) against it, and meanwhile an
// echo every 20 ms from a socket of its own, timed here: the delay per interval (median) and
// the round-trip histogram. The bench client on main measures round trips only after the test,
// so these pings are what shows delay under load. Run after `npm run build`:
//   node scripts/bench-chart-example.mjs [seconds] [rate] [length]
// Prints the numbers it charted as one JSON object on stdout.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { benchChartSvg } from '../dist/format/bench-chart.js';
import { decodeBenchFrame, encodeBenchFrame } from '../dist/protocol/bench-frames.js';
import { BenchRuns } from '../dist/ui/bench-run.js';

const [seconds = 10, rate = 20000, length = 1200] = process.argv.slice(2).map(Number);
const PING_MS = 20;
const BIN_US = 10;

const server = spawn(process.execPath, ['dist/app/udpkit.cjs', 'bench', '--server', '--bind', '127.0.0.1', '-p', '0', '--once', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
const port = await new Promise((resolve, reject) => {
  let err = '';
  server.stderr.on('data', (b) => {
    err += b;
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
    if (m) resolve(Number(m[1]));
  });
  server.once('exit', () => reject(new Error(`bench server exited: ${err}`)));
});

// The pinger: one echo request every PING_MS, each timed from send to reply.
const session = randomBytes(8).readBigUInt64BE();
const pings = []; // { atS, rttUs }
const sentAt = new Map();
const socket = dgram.createSocket('udp4');
await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
socket.on('message', (msg) => {
  const now = performance.now();
  const f = decodeBenchFrame(msg);
  if (f?.kind !== 'echo-reply' || f.session !== session) return;
  const at = sentAt.get(f.seq);
  if (at === undefined) return;
  sentAt.delete(f.seq);
  pings.push({ atS: (at - start) / 1000, rttUs: (now - at) * 1000 });
});
let seq = 0;
const start = performance.now();
const pinger = setInterval(() => {
  sentAt.set(seq, performance.now());
  socket.send(encodeBenchFrame({ kind: 'echo-request', session, seq: seq++, sentAt: 0, length: 64 }), port, '127.0.0.1');
}, PING_MS);

const runs = new BenchRuns();
runs.start({ loopback: false, host: '127.0.0.1', port, durationMs: seconds * 1000, rate, length, rtt: false });
while (runs.status().state === 'running') await new Promise((resolve) => setTimeout(resolve, 100));
clearInterval(pinger);
socket.close();
server.kill('SIGTERM');
const run = runs.status();
if (run.state !== 'done') throw new Error(`the bench run ${run.state}: ${run.error}`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? undefined : s[Math.floor(s.length / 2)];
};
const intervals = run.intervals.map((i) => {
  const delay = median(pings.filter((p) => p.atS >= i.startS && p.atS < i.endS).map((p) => p.rttUs));
  return { startS: i.startS, endS: i.endS, mbps: i.mbps, lossPercent: i.lossPercent, ...(delay !== undefined ? { delayMs: delay / 1000 } : {}) };
});
// Bins of BIN_US up to the 99th percentile: one bin as wide as the slowest 1% would squeeze
// the rest into a few pixels, so those are counted in the title instead.
const rtts = pings.map((p) => p.rttUs).sort((a, b) => a - b);
const lo = Math.floor(rtts[0] / BIN_US) * BIN_US;
const p99 = Math.ceil(rtts[Math.floor(rtts.length * 0.99)] / BIN_US) * BIN_US;
const histogram = [];
for (let from = lo; from < p99; from += BIN_US) histogram.push({ fromUs: from, toUs: from + BIN_US, count: 0 });
let slower = 0;
for (const r of rtts) {
  if (r >= p99) slower++;
  else histogram[Math.floor((r - lo) / BIN_US)].count++;
}

const r = run.report;
const title = `udpkit bench on loopback: ${length} B at ${rate}/s; an echo every ${PING_MS} ms (${slower} of ${rtts.length} over ${p99} µs not drawn)`;
writeFileSync('docs/bench-chart-example.svg', benchChartSvg({ title, intervals, histogram }));
console.log(JSON.stringify({ title, sent: r.sent, received: r.received, lost: r.lost, receivedMbps: r.receivedMbps, pings: rtts.length, pingsSent: seq, notDrawn: slower, p50Us: median(rtts), maxUs: rtts[rtts.length - 1], intervals, histogram }));
