// 6. Round trip: 1,000 sequential 64-byte echoes, C client and C server (udp-pingpong) against
// `udpkit bench --loopback --rtt`. Target: udpkit's p50 within 2x of C's.
import { freePort } from '../lib/kernel.mjs';
import { run as exec, start } from '../lib/procs.mjs';
import { fixed, median, ratio, times } from '../lib/stats.mjs';
import { hasBench } from './measure.mjs';

/** Runs `argv` on CPU `cpu` with taskset, or where the scheduler likes when `cpu` is undefined. */
function on(cpu, cmd, args) {
  return cpu === undefined ? [cmd, args] : ['taskset', ['-c', String(cpu), cmd, ...args]];
}

/** One C ping-pong; `pin`: [server CPU, client CPU], or none. */
async function pingpong(ctx, pin = []) {
  const port = await freePort();
  const server = start(...on(pin[0], ctx.bins['udp-pingpong'], ['server', String(port), '2000']), { timeoutMs: 60_000 });
  try {
    await server.waitFor('stderr', /ready/);
    const c = await exec(...on(pin[1], ctx.bins['udp-pingpong'], ['client', '127.0.0.1', String(port), '1000', '64']), { timeoutMs: 60_000 });
    const m = c.stdout.match(/p50 ([\d.]+) us p99 ([\d.]+) us .*lost (\d+)/);
    if (!m) throw new Error(`udp-pingpong client: ${c.stdout}${c.stderr}`);
    return { p50: Number(m[1]), p99: Number(m[2]), lost: Number(m[3]) };
  } finally {
    server.signalGroup('SIGKILL');
  }
}

async function udpkitRtt(ctx) {
  // A short, slow throughput phase first (the command always runs one), then the echoes.
  const c = await exec('node', [ctx.udpkit, 'bench', '--loopback', '--rtt', '-l', '64', '-t', '0.2', '--rate', '1000', '--json'], { timeoutMs: 60_000 });
  if (c.code !== 0) throw new Error(`udpkit bench --rtt exited ${c.code}: ${c.stderr.slice(-400)}`);
  const rtt = JSON.parse(c.stdout.trim().split('\n').pop()).rtt;
  if (!rtt) throw new Error('udpkit bench --rtt reported no rtt');
  return { p50: rtt.p50Us, p99: rtt.p99Us, lost: rtt.lost };
}

export const name = 'Round trip';

export async function run(ctx) {
  const available = await hasBench(ctx);
  const pinned = ctx.machine.nproc >= 2;
  const res = { C: [], udpkit: [], same: [], across: [] };
  for (let rep = 0; rep < ctx.runs; rep++) {
    res.C.push(await pingpong(ctx));
    if (pinned) {
      res.same.push(await pingpong(ctx, [0, 0]));
      res.across.push(await pingpong(ctx, [0, 1]));
    }
    if (available) res.udpkit.push(await udpkitRtt(ctx));
    ctx.log(`[6 rtt ${rep + 1}/${ctx.runs}] C p50 ${res.C.at(-1).p50} µs${available ? `, udpkit p50 ${res.udpkit.at(-1).p50} µs` : ''}`);
  }
  const fig = (rs) => ({ p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), lost: median(rs.map((r) => r.lost)) });
  const c = fig(res.C);
  const rows = [['udp-pingpong (C client, C server), reference', fixed(c.p50, 1), fixed(c.p99, 1), '1.00x', String(c.lost)]];
  const same = fig(res.same);
  const across = fig(res.across);
  if (pinned) {
    rows.push(['udp-pingpong, both on CPU 0 (taskset)', fixed(same.p50, 1), fixed(same.p99, 1), times(ratio(same.p50, c.p50)), String(same.lost)]);
    rows.push(['udp-pingpong, server CPU 0, client CPU 1', fixed(across.p50, 1), fixed(across.p99, 1), times(ratio(across.p50, c.p50)), String(across.lost)]);
  }
  const targets = [];
  const limits = [];
  if (!available) {
    rows.push(['udpkit bench --loopback --rtt', 'not built yet', '', '', '']);
    targets.push({ what: 'round trip: udpkit p50 vs C', measured: 'not built yet', reference: `${fixed(c.p50, 1)} µs`, ratio: NaN, needed: '<= 2.00x', pass: undefined });
  } else {
    const u = fig(res.udpkit);
    rows.push(['udpkit bench --loopback --rtt', fixed(u.p50, 1), fixed(u.p99, 1), times(ratio(u.p50, c.p50)), String(u.lost)]);
    const t = { what: 'round trip: udpkit bench --rtt p50 vs C', measured: `${fixed(u.p50, 1)} µs`, reference: `${fixed(c.p50, 1)} µs`, ratio: ratio(u.p50, c.p50), needed: '<= 2.00x' };
    t.pass = t.ratio <= 2;
    targets.push(t);
    if (!t.pass) {
      limits.push(
        `**Round trip** (${times(t.ratio)}): the C pair's median round trip is ${fixed(c.p50, 1)} µs (p99 ${fixed(c.p99, 1)}), udpkit's ${fixed(u.p50, 1)} µs ` +
        `(p99 ${fixed(u.p99, 1)}). Both cross the same loopback path, so the ${fixed(u.p50 - c.p50, 1)} µs difference is what udpkit adds ` +
        `in user space per exchange: two wake-ups (server and client) and the JavaScript between each receive and the next send.` +
        (pinned ? ` The C figure itself depends on where the scheduler puts the two processes: ${fixed(same.p50, 1)} µs on one CPU, ` +
          `${fixed(across.p50, 1)} µs across two (a cross-CPU wake-up); udpkit is ${times(ratio(u.p50, across.p50))} of the slower one.` : ''),
      );
    }
  }
  return {
    id: 6,
    title: 'Round trip (1,000 sequential echoes of 64 B, microseconds)',
    header: ['pair', 'p50 µs', 'p99 µs', 'p50 vs C', 'lost'],
    rows,
    targets,
    limits,
    notes: ['Nearest-rank percentiles, no warm-up, on both sides. The reference row runs unpinned, like udpkit; the pinned rows show how much of a round trip is where the scheduler puts the two ends.'],
    commands: [
      'bench/out/udp-pingpong server PORT 2000',
      'bench/out/udp-pingpong client 127.0.0.1 PORT 1000 64',
      '# pinned: taskset -c 0 bench/out/udp-pingpong server ...; taskset -c 0 (or 1) bench/out/udp-pingpong client ...',
      `${ctx.udpkitShown} bench --loopback --rtt -l 64 -t 0.2 --rate 1000 --json`,
    ],
  };
}
