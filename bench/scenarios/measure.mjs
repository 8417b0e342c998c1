// 4. The measurement tool: iperf3 -u -b 0 against `udpkit bench --loopback` at full speed,
// 64-byte datagrams for 5 s. Each tool's loss is checked against the kernel's own count of
// receive-buffer overflows (Udp RcvbufErrors, read before and after), in a network namespace of
// their own so that no other traffic on the machine adds to it.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rcvbufErrors } from '../lib/kernel.mjs';
import { openNetns } from '../lib/netns.mjs';
import { readTime, run as exec, start, timed } from '../lib/procs.mjs';
import { cpuPerDatagram, cpuText, excessText } from '../lib/cpu.mjs';
import { fixed, int, median, pct, rate, ratio, times } from '../lib/stats.mjs';

const LEN = 64;

/** A TCP port free now (iperf3 needs one for its control connection, and UDP on the same). */
async function freeTcpPort() {
  const s = createServer();
  await new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', resolve);
  });
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

let serial = 0;

/** Where the tests run: a private namespace, or this one (counters then system-wide). */
function place(ns) {
  return ns ?? { wrap: (cmd, args) => [cmd, args], rcvbufErrors: () => rcvbufErrors() };
}

async function iperf(ctx, ns, seconds) {
  const port = ns ? 5201 : await freeTcpPort();
  const { wrap, rcvbufErrors: drops } = place(ns);
  const serverTime = join(ctx.tmpDir, `iperf-s-${serial}.txt`);
  const clientTime = join(ctx.tmpDir, `iperf-c-${serial++}.txt`);
  const server = start(...timed(serverTime, ...wrap('iperf3', ['-s', '-1', '--forceflush', '-p', String(port)])), { timeoutMs: 60_000 });
  try {
    await server.waitFor('stdout', /Server listening/);
    const before = drops();
    const args = ['-u', '-b', '0', '-l', String(LEN), '-t', String(seconds), '-c', '127.0.0.1', '-p', String(port), '--json'];
    const c = await exec(...timed(clientTime, ...wrap('iperf3', args)), { timeoutMs: 60_000 });
    await Promise.race([server.exited, sleep(5000)]);
    const kernel = drops() - before;
    const ts = readTime(serverTime);
    const tc = readTime(clientTime);
    const j = JSON.parse(c.stdout);
    if (j.error) throw new Error(`iperf3: ${j.error}`);
    const sent = j.end.sum_sent.packets;
    const secs = j.end.sum_sent.seconds;
    const lost = j.end.sum_received?.lost_packets ?? j.end.sum.lost_packets;
    // Both processes' CPU, as one figure comparable to udpkit's single process.
    const time = ts && tc ? { user: ts.user + tc.user, sys: ts.sys + tc.sys, elapsed: tc.elapsed } : undefined;
    return { sent, received: sent - lost, lost, sentPerSecond: sent / secs, receivedPerSecond: (sent - lost) / secs, selfKernel: NaN, kernel, time, n: sent };
  } finally {
    server.signalGroup('SIGKILL');
  }
}

/** With `gso` false, UDPKIT_GSO=0: each datagram sent on its own, as iperf3 sends them. */
async function udpkitBench(ctx, ns, seconds, gso) {
  const { wrap, rcvbufErrors: drops } = place(ns);
  const before = drops();
  const timeFile = join(ctx.tmpDir, `measure-${serial++}.txt`);
  const args = [ctx.udpkit, 'bench', '--loopback', '-l', String(LEN), '--rate', '0', '-t', String(seconds), '--json'];
  const c = await exec(...timed(timeFile, ...wrap('env', [`UDPKIT_GSO=${gso ? 1 : 0}`, 'node', ...args])), { timeoutMs: 60_000 });
  const kernel = drops() - before;
  const time = readTime(timeFile);
  if (c.code !== 0) throw new Error(`udpkit bench exited ${c.code}: ${c.stderr.slice(-400)}`);
  const j = JSON.parse(c.stdout.trim().split('\n').pop());
  return {
    sent: j.sent,
    received: j.received,
    lost: j.lost,
    sentPerSecond: j.sentPerSecond,
    receivedPerSecond: j.receivedPerSecond,
    selfKernel: j.kernelDrops ?? NaN,
    kernel,
    time,
    n: j.sent,
  };
}

