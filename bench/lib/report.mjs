// Turns the scenarios' results into the terminal summary and docs/BENCHMARKS.md.
import { readFileSync } from 'node:fs';
import { pct } from './stats.mjs';
import { markdownTable, textTable } from './table.mjs';


const TARGET_HEADER = ['#', 'target', 'measured', 'reference', 'ratio', 'needed', 'result'];

function verdict(t) {
  if (t.pass === undefined && /^none/.test(t.needed)) return 'reported';
  return t.pass === true ? 'PASS' : t.pass === false ? 'MISS' : 'n/a';
}

/** Three decimals, so that a ratio just over a bound does not print as the bound. */
function ratioCell(r) {
  return Number.isFinite(r) ? `${r.toFixed(3)}x` : '';
}

/** A section's tables: several (`tables`, each titled) or one (`header` and `rows`). */
function tablesOf(s) {
  return s.tables ?? [{ header: s.header, rows: s.rows }];
}

function targetRows(sections) {
  return sections.flatMap((s) => (s.targets ?? []).map((t) => [s.id, t.what, t.measured, t.reference, ratioCell(t.ratio), t.needed, verdict(t)]));
}

/** What the terminal shows at the end: each scenario's table, then every target. */
export function terminalReport(sections) {
  const parts = [];
  for (const s of sections) {
    parts.push(`\n${s.id}. ${s.title}${s.seconds ? ` [${s.seconds.toFixed(0)} s; other processes ${pct(s.noise.others, 0)} of the CPU, steal ${pct(s.noise.steal, 0)}]` : ''}`);
    if (s.error) parts.push(`   error: ${s.error}`);
    else for (const t of tablesOf(s)) parts.push(`${t.title ? `\n${t.title}\n` : ''}${textTable(t.header, t.rows)}`);
  }
  parts.push('\nTargets');
  parts.push(textTable(TARGET_HEADER, targetRows(sections)));
  const limits = sections.flatMap((s) => s.limits ?? []);
  if (limits.length > 0) parts.push('\nWhat limits it\n\n' + limits.map((l) => l.replaceAll('**', '')).join('\n\n'));
  return parts.join('\n') + '\n';
}

/** The whole of docs/BENCHMARKS.md. */
export function markdownReport({ date, machine, tools, revision, sections, totalSeconds, udpkitShown, runs, merged = false }) {
  const out = [];
  out.push('# Benchmarks');
  out.push('');
  const origin = merged
    ? `Put together by \`node bench/run.mjs --merge\` on ${date} from the newest results of each scenario, measured in separate runs (each section says when and from which commit).`
    : `Written by \`npm run bench\` (bench/run.mjs) on ${date} from ${revision}; the whole run took ${Math.round(totalSeconds)} s.`;
  out.push(
    `udpkit side by side with the tools users would pick instead, all on loopback. ${origin} Every figure is the median of ` +
    `${runs} runs unless the table says otherwise; runs of different tools are interleaved so that a noisy moment hits all of them. ` +
    'The machine is shared and noisy: trust ratios within one run more than absolute rates.',
  );
  out.push('');
  out.push('## Machine');
  out.push('');
  out.push(`- ${machine.nproc} CPUs (nproc), ${machine.cpu}, ${machine.memoryGb} GiB`);
  out.push(`- ${machine.kernel}; net.core.rmem_max ${machine.rmemMax}, net.core.rmem_default ${machine.rmemDefault}`);
  out.push(`- Node ${machine.node}`);
  out.push(`- ${Object.entries(tools).map(([k, v]) => `${k} ${v}`).join('; ')}`);
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push(markdownTable(TARGET_HEADER, targetRows(sections)));
  out.push('');
  for (const s of sections) {
    out.push(`## ${s.id}. ${s.title}`);
    out.push('');
    if (s.error) {
      out.push(`Not measured: ${s.error}`);
      out.push('');
      continue;
    }
    for (const t of tablesOf(s)) {
      if (t.title) out.push(`**${t.title}**`, '');
      out.push(markdownTable(t.header, t.rows));
      out.push('');
    }
    if (s.measuredAt) out.push(`Measured on ${s.measuredAt} from ${s.revision}.`, '');
    out.push(`Took ${s.seconds.toFixed(0)} s, while processes other than the benchmark's used ${pct(s.noise.others, 0)} of the machine's CPU (hypervisor steal ${pct(s.noise.steal, 0)}).`);
    out.push('');
    for (const n of s.notes ?? []) {
      out.push(n);
      out.push('');
    }
  }
  const limits = sections.flatMap((s) => s.limits ?? []);
  out.push('## What limits it');
  out.push('');
  if (limits.length === 0) out.push('Every target was met in this run.');
  for (const l of limits) {
    out.push(l);
    out.push('');
  }
  // Hand-written findings from profiling, kept next to the measurements they explain.
  out.push(readFileSync(new URL('../profiles.md', import.meta.url), 'utf8').trim());
  out.push('');
  out.push('## Reproduce');
  out.push('');
  out.push(
    '`npm run bench` builds, installs what is missing (`apt-get install socat netcat-openbsd ncat iperf3 hyperfine`), compiles ' +
    '`bench/c/*.c` with `cc -O2` into `bench/out/`, writes the sender\'s input files there, runs everything below and rewrites this ' +
    'file. `node bench/run.mjs receivers paced` (or `--only 1,2`, or `BENCH_ONLY=receivers`) runs some scenarios and leaves this ' +
    'file alone; `--sizes 64 --kinds random --receivers "C printer,udpkit text"` narrows section 1; `--quick` runs a tenth of the ' +
    'datagrams once each, to check the harness. Each whole scenario run also keeps its results in `bench/out/results/`, and ' +
    '`--merge` rewrites this file from the newest results of every scenario, each section saying when it was measured. ' +
    `The CLI is \`${udpkitShown}\` (package.json "bin"). PORT is a free port; receivers run ` +
    'one at a time, each under `/usr/bin/time -f "%M %e %U %S"`.',
  );
  out.push('');
  for (const s of sections) {
    out.push(`${s.id}. ${s.title}`);
    out.push('');
    out.push('```sh');
    out.push(...(s.commands ?? []));
    out.push('```');
    out.push('');
  }
  return out.join('\n');
}
