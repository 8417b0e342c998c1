// The machine and tool versions a run was measured on, for docs/BENCHMARKS.md.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { run } from './procs.mjs';

async function firstLine(cmd, args, re) {
  const r = await run(cmd, args, { timeoutMs: 10_000 });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return (re ? lines.find((l) => re.test(l)) : lines[0]) ?? 'unknown';
}

async function debVersion(pkg) {
  const r = await run('dpkg-query', ['-W', '-f', '${Version}', pkg], { timeoutMs: 10_000 });
  return r.code === 0 ? r.stdout.trim() : 'not installed';
}

function sysctl(name) {
  try {
    return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** nproc, CPU model, kernel, memory, Node, the receive-buffer limits that shape every figure. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism?.() ?? cpus.length,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    kernel: `${os.type()} ${os.release()}`,
    memoryGb: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    rmemMax: sysctl('net.core.rmem_max'),
    rmemDefault: sysctl('net.core.rmem_default'),
  };
}

/** Versions of every tool the run compares against. */
export async function toolVersions(udpkitBin) {
  const [udpkit, cc, socat, nc, ncat, iperf3, hyperfine, time] = await Promise.all([
    firstLine('node', [udpkitBin, '--version']),
    firstLine('cc', ['--version']),
    firstLine('socat', ['-V'], /socat version/),
    debVersion('netcat-openbsd'),
    firstLine('ncat', ['--version'], /Version/),
    firstLine('iperf3', ['--version']),
    firstLine('hyperfine', ['--version']),
    debVersion('time'),
  ]);
  return {
    udpkit,
    cc: cc.replace(/^cc /, ''),
    socat: socat.replace(/^socat version (\S+).*/, '$1'),
    'nc (netcat-openbsd)': nc,
    ncat: ncat.replace(/^Ncat: Version (\S+).*/, '$1'),
    iperf3: iperf3.replace(/^iperf (\S+).*/, '$1'),
    hyperfine: hyperfine.replace(/^hyperfine /, ''),
    'GNU time': time,
  };
}

/**
 * CPU time so far, in clock ticks: the whole machine's busy and total time (/proc/stat) and this
 * process tree's (ourselves plus every child reaped, which is every child once a scenario ends).
 */
export function cpuSnapshot() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  const s = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ').map(Number);
  return {
    busy: user + nice + system + irq + softirq,
    steal,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
    ours: s[11] + s[12] + s[13] + s[14],
  };
}

/**
 * Between two snapshots, the share of the machine's CPU that other processes used, and the
 * share the hypervisor took (steal): what makes a section noisy on a shared machine.
 */
export function otherCpu(a, b) {
  const total = b.total - a.total;
  if (!(total > 0)) return { others: NaN, steal: NaN };
  return { others: Math.max(0, b.busy - a.busy - (b.ours - a.ours)) / total, steal: (b.steal - a.steal) / total };
}
