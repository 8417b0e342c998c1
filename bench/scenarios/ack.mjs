// 8. Delivery you can count on (`send --ack`): throughput into `udpkit listen` with nothing in
// the way, then 2,000 messages through `udpkit relay` losing, duplicating and reordering on
// purpose. Targets: >= 20,000 messages/s; through the relay complete, in order, exactly once,
// in under 10 s. Each run checks the listener's output line by line.
import { closeSync, createWriteStream, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readTime, start, timed } from '../lib/procs.mjs';
import { fixed, int, median, rate } from '../lib/stats.mjs';

/** Bytes per message in the throughput test (the line without its newline). */
const SIZE = 100;
/** Messages through the relay. */
const RELAY_COUNT = 2000;
const IMPAIRMENT = { loss: 0.2, dup: 0.05, reorder: 0.1 };
const MIN_RATE = 20_000;
const MAX_RELAY_SECONDS = 10;

// Non-greedy: the relay's line names its upstream's port after its own.
const LISTENING = /listening on .*?:(\d+)\/udp/;
const CONFIRMED = /sent (\d+) messages? to \S+, all confirmed \((\d+) retransmissions?\)/;
const RELAY_COUNTS = /up: received (\d+), forwarded (\d+), dropped (\d+), duplicated (\d+), reordered (\d+).*?; down: received (\d+), forwarded (\d+), dropped (\d+), duplicated (\d+), reordered (\d+)/;

let serial = 0;

/** Line `i` of the throughput input: a 12-digit number (from 1), a space, filler; SIZE characters. */
function line(i) {
  return `${String(i).padStart(12, '0')} ${'udpkit-ack-bench-'.repeat(6)}`.slice(0, SIZE);
}

