#!/usr/bin/env node
// `npm run bench`: udpkit against the C references and the tools users would pick instead, on
// loopback. Prints the tables; a full run rewrites docs/BENCHMARKS.md.
//   node bench/run.mjs [SCENARIO...] [--only 1,3] [--runs N] [--quick] [--no-write] [--merge] [--out FILE]
//                      [--sizes 64,1200] [--kinds text,seq,random] [--receivers "C printer,udpkit text"]
// SCENARIO is a name (receivers, paced, senders, measure, startup, rtt, flood, ack, replay, capture,
// relay, files, pacing) or a number;
// BENCH_ONLY=receivers,paced does the same. Naming any, or narrowing section 1, or --quick, makes
// a partial run: it prints, and leaves docs/BENCHMARKS.md alone unless --merge is given.
// --out FILE writes the report there instead of docs/BENCHMARKS.md, for a partial run too.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSnapshot, machineInfo, otherCpu, toolVersions } from './lib/machine.mjs';
import { killAll, run as exec } from './lib/procs.mjs';
import { markdownReport, terminalReport } from './lib/report.mjs';
import { loadSaved, saveSection } from './lib/saved.mjs';
import { compileC, ensurePackages } from './lib/setup.mjs';
import * as receivers from './scenarios/receivers.mjs';
import * as paced from './scenarios/paced.mjs';
import * as senders from './scenarios/senders.mjs';
import * as measure from './scenarios/measure.mjs';
import * as startup from './scenarios/startup.mjs';
import * as rtt from './scenarios/rtt.mjs';
import * as flood from './scenarios/flood.mjs';
import * as ack from './scenarios/ack.mjs';
import * as replay from './scenarios/replay.mjs';
import * as capture from './scenarios/capture.mjs';
import * as relay from './scenarios/relay.mjs';
import * as files from './scenarios/files.mjs';
import * as pacing from './scenarios/pacing.mjs';

/** In section order: the number of each is its place here. */
const SCENARIOS = [
  ['receivers', receivers],
  ['paced', paced],
  ['senders', senders],
  ['measure', measure],
  ['startup', startup],
  ['rtt', rtt],
  ['flood', flood],
  ['ack', ack],
  ['replay', replay],
  ['capture', capture],
  ['relay', relay],
  ['files', files],
  ['pacing', pacing],
];

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    only: { type: 'string' },
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    merge: { type: 'boolean', default: false },
    out: { type: 'string' },
    sizes: { type: 'string' },
    kinds: { type: 'string' },
    receivers: { type: 'string' },
  },
});
const list = (text) => (text ? text.split(',').map((x) => x.trim()).filter(Boolean) : []);

/** The scenario numbers asked for (by name or number), or undefined for all. */
function chosenScenarios() {
  const asked = [...positionals, ...list(flags.only), ...list(process.env.BENCH_ONLY)];
  if (asked.length === 0) return undefined;
  return asked.map((a) => {
    const i = /^\d+$/.test(a) ? Number(a) - 1 : SCENARIOS.findIndex(([key]) => key === a);
    if (!SCENARIOS[i]) throw new Error(`no scenario "${a}"; there are ${SCENARIOS.map(([k], j) => `${j + 1} ${k}`).join(', ')}`);
    return i + 1;
  });
}

let only;
try {
  only = chosenScenarios();
} catch (err) {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(2);
}
const quick = flags.quick;
const runs = Number(flags.runs ?? (quick ? 1 : 3));
const select = { sizes: list(flags.sizes).map(Number), kinds: list(flags.kinds), receivers: list(flags.receivers) };
const narrowed = select.sizes.length + select.kinds.length + select.receivers.length > 0;
// Only results of a whole scenario, as a full run would measure it, are kept for --merge.
const keepable = !quick && !narrowed && runs === 3;
const log = (line) => process.stderr.write(`bench: ${line}\n`);

function udpkitBin() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const bin = typeof pkg.bin === 'string' ? pkg.bin : (pkg.bin?.udpkit ?? Object.values(pkg.bin ?? {})[0]);
  if (!bin) throw new Error('package.json has no "bin"');
  const path = resolve(root, bin);
  if (!existsSync(path)) throw new Error(`${bin} (package.json "bin") does not exist; run npm run build`);
  return path;
}

