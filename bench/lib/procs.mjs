// Child processes for the benchmark: every one is tracked, bounded by a deadline, and killed
// when the run ends, fails or is interrupted. Each child leads its own process group so that
// cleanup reaches what it started (GNU time's child, a shell's pipeline) by group id.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Set();

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Kills every child still running: SIGTERM, then SIGKILL to what is left after `graceMs`. */
export async function killAll(graceMs = 500) {
  const left = [...live];
  for (const c of left) killGroup(c, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (live.size > 0 && Date.now() < deadline) await sleep(20);
  for (const c of live) killGroup(c, 'SIGKILL');
}

process.on('exit', () => {
  for (const c of live) killGroup(c, 'SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, stopping ${live.size} child process(es)\n`);
    void killAll(300).finally(() => process.exit(130));
  });
}

/**
 * Starts `cmd args`. stdio entries as for spawn ('pipe' by default for stdout and stderr, stdin
 * from /dev/null). The piped streams named in `collect` are kept as text (the last 64 KiB); a
 * piped stream left out is not read, so it can be handed to another child. The child is killed
 * when `timeoutMs` passes.
 */
export function start(cmd, args, { stdio = ['ignore', 'pipe', 'pipe'], timeoutMs = 180_000, collect = ['stdout', 'stderr'], env } = {}) {
  const child = spawn(cmd, args, { stdio, detached: true, ...(env ? { env: { ...process.env, ...env } } : {}) });
  live.add(child);
  const out = { stdout: '', stderr: '' };
  const listeners = [];
  for (const name of collect) {
    const s = child[name];
    if (!s) continue;
    s.setEncoding('utf8');
    s.on('data', (d) => {
      out[name] = (out[name] + d).slice(-65536);
      for (const l of listeners) l();
    });
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGKILL');
  }, timeoutMs);
  const exited = new Promise((resolve) => {
    child.on('error', (err) => {
      out.stderr += `\nspawn ${cmd} failed: ${err.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, timedOut, ...out });
    });
  });
  return {
    child,
    pid: child.pid,
    out,
    exited,
    /** Resolves with the match once `stream`'s text matches `re`; rejects after `ms`. */
    waitFor(stream, re, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out[stream].match(re);
          if (m) {
            done();
            resolve(m);
          }
        };
        const t = setTimeout(() => {
          done();
          reject(new Error(`${cmd}: no ${re} on ${stream} within ${ms} ms; stderr: ${out.stderr.slice(-300)}`));
        }, ms);
        const done = () => {
          clearTimeout(t);
          const i = listeners.indexOf(check);
          if (i >= 0) listeners.splice(i, 1);
        };
        listeners.push(check);
        void exited.then(() => setImmediate(check));
        check();
      });
    },
    /** Signals the whole group. */
    signalGroup(signal = 'SIGTERM') {
      killGroup(child, signal);
    },
  };
}

/** Runs `cmd args` to the end; resolves with code and output. */
export async function run(cmd, args, opts = {}) {
  return start(cmd, args, opts).exited;
}

/** The pids of `pid`'s children (Linux /proc). */
export function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Waits until `pid` has a child (e.g. GNU time started its command); its pid. */
export async function waitChild(pid, ms = 5000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const [c] = childrenOf(pid);
    if (c) return c;
    await sleep(10);
  }
  throw new Error(`process ${pid} started no child within ${ms} ms`);
}

let ticksPerSecond;

/**
 * User and system CPU seconds `pid` has used so far (/proc/PID/stat), undefined once it is gone.
 * Read when a receiver says it is ready, it lets CPU per datagram leave out start-up.
 */
export function cpuOf(pid) {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  try {
    // The command name may hold spaces; the fields after it are fixed.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop().split(' ');
    return { user: Number(fields[11]) / ticksPerSecond, sys: Number(fields[12]) / ticksPerSecond };
  } catch {
    return undefined;
  }
}

/** Sends `signal` to one process by id, ignoring one that is gone. */
export function signalPid(pid, signal = 'SIGTERM') {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Wraps a command in GNU time writing peak RSS (KiB), elapsed, user and system seconds to `file`.
 * Parse the result with {@link readTime}.
 */
export function timed(file, cmd, args) {
  return ['/usr/bin/time', ['-o', file, '-f', '%M %e %U %S', cmd, ...args]];
}

/** GNU time's figures: peak RSS in MB, elapsed, user and system seconds. */
export function readTime(file) {
  try {
    const last = readFileSync(file, 'utf8').trim().split('\n').pop() ?? '';
    const [kb, elapsed, user, sys] = last.split(' ').map(Number);
    if (![kb, elapsed, user, sys].every(Number.isFinite)) return undefined;
    return { rssMb: kb / 1024, elapsed, user, sys };
  } catch {
    return undefined;
  }
}