/** Whether this build has `udpkit bench`. */
export async function hasBench(ctx) {
  const r = await exec('node', [ctx.udpkit, 'bench', '--help'], { timeoutMs: 10_000 });
  return r.code === 0 && /loopback/.test(r.stdout);
}

/** The runs, interleaved: iperf3, udpkit, udpkit without GSO, iperf3... */
async function measureAll(ctx, ns, seconds, available, res) {
  const total = ctx.runs * (available ? 3 : 1);
  let k = 0;
  for (let rep = 0; rep < ctx.runs; rep++) {
    const i = await iperf(ctx, ns, seconds);
    res.iperf3.push(i);
    ctx.log(`[4 measure ${++k}/${total}] iperf3: ${rate(i.receivedPerSecond)}/s received, lost ${int(i.lost)}, kernel ${int(i.kernel)}`);
    if (!available) continue;
    for (const [key, gso] of [['udpkit', true], ['plain', false]]) {
      const u = await udpkitBench(ctx, ns, seconds, gso);
      res[key].push(u);
      ctx.log(`[4 measure ${++k}/${total}] udpkit bench${gso ? '' : ' UDPKIT_GSO=0'}: ${rate(u.receivedPerSecond)}/s received, lost ${int(u.lost)}, kernel ${int(u.kernel)}`);
    }
  }
}

export const name = 'Measurement tool';

