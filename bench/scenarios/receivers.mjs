// 1. Receivers under a blast: 1,000,000 datagrams at full speed from one C sender, 64 B and
// 1200 B, into the C sink and into udpkit, nc, ncat and socat. Runs are interleaved (every
// receiver once, then again) so that a noisy stretch hits all of them alike.
import { RECEIVERS, receiveTest, receiverCommand } from '../lib/receive.mjs';
import { cpuPerDatagram, cpuText, excessText, headroomText } from '../lib/cpu.mjs';
import { int, max, median, pct, ratio, times, fixed, rate } from '../lib/stats.mjs';

const SIZES = [64, 1200];
const OTHERS = ['nc -u -l', 'ncat -u -l --recv-only', 'socat -u UDP-RECV'];


export const name = 'Receivers under a blast';

export async function run(ctx) {
  const count = ctx.scale(1_000_000);
  const names = Object.keys(RECEIVERS);
  const results = {};
  const total = ctx.runs * SIZES.length * names.length;
  let k = 0;
  for (let rep = 0; rep < ctx.runs; rep++) {
    for (const size of SIZES) {
      for (const name of names) {
        const r = await receiveTest(ctx, name, { count, size });
        (results[`${size}/${name}`] ??= []).push(r);
        ctx.log(`[1 receivers ${++k}/${total}] ${size} B ${name}: ${int(r.received)} of ${int(r.sent)}, kernel dropped ${int(r.drops)}`);
      }
    }
  }

  const fig = (size, name) => {
    const rs = results[`${size}/${name}`];
    return {
      received: median(rs.map((r) => r.received)),
      drops: median(rs.map((r) => r.drops)),
      sent: median(rs.map((r) => r.sent)),
      unaccounted: max(rs.map((r) => Math.abs(r.unaccounted))),
      blastRate: median(rs.map((r) => r.sent / r.blastSeconds)),
      blastCores: median(rs.map((r) => r.blastCores)),
      cores: median(rs.map((r) => r.cores)),
      othersCores: median(rs.map((r) => r.othersCores)),
      cpu: cpuPerDatagram(rs.map((r) => ({ time: r.time, n: r.received }))),
      rssMb: median(rs.map((r) => r.time?.rssMb)),
    };
  };

  const rows = [];
  const targets = [];
  const limits = [];
  for (const size of SIZES) {
    const c = fig(size, 'C sink');
    for (const name of names) {
      const f = fig(size, name);
      rows.push([
        `${size} B`, name, int(f.received), pct(f.received / f.sent), times(ratio(f.received, c.received)),
        int(f.drops), fixed(f.cpu.total, 2), fixed(f.rssMb, 0), rate(f.blastRate),
      ]);
    }
    const text = fig(size, 'udpkit text');
    const json = fig(size, 'udpkit --json');
    const best = OTHERS.map((n) => ({ n, f: fig(size, n) })).sort((a, b) => b.f.received - a.f.received)[0];
    const t1 = { what: `${size} B: udpkit text received vs C sink`, measured: int(text.received), reference: int(c.received), ratio: ratio(text.received, c.received), needed: '>= 0.95x' };
    t1.pass = t1.ratio >= 0.95;
    const t2 = { what: `${size} B: udpkit text vs best of nc/ncat/socat (${best.n})`, measured: int(text.received), reference: int(best.f.received), ratio: ratio(text.received, best.f.received), needed: '>= 1.00x' };
    t2.pass = t2.ratio >= 1;
    const t3 = { what: `${size} B: udpkit --json received vs C sink`, measured: int(json.received), reference: int(c.received), ratio: ratio(json.received, c.received), needed: '>= 0.80x' };
    t3.pass = t3.ratio >= 0.8;
    targets.push(t1, t2, t3);

    const accounted = (f) => f.unaccounted === 0
      ? 'received + kernel dropped = sent in every run, so every loss was a receive-buffer overflow: the process did not read fast enough'
      : `up to ${int(f.unaccounted)} datagrams in a run were neither received nor counted as kernel drops`;
    for (const [t, f, label] of [[t1, text, 'udpkit text'], [t3, json, 'udpkit --json']]) {
      if (t.pass && (label !== 'udpkit text' || t2.pass)) continue;
      const need = (f.blastRate * f.cpu.total) / 1e6;
      limits.push(
        `**${size} B, ${label}** (${times(t.ratio)} of the C sink${label === 'udpkit text' ? `, ${times(t2.ratio)} of ${best.n}` : ''}): ` +
        `udp-blast sent ${rate(f.blastRate)} datagrams/s; ${label} received ${pct(f.received / f.sent)} and the kernel dropped ${int(f.drops)} ` +
        `(medians of ${ctx.runs}); ${accounted(f)}. Its CPU per received datagram was ${cpuText(f.cpu)}, start-up included, against the ` +
        `C sink's ${cpuText(c.cpu)}. ${excessText(f.cpu, c.cpu, 'the C sink')} ` +
        headroomText({ cores: f.cores, need, senderCores: f.blastCores, othersCores: f.othersCores, nproc: ctx.machine.nproc }),
      );
    }
  }
  return {
    id: 1,
    title: `Receivers under a blast (${int(count)} datagrams from udp-blast at full speed)`,
    header: ['size', 'receiver', 'received', '% of sent', 'vs C sink', 'kernel dropped', 'CPU µs/datagram', 'RSS MB', 'blast rate/s'],
    rows,
    targets,
    limits,
    notes: [
      'Counts: the C sink and udpkit print their own; nc, ncat and socat are counted as bytes out of their stdout (through a pipe into `wc -c`) divided by the datagram size, with kernel drops read from the socket\'s `drops` column in /proc/net/udp{,6}. Each receiver runs under GNU time; it is stopped with SIGTERM after the blast, a quiet second and an empty receive queue.',
      'The C sink and udpkit ask for an 8 MB receive buffer (the kernel caps it at net.core.rmem_max); nc, ncat and socat run with their defaults (net.core.rmem_default), as users would run them.',
    ],
    commands: [
      `# each receiver, one at a time (udpkit prints the port it bound; the others get a free one):`,
      ...Object.keys(RECEIVERS).map((n) => receiverCommand(ctx, n)),
      `bench/out/udp-blast 127.0.0.1 PORT ${count} 64     # and 1200`,
      `# then, 1 s after the blast: kill -TERM <receiver pid>; udpkit prints "received N datagrams, B bytes; kernel dropped D" on stderr`,
    ],
  };
}
