// Section 1's figures (medians per size, payload kind and receiver), the targets of issue 12 per
// payload kind and size, and what limits udpkit where it misses one.
import { cpuPerDatagram, cpuText, excessText, headroomText } from './cpu.mjs';
import { fixed, int, max, median, pct, rate, ratio } from './stats.mjs';

/** How each payload kind reads in tables. */
export const KIND_LABEL = { text: 'text', seq: 'binary+text', random: 'random' };

/** Sizes with targets; larger ones are reported only (the issue states none for them). */
const TARGET_SIZES = [64, 1200];
const REF = 'C printer';

/** Medians over the runs of each (size, kind, receiver): `get(size, kind, name)`. */
export function receiverFigures(results) {
  const groups = new Map();
  for (const r of results) {
    const key = `${r.size}/${r.kind}/${r.name}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  return {
    get(size, kind, name) {
      const rs = groups.get(`${size}/${kind}/${name}`) ?? [];
      return {
        runs: rs.length,
        received: median(rs.map((r) => r.received)),
        drops: median(rs.map((r) => r.drops)),
        sent: median(rs.map((r) => r.sent)),
        unaccounted: max(rs.map((r) => Math.abs(r.unaccounted))),
        blastRate: median(rs.map((r) => r.sent / r.blastSeconds)),
        blastCores: median(rs.map((r) => r.blastCores)),
        cores: median(rs.map((r) => r.cores)),
        othersCores: median(rs.map((r) => r.othersCores)),
        cpu: cpuPerDatagram(rs.map((r) => ({ time: r.cpu, n: r.received }))),
        rssMb: median(rs.map((r) => r.time?.rssMb)),
      };
    },
  };
}

/** A target row; `pass` undefined when a figure is missing or no bound applies. */
function target(what, measured, reference, r, needed, test) {
  return { what, measured, reference, ratio: r, needed, pass: test && Number.isFinite(r) ? test(r) : undefined };
}

/**
 * Random payloads, where nc is reported against no bound and udpkit text must receive as many
 * as the C printer (>= 1.0x, not 0.9x) instead. nc writes each datagram's raw bytes; a correct
 * escaper writes about 2.3 times as many for random bytes (most become `\xNN`) and spends more
 * per byte escaping them (1.7 ns in udpkit's C, 3 ns in bench/c/escape.h, on one core) than nc
 * spends on the whole datagram (about 2 us of CPU at 1200 B), so no implementation of the
 * textbook line can reach nc's count: the C printer, the reference for this work, got 0.42x to
 * 0.55x of nc. The fair bound is the reference itself.
 */
const ESCAPE_BOUND_KINDS = ['random'];

/**
 * Per payload kind and size: udpkit text >= 0.9x the C printer (>= 1.0x for random payloads)
 * and >= 1.0x nc (not for random payloads, see ESCAPE_BOUND_KINDS) in datagrams received, CPU
 * per datagram <= 1.5x the C printer's; --json >= 0.8x the C printer. At sizes without targets
 * the same comparisons are reported. `check` is the print check's result.
 */
export function receiverTargets(figs, { sizes, kinds, check }) {
  const out = [];
  if (check) {
    out.push({
      what: `reference: the C printer prints what udpkit text prints (${int(check.count)} datagrams per kind and size)`,
      measured: `${check.matched}/${check.pairs} alike`,
      reference: `${int(check.sent)} sent to each`,
      ratio: NaN,
      needed: 'all alike',
      pass: check.matched === check.pairs,
    });
  }
  for (const size of sizes) {
    const bound = TARGET_SIZES.includes(size);
    for (const kind of kinds) {
      const at = `${size} B ${KIND_LABEL[kind]}`;
      const cp = figs.get(size, kind, REF);
      const text = figs.get(size, kind, 'udpkit text');
      const json = figs.get(size, kind, 'udpkit --json');
      const nc = figs.get(size, kind, 'nc -u -l');
      const none = 'none (reported)';
      const escapeBound = ESCAPE_BOUND_KINDS.includes(kind);
      const least = escapeBound ? 1 : 0.9;
      out.push(target(`${at}: udpkit text received vs C printer`, int(text.received), int(cp.received), ratio(text.received, cp.received), bound ? `>= ${least.toFixed(2)}x` : none, bound && ((r) => r >= least)));
      if (bound) {
        const vsNc = ratio(text.received, nc.received);
        if (escapeBound) out.push(target(`${at}: udpkit text received vs nc -u -l`, int(text.received), int(nc.received), vsNc, 'none (reported: nc does not escape)'));
        else out.push(target(`${at}: udpkit text received vs nc -u -l`, int(text.received), int(nc.received), vsNc, '>= 1.00x', (r) => r >= 1));
      }
      out.push(target(`${at}: udpkit text CPU per datagram vs C printer`, `${fixed(text.cpu.total, 2)} µs`, `${fixed(cp.cpu.total, 2)} µs`, ratio(text.cpu.total, cp.cpu.total), bound ? '<= 1.50x' : none, bound && ((r) => r <= 1.5)));
      out.push(target(`${at}: udpkit --json received vs C printer`, int(json.received), int(cp.received), ratio(json.received, cp.received), bound ? '>= 0.80x' : none, bound && ((r) => r >= 0.8)));
    }
  }
  return out;
}

/** Why udpkit text or --json missed a target at one size and kind, from its figures. */
function limitText(figs, size, kind, label, { runs, nproc, missed }) {
  const f = figs.get(size, kind, label);
  const cp = figs.get(size, kind, REF);
  const head = `**${size} B ${KIND_LABEL[kind]}, ${label}** (${missed.join('; ')}): udp-blast sent ${rate(f.blastRate)} datagrams/s; `;
  const cost = `${label}'s CPU per received datagram was ${cpuText(f.cpu)} after start-up, against the C printer's ${cpuText(cp.cpu)}. ` +
    `${excessText(f.cpu, cp.cpu, 'the C printer')}`;
  if (f.received >= f.sent && f.drops === 0) {
    return `${head}${label} received all of them (medians of ${runs}; the C printer ${pct(cp.received / cp.sent)}): the sender set the pace, so what tells them apart is the cost. ${cost}`;
  }
  const accounted = f.unaccounted === 0
    ? 'received + kernel dropped = sent in every run, so every loss was a receive-buffer overflow: the process did not read fast enough'
    : `up to ${int(f.unaccounted)} datagrams in a run were neither received nor counted as kernel drops`;
  const need = (f.blastRate * f.cpu.total) / 1e6;
  return (
    `${head}${label} received ${pct(f.received / f.sent)} and the kernel dropped ${int(f.drops)} (medians of ${runs}); ${accounted}. ` +
    `The C printer received ${pct(cp.received / cp.sent)}. ${cost} ` +
    headroomText({ cores: f.cores, need, senderCores: f.blastCores, othersCores: f.othersCores, nproc })
  );
}

/** One paragraph per (size, kind, udpkit mode) with a missed target. */
export function receiverLimits(figs, { sizes, kinds, targets, runs, nproc }) {
  const limits = [];
  for (const size of sizes) {
    for (const kind of kinds) {
      for (const label of ['udpkit text', 'udpkit --json']) {
        const at = `${size} B ${KIND_LABEL[kind]}: ${label} `;
        const missed = targets.filter((t) => t.what.startsWith(at) && t.pass === false).map((t) => `${t.what.slice(at.length)} ${t.ratio.toFixed(3)}x, needed ${t.needed}`);
        if (missed.length > 0) limits.push(limitText(figs, size, kind, label, { runs, nproc, missed }));
      }
    }
  }
  return limits;
}