async function revision() {
  const head = await exec('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { timeoutMs: 10_000 });
  const dirty = await exec('git', ['-C', root, 'status', '--porcelain', '--', 'src', 'native', 'package.json'], { timeoutMs: 10_000 });
  const rev = head.code === 0 ? head.stdout.trim() : 'unknown';
  return `commit ${rev}${dirty.stdout.trim() ? ' with uncommitted changes in src/' : ''}`;
}

const utcNow = () => new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

async function runScenarios(ctx, measured) {
  const sections = [];
  for (const [key, s] of SCENARIOS) {
    const t0 = Date.now();
    const id = SCENARIOS.findIndex(([k]) => k === key) + 1;
    if (only && !only.includes(id)) continue;
    // What other work on a shared machine took meanwhile: it explains a noisy section.
    const cpu0 = cpuSnapshot();
    try {
      const result = await s.run(ctx);
      const section = { ...result, seconds: (Date.now() - t0) / 1000, noise: otherCpu(cpu0, cpuSnapshot()) };
      sections.push(section);
      log(`scenario ${id} (${key}) took ${section.seconds.toFixed(0)} s`);
      if (keepable) saveSection(ctx.outDir, key, { ...section, measuredAt: utcNow(), revision: measured });
    } catch (err) {
      log(`scenario ${id} failed: ${err.stack ?? err}`);
      sections.push({ id, title: s.name, error: String(err.message ?? err), targets: [] });
      await killAll();
    }
  }
  return sections;
}

async function main() {
  const began = Date.now();
  const udpkit = udpkitBin();
  const udpkitShown = `node ${relative(root, udpkit)}`;
  // Taken now, just after the build: others may commit while the run goes on.
  const measured = await revision();
  await ensurePackages(log);
  const bins = await compileC(join(here, 'c'), join(here, 'out'), log);
  const tmpDir = mkdtempSync(join(os.tmpdir(), 'udpkit-bench-'));
  // Also on Ctrl-C, which ends the process from procs.mjs's signal handler.
  process.on('exit', () => rmSync(tmpDir, { recursive: true, force: true }));
  const machine = machineInfo();
  const ctx = {
    root,
    udpkit,
    udpkitShown,
    bins,
    outDir: join(here, 'out'),
    tmpDir,
    runs,
    quick,
    machine,
    log,
    select,
    scale: (n) => (quick ? Math.round(n / 10) : n),
  };
  // --merge alone measures nothing: it only puts saved results together.
  const measureNothing = flags.merge && !only;
  if (!measureNothing) {
    const idle0 = cpuSnapshot();
    await new Promise((r) => setTimeout(r, 2000));
    const busy = otherCpu(idle0, cpuSnapshot()).others;
    if (busy > 0.2) log(`other processes are using ${Math.round(busy * 100)}% of the CPU; expect noisy figures`);
  }
  let sections = [];
  try {
    if (!measureNothing) sections = await runScenarios(ctx, measured);
  } finally {
    await killAll();
  }
  if (sections.length > 0) process.stdout.write(terminalReport(sections));
  const totalSeconds = (Date.now() - began) / 1000;
  log(`done in ${totalSeconds.toFixed(0)} s`);
  const full = !only && !quick && !narrowed && !flags.merge;
  const write = (md) => {
    const file = flags.out ? resolve(flags.out) : join(root, 'docs', 'BENCHMARKS.md');
    writeFileSync(file, md);
    log(`wrote ${relative(process.cwd(), file) || file}`);
  };
  const common = { date: utcNow(), machine, tools: await toolVersions(udpkit), udpkitShown, runs: 3 };
  if (full && !flags['no-write']) {
    write(markdownReport({ ...common, revision: measured, sections, totalSeconds, runs }));
  } else if (flags.merge) {
    const saved = loadSaved(ctx.outDir, SCENARIOS.map(([key]) => key));
    const missing = SCENARIOS.filter(([key]) => !saved[key]).map(([key]) => key);
    if (missing.length > 0) log(`--merge: no saved results for ${missing.join(', ')}; those sections say so`);
    const merged = SCENARIOS.map(([key, s], i) => saved[key] ?? { id: i + 1, title: s.name, error: `no saved results (run \`node bench/run.mjs ${key}\`)`, targets: [] });
    write(markdownReport({ ...common, revision: measured, sections: merged, totalSeconds: NaN, merged: true }));
  } else if (flags.out) {
    // A partial report, to look at: never over docs/BENCHMARKS.md unless asked for by name.
    write(markdownReport({ ...common, revision: measured, sections, totalSeconds, runs }));
  } else if (!full) {
    log(`partial run (${[only && 'scenarios chosen', quick && '--quick', narrowed && 'section 1 narrowed'].filter(Boolean).join(', ')}): docs/BENCHMARKS.md left alone`);
  }
  return sections.some((s) => s.error) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (err) => {
    log(`failed: ${err.stack ?? err}`);
    await killAll();
    process.exitCode = 1;
  },
);
