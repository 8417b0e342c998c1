// 2. Paced, zero loss: 1,000,000 datagrams of 64 B at 200,000/s, each starting with 8 binary
// bytes (its number), so that udpkit cannot take the all-printable shortcut. udpkit must receive
// them all, in text and JSON, in every run; the C sink shows what the sender and kernel deliver,
// the C printer what printing them costs at best.
import { blastArgs, receiveTest, receiverCommand } from '../lib/receive.mjs';
import { cpuPerDatagram, cpuText, excessText, headroomText } from '../lib/cpu.mjs';
import { int, max, median, fixed, rate } from '../lib/stats.mjs';

const NAMES = ['C sink', 'C printer', 'udpkit text', 'udpkit --json'];
const KIND = 'seq';
const RATE = 200_000;
const SIZE = 64;

export const name = 'Paced, zero loss';

export async function run(ctx) {
  const count = ctx.scale(1_000_000);
  const results = Object.fromEntries(NAMES.map((n) => [n, []]));
  let k = 0;
  for (let rep = 0; rep < ctx.runs; rep++) {
    for (const name of NAMES) {
      const r = await receiveTest(ctx, name, { count, size: SIZE, rate: RATE, kind: KIND });
      results[name].push(r);
      ctx.log(`[2 paced ${++k}/${ctx.runs * NAMES.length}] ${name}: ${int(r.received)} of ${int(r.sent)}, kernel dropped ${int(r.drops)}`);
    }
  }
  const rows = [];
  const targets = [];
  const limits = [];
  const sinkCpu = cpuPerDatagram(results['C sink'].map((r) => ({ time: r.cpu, n: r.received })));
  const printerCpu = cpuPerDatagram(results['C printer'].map((r) => ({ time: r.cpu, n: r.received })));
  const cleanOf = (n) => results[n].filter((r) => r.drops === 0 && r.received === r.sent).length;
  for (const name of NAMES) {
    const rs = results[name];
    const clean = rs.filter((r) => r.drops === 0 && r.received === r.sent && r.sent === count).length;
    const cpu = cpuPerDatagram(rs.map((r) => ({ time: r.cpu, n: r.received })));
    const cpuUs = cpu.total;
    const senderCores = median(rs.map((r) => r.blastCores));
    const cores = median(rs.map((r) => r.cores));
    const othersCores = median(rs.map((r) => r.othersCores));
    const achieved = median(rs.map((r) => r.sent / r.blastSeconds));
    rows.push([
      name, int(median(rs.map((r) => r.received))), int(max(rs.map((r) => r.drops))), `${clean}/${rs.length}`,
      fixed(cpuUs, 2), fixed((cpuUs * RATE) / 1e4, 0) + '%', rate(achieved),
    ]);
    if (name.startsWith('C ')) continue;
    const t = {
      what: `paced ${rate(RATE)}/s, ${SIZE} B binary+text: ${name} zero loss`,
      measured: `${clean}/${rs.length} runs clean`,
      reference: `${int(count)} sent`,
      ratio: NaN,
      needed: 'kernel dropped 0, all received, every run',
      pass: clean === rs.length,
    };
    targets.push(t);
    if (!t.pass) {
      const worst = rs.reduce((a, b) => (b.sent - b.received > a.sent - a.received ? b : a));
      const need = (cpuUs * RATE) / 1e6;
      limits.push(
        `**Paced ${rate(RATE)}/s, ${name}**: ${clean} of ${rs.length} runs were free of loss; the worst received ${int(worst.received)} of ${int(worst.sent)} ` +
        `(kernel dropped ${int(worst.drops)}); the sender ${achieved >= 0.98 * RATE ? 'kept its pace' : 'fell behind its pace'} (${rate(achieved)}/s). The receiver's CPU per datagram was ${cpuText(cpu)} ` +
        `against the C printer's ${cpuText(printerCpu)} (the C sink's ${cpuText(sinkCpu)}). ${excessText(cpu, printerCpu, 'the C printer')} ` +
        headroomText({ cores, need, senderCores, othersCores, nproc: ctx.machine.nproc }) +
        ` The C sink was free of loss in ${cleanOf('C sink')} of ${results['C sink'].length} runs, the C printer in ${cleanOf('C printer')} of ${results['C printer'].length}. (perf-baselines.md measured the receive buffer at about 10,000 ` +
        `datagrams of 64 B with net.core.rmem_max ${ctx.machine.rmemMax}: some 50 ms at ${rate(RATE)}/s.)`,
      );
    }
  }
  return {
    id: 2,
    title: `Paced, zero loss (${int(count)} datagrams of ${SIZE} B, 8 binary bytes then text, at ${int(RATE)}/s)`,
    header: ['receiver', 'received (median)', 'kernel dropped (worst)', 'runs with zero loss', 'CPU µs/datagram', 'CPU at this rate', 'achieved rate/s'],
    rows,
    targets,
    limits,
    notes: ['CPU µs/datagram leaves out start-up (see section 1); "CPU at this rate" is that cost times the rate: the share of one core receiving takes.'],
    commands: [
      ...NAMES.map((n) => receiverCommand(ctx, n)),
      `bench/out/udp-blast ${blastArgs({ port: 'PORT', count, size: SIZE, rate: RATE, kind: KIND }).join(' ')}`,
    ],
  };
}
