// 5. Start-up: hyperfine over `node -e 0` and two short udpkit commands; each within 1.3x of
// bare Node, in wall time (mean) and in user CPU, which the machine's noise disturbs less.
// udpkit.cjs runs its bundles from V8 code caches beside them (scripts/launcher.cjs), which the
// build makes; this checks they are there, as they would be after `npm install`.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run as exec } from '../lib/procs.mjs';
import { fixed, ratio, times } from '../lib/stats.mjs';

export const name = 'Start-up';

export async function run(ctx) {
  const runs = ctx.quick ? 10 : 40;
  const file = join(ctx.tmpDir, 'hyperfine.json');
  const commands = ['node -e 0', `node ${ctx.udpkit} --version`, `node ${ctx.udpkit} send 127.0.0.1:9 x -q`];
  const caches = () => readdirSync(dirname(ctx.udpkit)).filter((f) => f.endsWith('.v8cache'));
  if (!caches().includes('send.cjs.v8cache')) {
    // A first run writes them (an older build, or one whose first run failed).
    await exec('node', [ctx.udpkit, 'send', '127.0.0.1:9', 'x', '-q'], { timeoutMs: 30_000 });
    ctx.log(`5 start-up: the build left no code cache for send; a first run made ${caches().join(', ') || 'none'}`);
  }
  const args = ['-N', '--warmup', '5', '--runs', String(runs), '--style', 'none', '--export-json', file, ...commands];
  const r = await exec('hyperfine', args, { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`hyperfine failed: ${r.stderr.slice(-400)}`);
  const results = JSON.parse(readFileSync(file, 'utf8')).results;
  const [base] = results;
  const rows = [];
  const targets = [];
  const limits = [];
  const shown = (cmd) => cmd.replace(`node ${ctx.udpkit}`, ctx.udpkitShown);
  for (const res of results) {
    const mRatio = ratio(res.mean, base.mean);
    const uRatio = ratio(res.user, base.user);
    rows.push([shown(res.command), fixed(res.mean * 1000, 1), fixed(res.stddev * 1000, 1), fixed(res.median * 1000, 1), times(mRatio), fixed(res.user * 1000, 1), times(uRatio), fixed(res.system * 1000, 1)]);
    ctx.log(`[5 start-up] ${shown(res.command)}: mean ${fixed(res.mean * 1000, 1)} ms, user ${fixed(res.user * 1000, 1)} ms`);
    if (res === base) continue;
    const t = { what: `start-up: ${shown(res.command)} (mean; user CPU ${times(uRatio)})`, measured: `${fixed(res.mean * 1000, 1)} ms`, reference: `${fixed(base.mean * 1000, 1)} ms`, ratio: mRatio, needed: '<= 1.30x' };
    t.pass = mRatio <= 1.3;
    targets.push(t);
    if (!t.pass) {
      limits.push(
        `**Start-up, \`${shown(res.command)}\`** (${times(mRatio)} of \`node -e 0\` in mean wall time, ${times(uRatio)} in user CPU): ` +
        `it takes ${fixed((res.mean - base.mean) * 1000, 1)} ms more than bare Node (${fixed((res.user - base.user) * 1000, 1)} ms of it user CPU, ` +
        `${fixed((res.system - base.system) * 1000, 1)} ms system). ` +
        ((res.user - base.user) >= 0.7 * (res.mean - base.mean)
          ? 'Most of the extra wall time is user CPU in this process: JavaScript loaded and evaluated before the command does its work.'
          : 'Much of the extra wall time is not this process\'s CPU: waiting (I/O, socket set-up) or the machine\'s noise.') +
        (uRatio <= 1.3 ? ' In user CPU alone it is within 1.30x.' : ''),
      );
    }
  }
  return {
    id: 5,
    title: `Start-up (hyperfine, ${runs} runs after 5 warm-ups, no shell)`,
    header: ['command', 'mean ms', '± σ ms', 'median ms', 'mean vs node -e 0', 'user ms', 'user vs node -e 0', 'system ms'],
    rows,
    targets,
    limits,
    notes: [`udpkit.cjs is a launcher: it runs main.cjs (commander and the command table) and then the command's own bundle, each from a V8 code cache made by the build (${caches().join(', ') || 'none found'}).`],
    commands: [`hyperfine -N --warmup 5 --runs ${runs} ${commands.map((c) => `'${shown(c)}'`).join(' ')}`],
  };
}