/** `count` lines of SIZE characters (SIZE + 1 bytes with the newline) in `outDir`, written once. */
async function ackLinesFile(outDir, count, log) {
  const path = join(outDir, `ack-lines-${count}.txt`);
  if (existsSync(path) && statSync(path).size === count * (SIZE + 1)) return path;
  log(`writing ${int(count)} lines of ${SIZE} B to ${path}`);
  const out = createWriteStream(path);
  for (let i = 1; i <= count; ) {
    let chunk = '';
    for (const end = Math.min(i + 8192, count + 1); i < end; i++) chunk += line(i) + '\n';
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return path;
}

/**
 * Checks the listener's output: exactly `count` lines, line i carrying message `expected(i)`
 * (i from 1). Resolves with the number of lines and whether all are right and in order.
 */
function checkOutput(file, count, expected) {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  let inOrder = lines.length === count;
  for (let i = 0; inOrder && i < lines.length; i++) {
    if (!lines[i].startsWith(`received message: ${expected(i + 1)} from `)) inOrder = false;
  }
  return { lines: lines.length, exact: inOrder };
}

/** Waits up to `ms` for `proc` to exit by itself, then SIGTERM, then SIGKILL. Its exit result. */
async function stop(proc, { ms = 0, signal = 'SIGTERM' } = {}) {
  const within = (t) => Promise.race([proc.exited, sleep(t).then(() => undefined)]);
  let done = ms > 0 ? await within(ms) : undefined;
  if (!done) {
    proc.signalGroup(signal);
    // The listener keeps acknowledging for ~2 s after a stop (--linger).
    done = await within(8000);
  }
  if (!done) {
    proc.signalGroup('SIGKILL');
    done = await proc.exited;
  }
  return done;
}

/** A `udpkit listen -n count` writing to a file; resolves once it says which port it got. */
async function listener(ctx, count) {
  const outFile = join(ctx.tmpDir, `ack-listen-${serial++}.txt`);
  const fd = openSync(outFile, 'w');
  const proc = start('node', [ctx.udpkit, 'listen', '--port', '0', '--no-stop-word', '-n', String(count)], {
    stdio: ['ignore', fd, 'pipe'],
    collect: ['stderr'],
    timeoutMs: 180_000,
  });
  closeSync(fd);
  const port = Number((await proc.waitFor('stderr', LISTENING))[1]);
  return { proc, port, outFile };
}

/** The sender's figures from its stderr, exit code and GNU time. */
function senderResult(done, timeFile, count) {
  const m = done.stderr.match(CONFIRMED);
  const time = readTime(timeFile);
  return {
    code: done.code,
    confirmed: m ? Number(m[1]) === count : false,
    retransmissions: m ? Number(m[2]) : NaN,
    elapsed: time?.elapsed ?? NaN,
    cpu: time ? time.user + time.sys : NaN,
    rssMb: time?.rssMb ?? NaN,
    stderr: done.stderr.trim().split('\n').pop() ?? '',
  };
}

async function throughputTest(ctx, count, file) {
  const l = await listener(ctx, count);
  const timeFile = join(ctx.tmpDir, `ack-send-${serial++}.txt`);
  const input = openSync(file, 'r');
  try {
    const sender = start(...timed(timeFile, 'node', [ctx.udpkit, 'send', '--ack', `127.0.0.1:${l.port}`]), {
      stdio: [input, 'pipe', 'pipe'],
      timeoutMs: 180_000,
    });
    const s = senderResult(await sender.exited, timeFile, count);
    // With -n it stops by itself once it has them all, after its linger.
    const heard = await stop(l.proc, { ms: 10_000 });
    const out = checkOutput(l.outFile, count, line);
    return { ...s, ...out, rate: count / s.elapsed, listenerSummary: heard.stderr.trim().split('\n').pop() };
  } finally {
    closeSync(input);
    l.proc.signalGroup('SIGKILL');
  }
}

async function relayTest(ctx, seed) {
  const l = await listener(ctx, RELAY_COUNT);
  const relay = start('node', [ctx.udpkit, 'relay', '--port', '0', '--to', `127.0.0.1:${l.port}`,
    '--loss', String(IMPAIRMENT.loss), '--dup', String(IMPAIRMENT.dup), '--reorder', String(IMPAIRMENT.reorder), '--seed', String(seed)], { timeoutMs: 180_000 });
  try {
    const port = Number((await relay.waitFor('stderr', LISTENING))[1]);
    const timeFile = join(ctx.tmpDir, `ack-relay-send-${serial++}.txt`);
    // As a user would type it; GNU time measures the sender alone, not seq.
    const sender = start('sh', ['-c', 'seq 1 "$1" | /usr/bin/time -o "$2" -f "%M %e %U %S" node "$3" send --ack "$4"', 'sh',
      String(RELAY_COUNT), timeFile, ctx.udpkit, `127.0.0.1:${port}`], { timeoutMs: 180_000 });
    const s = senderResult(await sender.exited, timeFile, RELAY_COUNT);
    await stop(l.proc, { ms: 10_000 });
    const relayDone = await stop(relay, { signal: 'SIGTERM' });
    const c = relayDone.stderr.match(RELAY_COUNTS)?.slice(1).map(Number);
    const counts = c ? { up: { received: c[0], dropped: c[2], dup: c[3], reordered: c[4] }, down: { received: c[5], dropped: c[7], dup: c[8], reordered: c[9] } } : undefined;
    // A run that bypassed the relay would prove nothing.
    if (!counts || counts.up.received < RELAY_COUNT) throw new Error(`relay (seed ${seed}) forwarded no test: ${relayDone.stderr.slice(-400)}`);
    const out = checkOutput(l.outFile, RELAY_COUNT, String);
    return { ...s, ...out, seed, counts };
  } finally {
    relay.signalGroup('SIGKILL');
    l.proc.signalGroup('SIGKILL');
  }
}

export const name = 'Acknowledged delivery';

export async function run(ctx) {
  const count = ctx.quick ? 20_000 : 100_000;
  const file = await ackLinesFile(ctx.outDir, count, ctx.log);
  const tput = [];
  const lossy = [];
  for (let rep = 0; rep < ctx.runs; rep++) {
    const t = await throughputTest(ctx, count, file);
    tput.push(t);
    ctx.log(`[8 ack ${rep * 2 + 1}/${ctx.runs * 2}] ${int(count)} x ${SIZE} B: ${rate(t.rate)}/s, ${int(t.lines)} lines${t.exact ? ', exact' : ', NOT exact'}, exit ${t.code}`);
    const r = await relayTest(ctx, rep + 1);
    lossy.push(r);
    ctx.log(`[8 ack ${rep * 2 + 2}/${ctx.runs * 2}] relay seed ${rep + 1}: ${fixed(r.elapsed, 2)} s, ${int(r.retransmissions)} retransmissions, ${int(r.lines)} lines${r.exact ? ', exact' : ', NOT exact'}, exit ${r.code}`);
  }

  const ok = (r) => r.exact && r.code === 0 && r.confirmed;
  const delivered = (r, n) => `${int(r.lines)}/${int(n)}${r.exact ? ', in order' : ', WRONG'}${r.code === 0 ? '' : ` (exit ${r.code})`}`;
  const relayCounts = (c) => (c ? `${int(c.dropped)} / ${int(c.dup)} / ${int(c.reordered)} of ${int(c.received)}` : 'n/a');
  const rows = [];
  tput.forEach((r, i) => rows.push([`${int(count)} x ${SIZE} B, no impairment`, `run ${i + 1}`, delivered(r, count), fixed(r.elapsed, 2), rate(r.rate), int(r.retransmissions), '', '', fixed(r.cpu, 2), fixed(r.rssMb, 1)]));
  const tRate = median(tput.map((r) => r.rate));
  const tExact = tput.filter(ok).length;
  rows.push([`${int(count)} x ${SIZE} B, no impairment`, 'median', `${tExact}/${tput.length} runs exact`, fixed(median(tput.map((r) => r.elapsed)), 2), rate(tRate),
    int(median(tput.map((r) => r.retransmissions))), '', '', fixed(median(tput.map((r) => r.cpu)), 2), fixed(median(tput.map((r) => r.rssMb)), 1)]);
  lossy.forEach((r) => rows.push([`${int(RELAY_COUNT)} through the relay`, `seed ${r.seed}`, delivered(r, RELAY_COUNT), fixed(r.elapsed, 2), rate(RELAY_COUNT / r.elapsed),
    int(r.retransmissions), relayCounts(r.counts?.up), relayCounts(r.counts?.down), fixed(r.cpu, 2), fixed(r.rssMb, 1)]));
  const rSeconds = median(lossy.map((r) => r.elapsed));
  const rRetx = median(lossy.map((r) => r.retransmissions));
  const rExact = lossy.filter(ok).length;
  rows.push([`${int(RELAY_COUNT)} through the relay`, 'median', `${rExact}/${lossy.length} runs exact`, fixed(rSeconds, 2), rate(RELAY_COUNT / rSeconds), int(rRetx), '', '',
    fixed(median(lossy.map((r) => r.cpu)), 2), fixed(median(lossy.map((r) => r.rssMb)), 1)]);

  const impairment = `loss ${IMPAIRMENT.loss * 100}%, dup ${IMPAIRMENT.dup * 100}%, reorder ${IMPAIRMENT.reorder * 100}%`;
  const t1 = {
    what: `ack: udpkit send --ack messages/s, ${int(count)} x ${SIZE} B, no impairment (${tExact}/${tput.length} runs exact)`,
    measured: `${rate(tRate)}/s`,
    reference: '',
    ratio: NaN,
    needed: `>= ${int(MIN_RATE)}/s, every run exact`,
    pass: tRate >= MIN_RATE && tExact === tput.length,
  };
  const t2 = {
    what: `ack through udpkit relay (${impairment}): ${int(RELAY_COUNT)} complete, in order, once (${rExact}/${lossy.length} runs; ${int(rRetx)} retransmissions)`,
    measured: `${fixed(rSeconds, 2)} s`,
    reference: '',
    ratio: NaN,
    needed: `< ${MAX_RELAY_SECONDS} s, every run exact`,
    pass: rSeconds < MAX_RELAY_SECONDS && rExact === lossy.length,
  };
  const limits = [];
  if (!t1.pass) {
    const bad = tput.filter((r) => !ok(r));
    limits.push(
      `**Acknowledged throughput**: udpkit send --ack reached ${rate(tRate)}/s (median of ${tput.length}) for ${int(count)} messages of ${SIZE} B, ` +
      `${tExact}/${tput.length} runs delivered exactly and in order. Sender CPU ${fixed(median(tput.map((r) => r.cpu)), 2)} s for ` +
      `${fixed(median(tput.map((r) => r.elapsed)), 2)} s of wall time (start-up included).` +
      (bad.length ? ` Runs not exact: ${bad.map((r) => `${int(r.lines)} lines, exit ${r.code}: "${r.stderr}"`).join('; ')}.` : ''),
    );
  }
  if (!t2.pass) {
    const cpu = median(lossy.map((r) => r.cpu));
    const bad = lossy.filter((r) => !ok(r));
    limits.push(
      `**Acknowledged delivery through the relay** (${impairment}): ${int(RELAY_COUNT)} messages took ${lossy.map((r) => `${fixed(r.elapsed, 2)} s (seed ${r.seed})`).join(', ')}, ` +
      `median ${fixed(rSeconds, 2)} s, with ${lossy.map((r) => int(r.retransmissions)).join(', ')} retransmissions. ` +
      `The sender used ${fixed(cpu, 2)} s of CPU in that time: it is waiting, not working. The relay impairs both ways, so acknowledgements ` +
      'are lost too; every message whose resend is lost again waits out a retransmission timeout that doubles each time (up to 2 s), ' +
      'and the window of 64 cannot move past it meanwhile. How long depends on how many such double and triple losses the seed deals.' +
      (bad.length ? ` Runs not complete, in order and exactly once: ${bad.map((r) => `seed ${r.seed}: ${int(r.lines)} lines, exit ${r.code}: "${r.stderr}"`).join('; ')}.` : ''),
    );
  }
  return {
    id: 8,
    title: 'Acknowledged delivery (send --ack into listen, direct and through a lossy relay)',
    header: ['test', 'run', 'listener printed', 'sender wall s', 'messages/s', 'retransmissions', 'relay up: dropped / dup / reordered of received', 'relay down: dropped / dup / reordered of received', 'sender CPU s', 'sender RSS MB'],
    rows,
    targets: [t1, t2],
    limits,
    notes: [
      'Wall time, CPU and peak RSS are the sender\'s from GNU time (`%e %U+%S %M`), start-up included; messages/s is messages over that wall time. ' +
      'Every run checks the listener\'s output: exactly the messages sent, one line each, in order. ' +
      `Through the relay, run N uses --seed N; "up" is sender to listener (data), "down" listener to sender (acknowledgements), both impaired.`,
    ],
    commands: [
      `${ctx.udpkitShown} listen --port 0 --no-stop-word -n ${count} > out.txt     # prints "listening on *:PORT/udp"`,
      `/usr/bin/time -f "%M %e %U %S" ${ctx.udpkitShown} send --ack 127.0.0.1:PORT < bench/out/ack-lines-${count}.txt`,
      `${ctx.udpkitShown} listen --port 0 --no-stop-word -n ${RELAY_COUNT} > out.txt`,
      `${ctx.udpkitShown} relay --port 0 --to 127.0.0.1:PORT --loss ${IMPAIRMENT.loss} --dup ${IMPAIRMENT.dup} --reorder ${IMPAIRMENT.reorder} --seed N     # prints "listening on *:RPORT/udp"`,
      `seq 1 ${RELAY_COUNT} | /usr/bin/time -f "%M %e %U %S" ${ctx.udpkitShown} send --ack 127.0.0.1:RPORT`,
      '# then: the listener stops after its -n and ~2 s of linger; kill -TERM <relay pid>',
    ],
  };
}
