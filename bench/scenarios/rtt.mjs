// 6. Round trip: 1,000 sequential 64-byte echoes. C client and C server (udp-pingpong), the
// Node floor (bench/node-pingpong.mjs: the same ping-pong with as little JavaScript as Node
// allows, over node:dgram and over udpkit's addon socket, its server on a worker thread as in
// `udpkit bench --loopback`), and `udpkit bench --loopback --rtt`, each unpinned and with both
// ends on CPU 0. Targets: udpkit's p50 within 1.10x of the Node floor's with both on CPU 0
// (unpinned, where the scheduler puts the two threads moves a round trip by tens of µs either
// way), and within 2x of C's, unpinned as it was first set.
import { join } from 'node:path';
import { freePort } from '../lib/kernel.mjs';
import { run as exec, start } from '../lib/procs.mjs';
import { fixed, median, ratio, times } from '../lib/stats.mjs';
import { hasBench } from './measure.mjs';

const RTT_LINE = /p50 ([\d.]+) us p99 ([\d.]+) us .*lost (\d+)/;

/** Runs `argv` on CPU `cpu` with taskset, or where the scheduler likes when `cpu` is undefined. */
function on(cpu, cmd, args) {
  return cpu === undefined ? [cmd, args] : ['taskset', ['-c', String(cpu), cmd, ...args]];
}

function parse(what, out) {
  const m = out.match(RTT_LINE);
  if (!m) throw new Error(`${what}: ${out}`);
  return { p50: Number(m[1]), p99: Number(m[2]), lost: Number(m[3]) };
}

/** One C ping-pong; `pin`: [server CPU, client CPU], or none. */
async function pingpong(ctx, pin = []) {
  const port = await freePort();
  const server = start(...on(pin[0], ctx.bins['udp-pingpong'], ['server', String(port), '2000']), { timeoutMs: 60_000 });
  try {
    await server.waitFor('stderr', /ready/);
    const c = await exec(...on(pin[1], ctx.bins['udp-pingpong'], ['client', '127.0.0.1', String(port), '1000', '64']), { timeoutMs: 60_000 });
    return parse('udp-pingpong client', c.stdout + c.stderr);
  } finally {
    server.signalGroup('SIGKILL');
  }
}

/** The Node floor, client and worker-thread server in one process, like udpkit's. */
async function nodeFloor(ctx, native, cpu) {
  const args = [join(ctx.root, 'bench', 'node-pingpong.mjs'), 'pair', '1000', '64', ...(native ? ['--native'] : [])];
  const c = await exec(...on(cpu, 'node', args), { timeoutMs: 60_000 });
  return parse('node-pingpong pair', c.stdout + c.stderr);
}

async function udpkitRtt(ctx, cpu) {
  // A short, slow throughput phase first (the command always runs one), then the echoes.
  const c = await exec(...on(cpu, 'node', [ctx.udpkit, 'bench', '--loopback', '--rtt', '-l', '64', '-t', '0.2', '--rate', '1000', '--json']), { timeoutMs: 60_000 });
  if (c.code !== 0) throw new Error(`udpkit bench --rtt exited ${c.code}: ${c.stderr.slice(-400)}`);
  const rtt = JSON.parse(c.stdout.trim().split('\n').pop()).rtt;
  if (!rtt) throw new Error('udpkit bench --rtt reported no rtt');
  return { p50: rtt.p50Us, p99: rtt.p99Us, lost: rtt.lost };
}

export const name = 'Round trip';