export async function run(ctx) {
  const seconds = ctx.quick ? 1 : 5;
  const available = await hasBench(ctx);
  const res = { iperf3: [], udpkit: [], plain: [] };
  const ns = await openNetns();
  if (!ns) ctx.log('4 measure: no private network namespace (unshare -n failed); kernel counters are system-wide');
  try {
    await measureAll(ctx, ns, seconds, available, res);
  } finally {
    ns?.close();
  }
  const fig = (rs) => ({
    sent: median(rs.map((r) => r.sentPerSecond)),
    received: median(rs.map((r) => r.receivedPerSecond)),
    loss: median(rs.map((r) => r.lost / r.sent)),
    lost: median(rs.map((r) => r.lost)),
    kernel: median(rs.map((r) => r.kernel)),
    self: median(rs.map((r) => r.selfKernel)),
    exact: rs.filter((r) => r.lost === r.kernel).length,
    cores: median(rs.map((r) => (r.time ? (r.time.user + r.time.sys) / r.time.elapsed : NaN))),
    cpu: cpuPerDatagram(rs),
  });
  const i = fig(res.iperf3);
  const rows = [['iperf3 -u -b 0', rate(i.sent), rate(i.received), '1.00x', pct(i.loss), int(i.lost), 'n/a', int(i.kernel), `${i.exact}/${res.iperf3.length}`, fixed(i.cpu.total, 2)]];
  const targets = [];
  const limits = [];
  const cmdUdpkit = `${ctx.udpkitShown} bench --loopback -l ${LEN} --rate 0 -t ${seconds} --json`;
  if (!available) {
    rows.push(['udpkit bench --loopback', 'not built yet', '', '', '', '', '', '', '', '']);
    targets.push({ what: 'measure: udpkit bench received/s vs iperf3', measured: 'not built yet', reference: rate(i.received), ratio: NaN, needed: '>= 1.00x', pass: undefined });
  } else {
    const u = fig(res.udpkit);
    rows.push(['udpkit bench --loopback', rate(u.sent), rate(u.received), times(ratio(u.received, i.received)), pct(u.loss), int(u.lost), int(u.self), int(u.kernel), `${u.exact}/${res.udpkit.length}`, fixed(u.cpu.total, 2)]);
    const p = fig(res.plain);
    rows.push(['udpkit bench --loopback, UDPKIT_GSO=0', rate(p.sent), rate(p.received), times(ratio(p.received, i.received)), pct(p.loss), int(p.lost), int(p.self), int(p.kernel), `${p.exact}/${res.plain.length}`, fixed(p.cpu.total, 2)]);
    const t1 = { what: 'measure: udpkit bench received datagrams/s vs iperf3', measured: rate(u.received), reference: rate(i.received), ratio: ratio(u.received, i.received), needed: '>= 1.00x' };
    t1.pass = t1.ratio >= 1;
    const t2 = { what: 'measure: udpkit bench loss = kernel receive-buffer drops', measured: `${u.exact}/${res.udpkit.length} runs exact`, reference: `lost ${int(u.lost)}, kernel ${int(u.kernel)}`, ratio: NaN, needed: 'equal in every run', pass: u.exact === res.udpkit.length };
    const t3 = { what: 'measure: udpkit bench UDPKIT_GSO=0 (one send per datagram) received datagrams/s vs iperf3', measured: rate(p.received), reference: rate(i.received), ratio: ratio(p.received, i.received), needed: 'none (reported)', pass: undefined };
    targets.push(t1, t2, t3);
    if (!t1.pass) {
      const head = `**udpkit bench rate** (${times(t1.ratio)} of iperf3): it sent ${rate(u.sent)}/s (iperf3 ${rate(i.sent)}/s) and its server received ` +
        `${rate(u.received)}/s, losing ${pct(u.loss)} (iperf3 ${pct(i.loss)}). It used ${fixed(u.cores, 2)} cores (user + system over wall time) and ` +
        `${cpuText(u.cpu)} of CPU per datagram sent; iperf3's client and server together used ${cpuText(i.cpu)}. ` +
        `${excessText(u.cpu, i.cpu, 'iperf3')} `;
      limits.push(
        u.loss > 0.01
          ? head + `The kernel counted ${int(u.kernel)} receive-buffer overflows against ${int(u.lost)} lost: its receiving side does not read ` +
            'as fast as its sending side writes.'
          : head + `With almost no loss, sending is the limit${u.cores >= 0.9 * ctx.machine.nproc ? `, and the ${ctx.machine.nproc} cores are saturated` : ''}.`,
      );
    }
    if (!t2.pass) {
      limits.push(
        `**udpkit bench loss accounting**: ${u.exact} of ${res.udpkit.length} runs had lost = the kernel's RcvbufErrors delta (median lost ${int(u.lost)}, ` +
        `kernel ${int(u.kernel)}, udpkit's own kernelDrops field ${int(u.self)}).`,
      );
    }
  }
  return {
    id: 4,
    title: `Measurement tool (${LEN}-byte datagrams, as fast as possible, ${seconds} s)`,
    header: ['tool', 'sent/s', 'received/s', 'received vs iperf3', 'loss', 'lost', 'its kernel drops', 'kernel RcvbufErrors', 'lost = kernel', 'CPU µs/datagram sent'],
    rows,
    targets,
    limits,
    notes: [(ns ? 'Both tools run in a network namespace of their own (`unshare -n`, loopback only), so ' : 'No private network namespace could be made, so these counters are system-wide and may include other traffic; ') + '"kernel RcvbufErrors" is the rise of the Udp/Udp6 RcvbufErrors counters over the test (they survive the sockets\' close); "its kernel drops" is what the tool itself reported. The target compares datagrams received per second: a rate the tool\'s own receiver cannot take is not a measurement. CPU is GNU time\'s user + system over datagrams sent, for iperf3 its client and server together.',
      'udpkit bench at `--rate 0` hands its client\'s kernel runs of 64 data frames to segment (UDP GSO, `UDP_SEGMENT`): each run crosses the sending stack once, and the server\'s socket receives the same 64-byte datagrams one by one. iperf3 3.12 has no such option; the `UDPKIT_GSO=0` row sends one datagram per message, as iperf3 does, and is reported for comparison.'],
    commands: [
      'unshare -n sleep 600 &  NS=$!; nsenter -t $NS -n ip link set lo up     # then each command below under nsenter -t $NS -n',
      'iperf3 -s -1 --forceflush -p PORT',
      `iperf3 -u -b 0 -l ${LEN} -t ${seconds} -c 127.0.0.1 -p PORT --json`,
      cmdUdpkit,
      `UDPKIT_GSO=0 ${cmdUdpkit}`,
      "grep -E '^Udp: ' /proc/$NS/net/snmp; grep Udp6RcvbufErrors /proc/$NS/net/snmp6     # before and after each",
    ],
  };
}
