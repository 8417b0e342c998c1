// 7. Flood memory (the hostile-input issue): 300,000 datagrams of 512 B at full speed into
// `udpkit listen`, stdout into a pipe and into /dev/null. Memory stays bounded and every
// datagram is either received or counted as dropped by the kernel.
import { receiveTest, receiverCommand } from '../lib/receive.mjs';
import { fixed, int, max, median, pct } from '../lib/stats.mjs';

const SIZE = 512;
const OUTPUTS = ['pipe', 'devnull'];

export const name = 'Flood memory';

export async function run(ctx) {
  const count = ctx.scale(300_000);
  const res = { pipe: [], devnull: [] };
  let k = 0;
  for (let rep = 0; rep < ctx.runs; rep++) {
    for (const output of OUTPUTS) {
      const r = await receiveTest(ctx, 'udpkit text', { count, size: SIZE, output });
      res[output].push(r);
      ctx.log(`[7 flood ${++k}/${ctx.runs * OUTPUTS.length}] stdout ${output}: RSS ${fixed(r.time?.rssMb, 0)} MB, received ${int(r.received)} + dropped ${int(r.drops)} of ${int(r.sent)}`);
    }
  }
  const rows = [];
  const targets = [];
  const limits = [];
  for (const output of OUTPUTS) {
    const rs = res[output];
    const peak = max(rs.map((r) => r.time?.rssMb));
    const exact = rs.filter((r) => r.unaccounted === 0).length;
    const label = output === 'pipe' ? 'stdout into a pipe' : 'stdout to /dev/null';
    rows.push([label, int(median(rs.map((r) => r.received))), pct(median(rs.map((r) => r.received / r.sent))), int(median(rs.map((r) => r.drops))),
      int(max(rs.map((r) => r.outputDropped ?? 0))), `${exact}/${rs.length}`, fixed(median(rs.map((r) => r.time?.rssMb)), 1), fixed(peak, 1)]);
    const t1 = { what: `flood, ${label}: udpkit listen peak RSS`, measured: `${fixed(peak, 1)} MB`, reference: '', ratio: NaN, needed: '< 200 MB', pass: peak < 200 };
    const t2 = { what: `flood, ${label}: received + kernel dropped = sent`, measured: `${exact}/${rs.length} runs exact`, reference: `${int(count)} sent`, ratio: NaN, needed: 'every run', pass: exact === rs.length };
    targets.push(t1, t2);
    if (!t1.pass) {
      limits.push(`**Flood memory, ${label}**: peak RSS ${fixed(peak, 1)} MB over ${rs.length} runs; something buffers datagrams or output faster than it is written.`);
    }
    if (!t2.pass) {
      const worst = rs.reduce((a, b) => (Math.abs(b.unaccounted) > Math.abs(a.unaccounted) ? b : a));
      limits.push(
        `**Flood accounting, ${label}**: in the worst run ${int(worst.received)} received + ${int(worst.drops)} dropped by the kernel = ` +
        `${int(worst.received + worst.drops)} of ${int(worst.sent)} sent (/proc showed ${int(worst.kernelSeen)} drops on its sockets before the stop).`,
      );
    }
  }
  return {
    id: 7,
    title: `Flood memory (${int(count)} datagrams of ${SIZE} B at full speed into udpkit listen)`,
    header: ['udpkit listen', 'received', '% of sent', 'kernel dropped', 'dropped at output', 'received + dropped = sent', 'RSS MB (median)', 'RSS MB (peak)'],
    rows,
    targets,
    limits,
    notes: [],
    commands: [
      `/usr/bin/time -f %M ${receiverCommand(ctx, 'udpkit text', 'pipe')}`,
      `/usr/bin/time -f %M ${receiverCommand(ctx, 'udpkit text', 'devnull')}`,
      `bench/out/udp-blast 127.0.0.1 PORT ${count} ${SIZE}`,
      '# then, 1 s after the blast: kill -TERM <udpkit pid>',
    ],
  };
}
