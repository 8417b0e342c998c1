// One receive test: start a receiver under GNU time, blast it with udp-blast, let it drain, stop
// it, and account for every datagram: received, dropped by the kernel, or unaccounted.
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, socketDrops, waitBound } from './kernel.mjs';
import { cpuSnapshot, otherCpu } from './machine.mjs';
import { cpuOf, readTime, run, signalPid, start, timed, waitChild } from './procs.mjs';

/**
 * The receivers, each with its command line (PORT filled in), how to tell it is ready, and how
 * to count what it received: 'sink' (udp-sink's own line), 'summary' (udpkit's summary line on
 * stderr, which udp-print copies), 'bytes' (stdout bytes over the datagram size). Those that
 * say "listening on" bind port 0 and name the port they got.
 */
export const RECEIVERS = {
  'C sink': {
    argv: (ctx, port) => [ctx.bins['udp-sink'], [String(port), '1000']],
    ready: 'ready',
    count: 'sink',
  },
  'C printer': {
    argv: (ctx, port) => [ctx.bins['udp-print'], [String(port)]],
    ready: 'listening',
    count: 'summary',
  },
  'udpkit text': {
    argv: (ctx) => ['node', [ctx.udpkit, 'listen', '-p', '0', '--no-stop-word']],
    ready: 'listening',
    count: 'summary',
  },
  'udpkit --json': {
    argv: (ctx) => ['node', [ctx.udpkit, 'listen', '-p', '0', '--no-stop-word', '--json']],
    ready: 'listening',
    count: 'summary',
  },
  'nc -u -l': {
    argv: (_ctx, port) => ['nc', ['-u', '-l', String(port)]],
    ready: 'bound',
    count: 'bytes',
  },
  'ncat -u -l --recv-only': {
    argv: (_ctx, port) => ['ncat', ['-u', '-l', '--recv-only', String(port)]],
    ready: 'bound',
    count: 'bytes',
  },
  'socat -u UDP-RECV': {
    argv: (_ctx, port) => ['socat', ['-u', `UDP-RECV:${port}`, '-']],
    ready: 'bound',
    count: 'bytes',
  },
};

/** How the receiver's command reads in docs, with PORT for the port and `udpkit` for the CLI. */
export function receiverCommand(ctx, name, output = 'pipe') {
  const [cmd, args] = RECEIVERS[name].argv(ctx, RECEIVERS[name].ready === 'listening' ? '0' : 'PORT');
  const line = [cmd, ...args].join(' ').replace(`node ${ctx.udpkit}`, ctx.udpkitShown).replace(ctx.root + '/', '');
  if (name === 'C sink') return line;
  return `${line} ${output === 'pipe' ? '| wc -c' : '>/dev/null'}`;
}

const SUMMARY = /received (\d+) datagrams, (\d+) bytes; kernel dropped (\d+|n\/a)(?:.*?dropped (\d+) while output was blocked)?/;

/** What udp-blast can put in each payload (`-k`; bench/c/udp-blast.c says what each holds). */
export const PAYLOAD_KINDS = ['text', 'seq', 'random'];
/** The random kind's seed: one for all, so that every receiver gets the same bytes. */
export const RANDOM_SEED = 1;

/** udp-blast's arguments for one blast. */
export function blastArgs({ port, count, size, rate = 0, kind = 'text' }) {
  return ['-k', kind, '-s', String(RANDOM_SEED), '127.0.0.1', String(port), String(count), String(size), String(rate)];
}

let serial = 0;

/** Waits for `name`'s sign that it is ready; the UDP port to send to. */
async function whenReady(name, r, recv, port) {
  if (r.ready === 'listening') return Number((await recv.waitFor('stderr', /listening on .*:(\d+)\/udp/))[1]);
  if (r.ready === 'ready') await recv.waitFor('stderr', /ready/);
  else if (!(await waitBound(port))) throw new Error(`${name} did not bind port ${port}: ${recv.out.stderr.slice(-300)}`);
  return port;
}

/** Lets the receiver drain, reads its socket's drops, stops it; resolves with its exit. */
async function drainAndStop(name, r, recv, pid) {
  let kernel;
  if (r.count === 'sink') {
    await Promise.race([recv.exited, sleep(10_000)]);
  } else {
    // A quiet second, then as long as datagrams still wait in the socket (at most 5 s more).
    await sleep(1000);
    const deadline = Date.now() + 5000;
    while (socketDrops(pid).queuedBytes > 0 && Date.now() < deadline) await sleep(50);
    kernel = socketDrops(pid);
    signalPid(pid, 'SIGTERM');
  }
  const done = await Promise.race([recv.exited, sleep(15_000).then(() => undefined)]);
  if (!done) {
    recv.signalGroup('SIGKILL');
    throw new Error(`${name} did not stop within 15 s of SIGTERM`);
  }
  return { done, kernel };
}

