// Micro-benchmark (not a test): how many of COUNT datagrams blasted over loopback by the C
// sender (bench/c/udp-blast.c, sendmmsg) each receiver gets, counting only:
//   C sink       bench/c/udp-sink.c (recvmmsg), the reference
//   node:dgram   one 'message' event per datagram
//   NativeUdp    the native addon, one callback per batch of up to 64
// Every receiver runs in a process of its own, RUNS times, in rotating order; medians reported.
//
//   npm run build && node bench/native-micro.mjs [--count 1000000] [--size 64] [--rate 0]
//     [--runs 3] [--rcvbuf 4194304] [--only dgram,native]
// --rate 0 sends as fast as the blaster can; --rate 330000 paces it (datagrams/s).
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    count: { type: 'string', default: '1000000' },
    size: { type: 'string', default: '64' },
    rate: { type: 'string', default: '0' },
    runs: { type: 'string', default: '3' },
    rcvbuf: { type: 'string', default: String(4 << 20) },
    idle: { type: 'string', default: '2000' },
    only: { type: 'string', default: 'c,dgram,native' },
    receive: { type: 'string' }, // internal: run as the receiver child
  },
});

/**
 * Child: bind 127.0.0.1:0, print "ready PORT", count until the blaster's final "bye" (or IDLE ms
 * with nothing, should "bye" be dropped), then print the counts as JSON. "bye" is not counted.
 */
async function receiver(kind, rcvbuf, idleMs) {
  let count = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  let close;
  let done = () => undefined;
  let drops = () => undefined;
  let port;
  if (kind === 'native') {
    const { loadNative, nativeLoadError } = await import('../dist/native/binding.js');
    const native = loadNative();
    if (!native) throw new Error(`native addon unavailable: ${nativeLoadError()}`);
    const s = new native.NativeUdp(4, false);
    s.bind('127.0.0.1', 0, false);
    s.setRecvBufferSize(rcvbuf);
    s.startReceiving(
      (n, data, starts, lengths) => {
        if (count === 0) first = performance.now();
        for (let i = 0; i < n; i++) {
          if (lengths[i] === 3 && data[starts[i]] === 0x62 && data.toString('latin1', starts[i], starts[i] + 3) === 'bye') return done();
          count++;
          bytes += lengths[i];
        }
        last = performance.now();
      },
      (err) => console.error(err),
    );
    port = s.localAddress().port;
    drops = () => s.drops();
    close = () => s.close();
  } else {
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: rcvbuf });
    s.on('message', (m) => {
      if (m.length === 3 && m.toString('latin1') === 'bye') return done();
      if (count === 0) first = performance.now();
      count++;
      bytes += m.length;
      last = performance.now();
    });
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    port = s.address().port;
    close = () => s.close();
  }
  const rssStart = process.memoryUsage().rss;
  console.log(`ready ${port}`);
  let tick;
  done = () => {
    if (tick === undefined) return;
    clearInterval(tick);
    tick = undefined;
    const cpu = process.cpuUsage();
    console.log(
      JSON.stringify({
        count,
        bytes,
        drops: drops(),
        seconds: (last - first) / 1000,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        rssStartMiB: rssStart / 2 ** 20,
        rssEndMiB: process.memoryUsage().rss / 2 ** 20,
      }),
    );
    close();
  };
  tick = setInterval(() => count > 0 && performance.now() - last >= idleMs && done(), 50);
}