export async function run(ctx) {
  const available = await hasBench(ctx);
  const pinned = ctx.machine.nproc >= 2;
  // Each run takes about a second, and one round trip is a few wake-ups: more runs than the
  // other scenarios, so that the medians say more than where the scheduler happened to put things.
  const reps = ctx.quick ? 1 : Math.max(ctx.runs, 7);
  const kinds = [
    ['C', 'udp-pingpong (C client, C server), reference', () => pingpong(ctx)],
    ...(pinned ? [
      ['Csame', 'udp-pingpong, both on CPU 0 (taskset)', () => pingpong(ctx, [0, 0])],
      ['Cacross', 'udp-pingpong, server CPU 0, client CPU 1', () => pingpong(ctx, [0, 1])],
    ] : []),
    ['dgram', 'Node floor, node:dgram (node-pingpong.mjs pair)', () => nodeFloor(ctx, false)],
    ['native', 'Node floor, udpkit\'s addon socket (node-pingpong.mjs pair --native)', () => nodeFloor(ctx, true)],
    ...(pinned ? [
      ['dgramSame', 'Node floor, node:dgram, both threads on CPU 0', () => nodeFloor(ctx, false, 0)],
      ['nativeSame', 'Node floor, addon socket, both threads on CPU 0', () => nodeFloor(ctx, true, 0)],
    ] : []),
    ...(available ? [['udpkit', 'udpkit bench --loopback --rtt', () => udpkitRtt(ctx)]] : []),
    ...(available && pinned ? [['udpkitSame', 'udpkit bench --loopback --rtt, both threads on CPU 0', () => udpkitRtt(ctx, 0)]] : []),
  ];
  const res = Object.fromEntries(kinds.map(([k]) => [k, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const [k, , measure] of kinds) res[k].push(await measure());
    ctx.log(`[6 rtt ${rep + 1}/${reps}] p50 µs: ${kinds.map(([k]) => `${k} ${res[k].at(-1).p50}`).join(', ')}`);
  }
  const fig = (rs) => ({ p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), lost: median(rs.map((r) => r.lost)) });
  const f = Object.fromEntries(kinds.map(([k]) => [k, fig(res[k])]));
  // The floor: the lower of the two Node programs, with both ends on CPU 0 where there are two.
  const [dgramKey, nativeKey, udpkitKey] = pinned ? ['dgramSame', 'nativeSame', 'udpkitSame'] : ['dgram', 'native', 'udpkit'];
  const floorKey = f[nativeKey].p50 <= f[dgramKey].p50 ? nativeKey : dgramKey;
  const floor = f[floorKey];
  const floorName = `${floorKey === nativeKey ? 'addon socket' : 'node:dgram'}${pinned ? ', both on CPU 0' : ''}`;
  const c = f.C;
  const rows = kinds.map(([k, label]) => [label, fixed(f[k].p50, 1), fixed(f[k].p99, 1), times(ratio(f[k].p50, c.p50)), times(ratio(f[k].p50, floor.p50)), String(f[k].lost)]);
  const targets = [];
  const limits = [];
  if (!available) {
    rows.push(['udpkit bench --loopback --rtt', 'not built yet', '', '', '', '']);
    targets.push({ what: 'round trip: udpkit p50 vs the Node floor', measured: 'not built yet', reference: `${fixed(floor.p50, 1)} µs`, ratio: NaN, needed: '<= 1.10x', pass: undefined });
  } else {
    const u = f[udpkitKey];
    const tFloor = { what: `round trip: udpkit bench --rtt p50 vs the Node floor (${floorName})`, measured: `${fixed(u.p50, 1)} µs`, reference: `${fixed(floor.p50, 1)} µs`, ratio: ratio(u.p50, floor.p50), needed: '<= 1.10x' };
    tFloor.pass = tFloor.ratio <= 1.1;
    const tC = { what: 'round trip: udpkit bench --rtt p50 vs C (unpinned)', measured: `${fixed(f.udpkit.p50, 1)} µs`, reference: `${fixed(c.p50, 1)} µs`, ratio: ratio(f.udpkit.p50, c.p50), needed: '<= 2.00x' };
    tC.pass = tC.ratio <= 2;
    targets.push(tFloor, tC);
    if (!tFloor.pass || !tC.pass) {
      const cSame = pinned ? f.Csame : c;
      limits.push(
        `**Round trip** (${times(tFloor.ratio)} of the Node floor, ${times(tC.ratio)} of C): ${pinned ? 'with both ends on CPU 0, ' : ''}udpkit's median round trip is ${fixed(u.p50, 1)} µs ` +
        `(p99 ${fixed(u.p99, 1)}), the Node floor's ${fixed(floor.p50, 1)} µs (${floorName}; node:dgram ${fixed(f[dgramKey].p50, 1)}, addon ${fixed(f[nativeKey].p50, 1)}), ` +
        `C's ${fixed(cSame.p50, 1)} µs. The floor is a Node program that does nothing between a receive and the next send but read a sequence number: ` +
        `${times(ratio(floor.p50, cSame.p50))} of C is what two wake-ups of a Node event loop and two calls into JavaScript cost per exchange on this machine, ` +
        `so a target below that cannot be met by a Node program. ${fixed(u.p50 - floor.p50, 1)} µs is udpkit's own work per exchange ` +
        `(the sender's and the server's bookkeeping, reading the echo's session and sequence number).` +
        ` Unpinned, where the scheduler puts the two ends decides: C took ${fixed(c.p50, 1)} µs, the Node floor ${fixed(f.native.p50, 1)} (addon) and ${fixed(f.dgram.p50, 1)} (node:dgram), udpkit ${fixed(f.udpkit.p50, 1)}` +
        (pinned ? `; C across two CPUs takes ${fixed(f.Cacross.p50, 1)} µs.` : '.'),
      );
    }
  }
  return {
    id: 6,
    title: `Round trip (1,000 sequential echoes of 64 B, microseconds; medians of ${reps} runs)`,
    header: ['pair', 'p50 µs', 'p99 µs', 'p50 vs C', 'p50 vs Node floor', 'lost'],
    rows,
    targets,
    limits,
    notes: [
      'Nearest-rank percentiles, no warm-up, on both sides. The runs of all pairs are interleaved. The reference rows run unpinned, like udpkit; the pinned rows show how much of a round trip is where the scheduler puts the two ends. ' +
        'The Node floor (bench/node-pingpong.mjs) runs its server on a worker thread of the client\'s process, as `udpkit bench --loopback` does, and reads only the sequence number of each echo; the lower of its two figures is the floor.',
    ],
    commands: [
      'bench/out/udp-pingpong server PORT 2000',
      'bench/out/udp-pingpong client 127.0.0.1 PORT 1000 64',
      '# pinned: taskset -c 0 bench/out/udp-pingpong server ...; taskset -c 0 (or 1) bench/out/udp-pingpong client ...',
      'node bench/node-pingpong.mjs pair 1000 64            # and with --native; pinned: taskset -c 0 node ...',
      `${ctx.udpkitShown} bench --loopback --rtt -l 64 -t 0.2 --rate 1000 --json     # pinned: taskset -c 0 ...`,
    ],
  };
}