/** Received and dropped, from what the receiver printed or wrote. */
async function counts(name, r, { done, kernel }, wc, size) {
  if (r.count === 'sink') {
    const s = done.stdout.match(/received (\d+) bytes (\d+) drops (\d+)/);
    if (!s) throw new Error(`udp-sink printed no summary: ${done.stdout}${done.stderr}`);
    return { received: Number(s[1]), drops: Number(s[3]) };
  }
  if (r.count === 'summary') {
    const s = done.stderr.match(SUMMARY);
    if (!s) throw new Error(`${name} printed no summary; stderr: ${done.stderr.slice(-400)}`);
    return { received: Number(s[1]), drops: s[3] === 'n/a' ? kernel.drops : Number(s[3]), outputDropped: s[4] === undefined ? 0 : Number(s[4]) };
  }
  const w = await wc.exited;
  return { received: Math.floor(Number(w.stdout.trim()) / size), drops: kernel.drops };
}

/**
 * Runs one test: `count` datagrams of `size` bytes of payload `kind` at `rate` (0: full speed).
 * `output`: 'pipe' (stdout into `wc -c`) or 'devnull'. Resolves with counts, the blaster's own
 * figures, the receiver's CPU time (GNU time's, and `cpu`: after it said it was ready) and peak
 * RSS.
 */
export async function receiveTest(ctx, name, { count, size, rate = 0, kind = 'text', output = 'pipe', receiver }) {
  // `receiver`: a receiver of the same shape as RECEIVERS' for a scenario of its own (capture.mjs).
  const r = receiver ?? RECEIVERS[name];
  const cpu0 = cpuSnapshot();
  const began = Date.now();
  const port = r.ready === 'listening' ? 0 : await freePort();
  const timeFile = join(ctx.tmpDir, `time-${serial++}.txt`);
  const [cmd, args] = r.argv(ctx, port);
  const devnull = output === 'devnull' ? openSync('/dev/null', 'w') : undefined;
  const stdoutIsPipe = r.count !== 'sink' && output === 'pipe';
  const recv = start(...timed(timeFile, cmd, args), {
    stdio: ['ignore', devnull ?? 'pipe', 'pipe'],
    collect: stdoutIsPipe ? ['stderr'] : ['stdout', 'stderr'],
    timeoutMs: 200_000,
  });
  if (devnull !== undefined) closeSync(devnull);
  // Output goes through a real pipe to a cheap reader, as `udpkit listen | ...` would.
  const wc = stdoutIsPipe ? start('wc', ['-c'], { stdio: [recv.child.stdout, 'pipe', 'pipe'], timeoutMs: 200_000 }) : undefined;
  if (wc) recv.child.stdout.destroy();
  try {
    const target = await whenReady(name, r, recv, port);
    const pid = await waitChild(recv.pid);
    const atReady = cpuOf(pid);

    const blastTimeFile = `${timeFile}.blast`;
    const blast = await run(...timed(blastTimeFile, ctx.bins['udp-blast'], blastArgs({ port: target, count, size, rate, kind })), { timeoutMs: 150_000 });
    const atBlastEnd = cpuOf(pid);
    const m = blast.stdout.match(/sent (\d+) in ([\d.]+) seconds/);
    if (!m) throw new Error(`udp-blast failed: ${blast.stderr || blast.stdout}`);
    const sent = Number(m[1]);
    const blastSeconds = Number(m[2]);

    const stopped = await drainAndStop(name, r, recv, pid);
    const time = readTime(timeFile);
    const blastTime = readTime(blastTimeFile);
    // Start-up (Node loading udpkit: some 0.1 s) is not the cost of receiving.
    const cpu = time && atReady ? { user: Math.max(0, time.user - atReady.user), sys: Math.max(0, time.sys - atReady.sys) } : undefined;
    // On loopback the sender's system time includes delivering into the receiver's socket.
    const blastCores = blastTime ? (blastTime.user + blastTime.sys) / Math.max(blastSeconds, 0.001) : NaN;
    // Its load while the blast lasted (a slow receiver works on after it, draining its socket).
    const cores = atReady && atBlastEnd ? (atBlastEnd.user + atBlastEnd.sys - atReady.user - atReady.sys) / Math.max(blastSeconds, 0.001) : NaN;
    const res = { name, kind, size, sent, blastSeconds, blastCores, cores, time, cpu, kernelSeen: stopped.kernel?.drops };
    Object.assign(res, await counts(name, r, stopped, wc, size));
    res.unaccounted = sent - res.received - res.drops;
    // Cores other processes on the machine used during this test (every child is reaped now).
    res.othersCores = otherCpu(cpu0, cpuSnapshot()).others * ctx.machine.nproc;
    res.testSeconds = (Date.now() - began) / 1000;
    return res;
  } finally {
    recv.signalGroup('SIGKILL');
    wc?.signalGroup('SIGKILL');
  }
}
