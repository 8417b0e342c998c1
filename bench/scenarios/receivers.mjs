// 1. Receivers under a blast: 400,000 datagrams at full speed from one C sender, of three
// payload kinds (printable text; 8 binary bytes then text; random bytes) at 64, 1200 and 8000
// bytes, into the C sink (counts only), the C printer (udpkit's work in C), udpkit text and
// --json, nc, ncat and socat. Runs are interleaved (every receiver once per kind and size, then
// again) so that a noisy stretch hits all of them alike.
import { PAYLOAD_KINDS, RECEIVERS, receiveTest, receiverCommand } from '../lib/receive.mjs';
import { printCheck } from '../lib/print-check.mjs';
import { receiverFigures, receiverLimits, receiverTargets, KIND_LABEL } from '../lib/receiver-targets.mjs';
import { fixed, int, pct, rate, ratio, times } from '../lib/stats.mjs';

const SIZES = [64, 1200, 8000];
/** Datagrams per run, by size. */
const COUNTS = { 64: 400_000, 1200: 400_000, 8000: 400_000 };

export const name = 'Receivers under a blast';

/** The sizes, kinds and receivers this run covers (all, unless run.mjs was told fewer). */
function selection(ctx) {
  const pick = (all, chosen) => (chosen?.length ? all.filter((x) => chosen.includes(x)) : all);
  return {
    sizes: pick(SIZES, ctx.select?.sizes),
    kinds: pick(PAYLOAD_KINDS, ctx.select?.kinds),
    names: pick(Object.keys(RECEIVERS), ctx.select?.receivers),
  };
}

function tableRows(figs, size, kinds, names) {
  const rows = [];
  for (const kind of kinds) {
    const cp = figs.get(size, kind, 'C printer');
    for (const n of names) {
      const f = figs.get(size, kind, n);
      if (!f.runs) continue;
      rows.push([
        KIND_LABEL[kind], n, int(f.received), pct(f.received / f.sent), times(ratio(f.received, cp.received)), int(f.drops),
        fixed(f.cpu.total, 2), times(ratio(f.cpu.total, cp.cpu.total)), fixed(f.rssMb, 0), rate(f.blastRate),
      ]);
    }
  }
  return rows;
}

export async function run(ctx) {
  const { sizes, kinds, names } = selection(ctx);
  const countFor = (size) => ctx.scale(COUNTS[size]);
  let check;
  if (names.includes('C printer') && names.includes('udpkit text')) {
    check = await printCheck(ctx, { sizes, kinds });
    ctx.log(`[1 receivers] print check: ${check.matched}/${check.pairs} kind/size pairs printed alike by the C printer and udpkit`);
    if (check.firstDiff) ctx.log(`[1 receivers] first difference: ${JSON.stringify(check.firstDiff)}`);
  }
  const results = [];
  const total = ctx.runs * sizes.length * kinds.length * names.length;
  let k = 0;
  for (let rep = 0; rep < ctx.runs; rep++) {
    for (const size of sizes) {
      for (const kind of kinds) {
        for (const n of names) {
          const r = await receiveTest(ctx, n, { count: countFor(size), size, kind });
          results.push(r);
          ctx.log(`[1 receivers ${++k}/${total}] ${size} B ${kind} ${n}: ${int(r.received)} of ${int(r.sent)}, kernel dropped ${int(r.drops)}, ` +
            `${fixed(((r.cpu?.user ?? NaN) + (r.cpu?.sys ?? NaN)) * 1e6 / r.received, 2)} µs/datagram`);
        }
      }
    }
  }
  const figs = receiverFigures(results);
  const targets = receiverTargets(figs, { sizes, kinds, check });
  const limits = receiverLimits(figs, { sizes, kinds, targets, runs: ctx.runs, nproc: ctx.machine.nproc });
  const counts = [...new Set(sizes.map(countFor))];
  return {
    id: 1,
    title: `Receivers under a blast (${counts.map(int).join(' or ')} datagrams from udp-blast at full speed)`,
    tables: sizes.map((size) => ({
      title: `${size} B, ${int(countFor(size))} datagrams`,
      header: ['payload', 'receiver', 'received', '% of sent', 'vs C printer', 'kernel dropped', 'CPU µs/datagram', 'CPU vs C printer', 'RSS MB', 'blast rate/s'],
      rows: tableRows(figs, size, kinds, names),
    })),
    targets,
    limits,
    notes: [
      'Payloads (udp-blast `-k`): **text** is printable ASCII (the datagram\'s number in hex, then letters); **binary+text** starts with the number as 8 big-endian bytes, then printable text; **random** is bytes from a seeded generator, different in every datagram and the same for every receiver. Printed, the binary bytes and most random bytes become `\\xNN`.',
      'The C printer (bench/c/udp-print.c) does udpkit\'s work in C: recvmmsg 64 at a time, an 8 MB receive buffer asked, the textbook line with udpkit\'s escaping (bench/c/escape.h), output written 64 KiB at a time (what a pipe holds) or when the socket is empty. ' +
        (check ? `Before the runs, both printed the same ${int(check.count)} datagrams of each payload kind and size: ${check.matched} of ${check.pairs} pairs line for line alike (sender ports aside).` : ''),
      'Counts: the C sink, the C printer and udpkit print their own; nc, ncat and socat are counted as bytes out of their stdout (through a pipe into `wc -c`) divided by the datagram size, with kernel drops read from the socket\'s `drops` column in /proc/net/udp{,6}. Each receiver runs under GNU time; it is stopped with SIGTERM after the blast, a quiet second and an empty receive queue (the C sink stops itself after a quiet second).',
      'CPU µs/datagram is the receiver\'s user + system time from the moment it was ready (its /proc/PID/stat then, subtracted from GNU time\'s total at the end: start-up left out) over the datagrams it received. When the sender is the bottleneck and everyone receives everything, this column still says who is cheaper.',
      'The C sink, the C printer and udpkit ask for an 8 MB receive buffer (the kernel caps it at net.core.rmem_max); nc, ncat and socat run with their defaults (net.core.rmem_default), as users would run them.',
    ],
    commands: [
      '# each receiver, one at a time (those given port 0 print the port they bound; the others get a free one):',
      ...names.map((n) => receiverCommand(ctx, n)),
      `bench/out/udp-blast -k text -s 1 127.0.0.1 PORT ${countFor(64)} 64     # -k text, seq, random; sizes ${SIZES.join(', ')}`,
      '# then, 1 s after the blast: kill -TERM <receiver pid>; udpkit and udp-print print "received N datagrams, B bytes; kernel dropped D" on stderr',
      'printf \'a\\tb\\x1b[2J\\xff\' | bench/out/udp-print --escape     # the C printer\'s escaping of stdin, to compare with udpkit\'s',
    ],
  };
}
