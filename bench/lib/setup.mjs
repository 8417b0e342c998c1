// Setup before measuring: the comparison tools (Debian packages), the C reference programs, and
// the input file for the sender test. Each step skips what is already there.
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { run } from './procs.mjs';

/** Debian package that provides each command we need. */
const PACKAGES = {
  socat: 'socat',
  nc: 'netcat-openbsd',
  ncat: 'ncat',
  iperf3: 'iperf3',
  hyperfine: 'hyperfine',
  cc: 'gcc',
  '/usr/bin/time': 'time',
};

async function have(cmd) {
  if (cmd.startsWith('/')) return existsSync(cmd);
  return (await run('sh', ['-c', `command -v ${cmd}`], { timeoutMs: 5000 })).code === 0;
}

/** Whether `nc` is OpenBSD's (the one the baselines measured), not traditional netcat. */
async function ncIsOpenBsd() {
  const r = await run('dpkg-query', ['-W', '-f', '${Status}', 'netcat-openbsd'], { timeoutMs: 5000 });
  return r.code === 0 && r.stdout.includes('installed');
}

/** Installs the packages whose commands are missing; `apt-get update` once, only if needed. */
export async function ensurePackages(log) {
  const missing = [];
  for (const [cmd, pkg] of Object.entries(PACKAGES)) {
    if (!(await have(cmd)) || (cmd === 'nc' && !(await ncIsOpenBsd()))) missing.push(pkg);
  }
  if (missing.length === 0) return;
  log(`installing ${missing.join(', ')} with apt-get`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const update = await run('apt-get', ['update'], { timeoutMs: 300_000, env });
  if (update.code !== 0) throw new Error(`apt-get update failed: ${update.stderr.slice(-500)}`);
  const install = await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { timeoutMs: 600_000, env });
  if (install.code !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed: ${install.stderr.slice(-500)}`);
}

/**
 * Compiles bench/c/*.c with `cc -O2` into `outDir`, when the source, or any header beside it,
 * is newer than the binary.
 */
export async function compileC(srcDir, outDir, log) {
  mkdirSync(outDir, { recursive: true });
  const bins = {};
  const files = readdirSync(srcDir).sort();
  const headersTime = Math.max(0, ...files.filter((f) => f.endsWith('.h')).map((f) => statSync(join(srcDir, f)).mtimeMs));
  for (const file of files.filter((f) => f.endsWith('.c'))) {
    const name = file.slice(0, -2);
    const src = join(srcDir, file);
    const bin = join(outDir, name);
    bins[name] = bin;
    if (existsSync(bin) && statSync(bin).mtimeMs >= Math.max(statSync(src).mtimeMs, headersTime)) continue;
    log(`cc -O2 ${src}`);
    const r = await run('cc', ['-O2', '-Wall', '-o', bin, src], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`compiling ${src} failed:\n${r.stderr}`);
  }
  return bins;
}

/** The line the sender test sends: 63 printable characters, the first 12 a line number. */
function line(i) {
  return `${String(i).padStart(12, '0')} ${'udpkit-bench-payload-'.repeat(3).slice(0, 50)}`;
}

/**
 * A file of `count` lines of 63 characters (64 bytes with the newline) in `outDir`, written
 * once and reused while its size is right.
 */
export async function linesFile(outDir, count, log) {
  const path = join(outDir, `lines-${count}.txt`);
  const size = count * 64;
  if (existsSync(path) && statSync(path).size === size) return path;
  log(`writing ${count.toLocaleString('en-US')} lines to ${path}`);
  const out = createWriteStream(path);
  const perChunk = 16384;
  for (let i = 0; i < count; ) {
    const n = Math.min(perChunk, count - i);
    let chunk = '';
    for (let j = 0; j < n; j++) chunk += line(i + j) + '\n';
    i += n;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  if (line(0).length !== 63) throw new Error('line length is not 63');
  return path;
}
