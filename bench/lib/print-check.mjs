// Before comparing udpkit with the C printer, check that they do the same work: the same
// datagrams, of every payload kind and size, into both; their lines must be identical but for
// the sender's port (each blast sends from a port of its own).
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { socketDrops } from './kernel.mjs';
import { blastArgs, RECEIVERS } from './receive.mjs';
import { run, start } from './procs.mjs';

const NAMES = ['C printer', 'udpkit text'];
const SUMMARY = /received (\d+) datagrams, (\d+) bytes; kernel dropped (\d+)/;

/** The lines of a receiver's output, each with its sender's port taken out. */
function linesOf(file) {
  return readFileSync(file, 'latin1').split('\n').map((l) => l.replace(/ from PORT \d+ on /, ' from PORT _ on '));
}

async function startReceiver(ctx, name) {
  const file = join(ctx.tmpDir, `print-check-${name.replaceAll(' ', '-')}.txt`);
  const fd = openSync(file, 'w');
  const [cmd, args] = RECEIVERS[name].argv(ctx, 0);
  const p = start(cmd, args, { stdio: ['ignore', fd, 'pipe'], collect: ['stderr'], timeoutMs: 120_000 });
  closeSync(fd);
  const port = Number((await p.waitFor('stderr', /listening on .*:(\d+)\/udp/))[1]);
  return { name, p, port, file };
}

async function stopReceiver(rc) {
  // Everything sent has arrived once the socket's queue is empty (at most 5 s).
  const deadline = Date.now() + 5000;
  while (socketDrops(rc.p.pid).queuedBytes > 0 && Date.now() < deadline) await sleep(20);
  await sleep(200);
  rc.p.signalGroup('SIGTERM');
  const done = await Promise.race([rc.p.exited, sleep(15_000).then(() => undefined)]);
  if (!done) throw new Error(`${rc.name} did not stop within 15 s of SIGTERM`);
  const s = done.stderr.match(SUMMARY);
  if (!s) throw new Error(`${rc.name} printed no summary: ${done.stderr.slice(-300)}`);
  return { received: Number(s[1]), drops: Number(s[3]) };
}

/**
 * Sends `count` datagrams of each kind and size (slowly, so nothing is dropped) to the C
 * printer and to `udpkit listen`, then compares what they printed. Resolves with how many
 * kind/size pairs matched, and the first line that differs.
 */
export async function printCheck(ctx, { sizes, kinds, count = 256, rate = 5000 }) {
  const rcs = [];
  try {
    for (const name of NAMES) rcs.push(await startReceiver(ctx, name));
    const pairs = sizes.flatMap((size) => kinds.map((kind) => ({ size, kind })));
    for (const { size, kind } of pairs) {
      for (const rc of rcs) {
        const b = await run(ctx.bins['udp-blast'], blastArgs({ port: rc.port, count, size, rate, kind }), { timeoutMs: 60_000 });
        if (!/sent \d+ in/.test(b.stdout)) throw new Error(`udp-blast failed: ${b.stderr}`);
      }
    }
    const stops = [];
    for (const rc of rcs) stops.push({ ...(await stopReceiver(rc)), lines: linesOf(rc.file) });
    const [c, u] = stops;
    const sent = pairs.length * count;
    const res = { pairs: pairs.length, count, sent, matched: 0, firstDiff: undefined, counts: stops.map((s) => ({ received: s.received, drops: s.drops })) };
    // Both print in arrival order, and both got the pairs in the same order.
    for (let k = 0; k < pairs.length; k++) {
      let same = c.received === sent && u.received === sent;
      for (let i = k * count; same && i < (k + 1) * count; i++) {
        if (c.lines[i] === u.lines[i]) continue;
        same = false;
        res.firstDiff ??= { ...pairs[k], datagram: i - k * count, c: c.lines[i]?.slice(0, 300), udpkit: u.lines[i]?.slice(0, 300) };
      }
      if (same) res.matched++;
    }
    return res;
  } finally {
    for (const rc of rcs) rc.p.signalGroup('SIGKILL');
  }
}
