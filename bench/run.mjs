#!/usr/bin/env node
// `npm run bench`: udpkit against the C references and the tools users would pick instead, on
// loopback. Prints the tables and rewrites docs/BENCHMARKS.md.
//   node bench/run.mjs [--only 1,3] [--runs N] [--quick] [--no-write]
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSnapshot, machineInfo, otherCpu, toolVersions } from './lib/machine.mjs';
import { killAll, run as exec } from './lib/procs.mjs';
import { markdownReport, terminalReport } from './lib/report.mjs';
import { compileC, ensurePackages } from './lib/setup.mjs';
import * as receivers from './scenarios/receivers.mjs';
import * as paced from './scenarios/paced.mjs';
import * as senders from './scenarios/senders.mjs';
import * as measure from './scenarios/measure.mjs';
import * as startup from './scenarios/startup.mjs';
import * as rtt from './scenarios/rtt.mjs';
import * as flood from './scenarios/flood.mjs';
import * as ack from './scenarios/ack.mjs';

const SCENARIOS = [receivers, paced, senders, measure, startup, rtt, flood, ack];

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});
const only = flags.only?.split(',').map(Number);
const quick = flags.quick;
const runs = Number(flags.runs ?? (quick ? 1 : 3));
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
    scale: (n) => (quick ? Math.round(n / 10) : n),
  };
  const idle0 = cpuSnapshot();
  await new Promise((r) => setTimeout(r, 2000));
  const busy = otherCpu(idle0, cpuSnapshot()).others;
  if (busy > 0.2) log(`other processes are using ${Math.round(busy * 100)}% of the CPU; expect noisy figures`);
  const sections = [];
  try {
    for (const s of SCENARIOS) {
      const t0 = Date.now();
      const id = SCENARIOS.indexOf(s) + 1;
      if (only && !only.includes(id)) continue;
      // What other work on a shared machine took meanwhile: it explains a noisy section.
      const cpu0 = cpuSnapshot();
      try {
        const result = await s.run(ctx);
        sections.push({ ...result, seconds: (Date.now() - t0) / 1000, noise: otherCpu(cpu0, cpuSnapshot()) });
      } catch (err) {
        log(`scenario ${id} failed: ${err.stack ?? err}`);
        sections.push({ id, title: s.name, error: String(err.message ?? err), targets: [] });
        await killAll();
      }
    }
  } finally {
    await killAll();
  }
  process.stdout.write(terminalReport(sections));
  const totalSeconds = (Date.now() - began) / 1000;
  log(`done in ${totalSeconds.toFixed(0)} s`);
  if (!only && !quick && !flags['no-write']) {
    const md = markdownReport({
      date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
      machine,
      tools: await toolVersions(udpkit),
      revision: measured,
      sections,
      totalSeconds,
      udpkitShown,
      runs,
    });
    writeFileSync(join(root, 'docs', 'BENCHMARKS.md'), md);
    log('wrote docs/BENCHMARKS.md');
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