function lines(child, onLine) {
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (s) => {
    buf += s;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
}

/** A port nobody holds right now, for the C sink, which cannot report the one it got. */
async function freePort() {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  return port;
}

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Spawns `cmd args` under GNU time (when there) so every receiver's CPU time is measured alike. */
function spawnTimed(cmd, args, stdio, timeFile) {
  if (!GNU_TIME) return spawn(cmd, args, { stdio });
  return spawn(GNU_TIME, ['-o', timeFile, '-f', '%U %S %M', cmd, ...args], { stdio });
}

async function runOnce(kind, bins) {
  const count = opt.count;
  const timeFile = join(bins.dir, `time-${kind}`);
  let child;
  let port;
  const result = {};
  if (kind === 'c') {
    port = await freePort();
    child = spawnTimed(bins.sink, [String(port), opt.idle], ['ignore', 'pipe', 'pipe'], timeFile);
    await new Promise((resolve) => child.stderr.setEncoding('utf8').on('data', (s) => s.includes('ready') && resolve()));
    lines(child, (l) => {
      const m = /received (\d+) bytes (\d+) drops (\d+) seconds ([\d.]+)/.exec(l);
      // The sink counts the final "bye" (3 bytes) when it got it; the others do not.
      const bye = m && Number(opt.size) !== 3 && +m[2] % Number(opt.size) === 3 ? 1 : 0;
      if (m) Object.assign(result, { count: +m[1] - bye, bytes: +m[2] - 3 * bye, drops: +m[3], seconds: +m[4] });
    });
  } else {
    const args = [fileURLToPath(import.meta.url), '--receive', kind, '--rcvbuf', opt.rcvbuf, '--idle', opt.idle];
    child = spawnTimed(process.execPath, args, ['ignore', 'pipe', 'inherit'], timeFile);
    port = await new Promise((resolve) =>
      lines(child, (l) => {
        if (l.startsWith('ready ')) resolve(Number(l.slice(6)));
        else if (l.startsWith('{')) Object.assign(result, JSON.parse(l));
      }),
    );
  }
  const blast = execFileSync(bins.blast, ['127.0.0.1', String(port), count, opt.size, opt.rate, 'bye'], { encoding: 'utf8' });
  const m = /sent (\d+) in ([\d.]+) seconds/.exec(blast);
  const sent = m ? Number(m[1]) : NaN;
  const sendSeconds = m ? Number(m[2]) : NaN;
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${kind} receiver exited with ${code}`);
  if (GNU_TIME) {
    const [user, sys, maxKiB] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
    Object.assign(result, { cpuSeconds: user + sys, maxRssMiB: maxKiB / 1024 });
  }
  return { kind, sent, sendRate: sent / sendSeconds, ...result };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function driver() {
  const dir = mkdtempSync(join(tmpdir(), 'udpkit-micro-'));
  try {
    const bins = { dir, blast: join(dir, 'udp-blast'), sink: join(dir, 'udp-sink') };
    execFileSync('cc', ['-O2', '-o', bins.blast, join(here, 'c/udp-blast.c')]);
    execFileSync('cc', ['-O2', '-o', bins.sink, join(here, 'c/udp-sink.c')]);
    const kinds = opt.only.split(',');
    const all = Object.fromEntries(kinds.map((k) => [k, []]));
    console.error(`${opt.count} x ${opt.size} B to 127.0.0.1, rate ${opt.rate === '0' ? 'unpaced' : opt.rate + '/s'}, SO_RCVBUF ask ${opt.rcvbuf}, ${opt.runs} runs`);
    for (let run = 0; run < Number(opt.runs); run++) {
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(k + run) % kinds.length];
        const r = await runOnce(kind, bins);
        all[kind].push(r);
        const cpu = r.cpuSeconds === undefined ? '' : `, receiver cpu ${r.cpuSeconds.toFixed(2)} s, max rss ${r.maxRssMiB.toFixed(0)} MiB`;
        const rss = r.rssStartMiB === undefined ? '' : ` (rss ${r.rssStartMiB.toFixed(0)} MiB when ready, ${r.rssEndMiB.toFixed(0)} at end)`;
        console.error(`  run ${run + 1} ${kind.padEnd(6)} got ${r.count}/${r.sent} (${((100 * r.count) / r.sent).toFixed(1)}%), sent at ${(r.sendRate / 1e3).toFixed(0)}k/s${cpu}${rss}`);
      }
    }
    const names = { c: 'C sink (recvmmsg)', dgram: 'node:dgram count-only', native: 'NativeUdp count-only' };
    const ref = all.c?.length ? median(all.c.map((r) => r.count / r.sent)) : undefined;
    console.log(`| receiver | received (median of ${opt.runs}) | of sent | of C sink | receiver CPU s (median) | all runs |`);
    console.log('|---|---|---|---|---|---|');
    for (const kind of kinds) {
      const rs = all[kind];
      const share = median(rs.map((r) => r.count / r.sent));
      console.log(
        `| ${names[kind] ?? kind} | ${median(rs.map((r) => r.count))} | ${(100 * share).toFixed(1)}% | ${ref ? ((100 * share) / ref).toFixed(1) + '%' : '-'} | ${GNU_TIME ? median(rs.map((r) => r.cpuSeconds)).toFixed(2) : '-'} | ${rs.map((r) => r.count).join(', ')} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (opt.receive) await receiver(opt.receive, Number(opt.rcvbuf), Number(opt.idle));
else await driver();
