/**
 * `udpkit bench`: throughput, loss, jitter and round trips, in the spirit of `iperf3 -u`.
 * `--server` serves any number of clients; `HOST[:PORT]` runs a test against one;
 * `--loopback` runs both in this process over 127.0.0.1.
 */
import { formatHostPort, UsageError } from '../../errors.js';
import {
  benchIntervalJson, benchReportJson, benchReportStreamJson, benchSessionJson, formatBenchInterval, formatBenchProgress, formatBenchReport, formatBenchSession,
} from '../../format/bench.js';
import type { BoundAddress } from '../../transport/listener.js';
import { BENCH_DATA_HEADER_LENGTH, BENCH_MAX_LENGTH } from '../../protocol/bench-frames.js';
import { DEFAULT_BENCH_RATE, MAX_BENCH_STREAMS, benchClient, type BenchIntervalEvent, type BenchProgress } from '../../transport/bench-client.js';
import { benchLoopback, type BenchLoopbackOptions } from '../../transport/bench-loopback.js';
import { DEFAULT_BENCH_PORT, benchServer, type BenchServer } from '../../transport/bench-server.js';
import type { BenchReport } from '../../protocol/bench-report.js';
import { parseHostPort, validateInteger, validatePort, validateRate, validateSeconds } from '../../validate.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from '../io.js';
import { localAddress } from '../local-address.js';
import type { BenchOptions } from './bench.options.js';
import { PLOT_INTERVAL_MS, plotKind, writePlot } from './bench-plot.js';

/** How long `--server --once` keeps answering after its session, for a repeated RESULT request. */
const ONCE_LINGER_MS = 500;

function familyOf(opts: BenchOptions): 0 | 4 | 6 {
  return opts.ipv4 === true ? 4 : opts.ipv6 === true ? 6 : 0;
}

function describeBound(a: BoundAddress): string {
  return a.dualStack ? `*:${a.port}/udp (IPv4 and IPv6)` : `${formatHostPort(a.address, a.port)}/udp`;
}

/** Which of the three modes; flags that belong to another are refused by bench.options.ts's rules. */
function mode(args: readonly string[], opts: BenchOptions): 'server' | 'loopback' | 'client' {
  if (args.length > 1) throw new UsageError(`bench takes one HOST, got ${args.length}`);
  const picked = opts.server === true ? 'server' : opts.loopback === true ? 'loopback' : args.length === 1 ? 'client' : undefined;
  if (picked === undefined) throw new UsageError('bench needs HOST[:PORT] to test against, --server, or --loopback');
  if (picked !== 'client' && args.length === 1) throw new UsageError(`--${picked} takes no HOST`);
  return picked;
}

/** Datagrams per second from --rate, or from --bitrate and the datagram length. */
function rateOf(opts: BenchOptions, length: number): number {
  if (opts.bitrate === undefined) return validateRate(opts.rate ?? String(DEFAULT_BENCH_RATE), { name: '--rate', min: 0, max: 2 ** 32 - 1 });
  const bits = validateRate(opts.bitrate, { name: '--bitrate', min: 0, max: 8 * BENCH_MAX_LENGTH * (2 ** 32 - 1) });
  const rate = Math.round(bits / (8 * length));
  if (bits > 0 && rate === 0) throw new UsageError(`--bitrate ${opts.bitrate} is less than one ${length}-byte datagram a second`);
  return rate;
}

function clientOptions(opts: BenchOptions, io: CliIo): BenchLoopbackOptions {
  const length = validateInteger(opts.length ?? '64', { name: '-l/--length', min: BENCH_DATA_HEADER_LENGTH, max: BENCH_MAX_LENGTH });
  const asked = opts.interval === undefined ? undefined : validateSeconds(opts.interval, { name: '-i/--interval', min: 0.01 });
  // --plot needs intervals; without -i they are read a second apart and not printed.
  const intervalMs = asked ?? (opts.plot !== undefined ? PLOT_INTERVAL_MS : undefined);
  const json = opts.jsonStream === true;
  const onInterval = asked === undefined ? undefined
    : (e: BenchIntervalEvent) => void io.stdout.write(json ? benchIntervalJson(e) + '\n' : formatBenchInterval(e));
  const onProgress = asked === undefined && (io.stderr as { isTTY?: boolean }).isTTY === true
    ? (p: BenchProgress) => void io.stderr.write(formatBenchProgress(p) + '\n')
    : undefined;
  return {
    length,
    durationMs: validateSeconds(opts.time ?? '5', { name: '-t/--time', min: 0.001 }),
    rate: rateOf(opts, length),
    burst: validateInteger(opts.burst ?? '1', { name: '--burst', min: 1, max: 1_000_000 }),
    streams: validateInteger(opts.parallel ?? '1', { name: '-P/--parallel', min: 1, max: MAX_BENCH_STREAMS }),
    direction: opts.reverse === true ? 'reverse' : opts.bidir === true ? 'bidir' : 'forward',
    rtt: opts.rtt === true,
    signal: io.signal,
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    ...(onInterval ? { onInterval } : {}),
    ...(onProgress ? { onProgress } : {}),
  };
}

function writeReport(report: BenchReport, opts: BenchOptions, io: CliIo, target: string): void {
  if (opts.jsonStream === true) io.stdout.write(benchReportStreamJson(report) + '\n');
  else io.stdout.write(opts.json === true ? benchReportJson(report) + '\n' : formatBenchReport(report));
  if (opts.plot !== undefined) writePlot(opts.plot, report, target);
}

async function runClient(args: readonly string[], opts: BenchOptions, io: CliIo): Promise<number> {
  const defaultPort = opts.port === undefined ? DEFAULT_BENCH_PORT : validatePort(opts.port, { name: '--port' });
  const { host, port } = parseHostPort(args[0], defaultPort);
  const report = await benchClient({ host, port, family: familyOf(opts), ...clientOptions(opts, io) });
  writeReport(report, opts, io, formatHostPort(host, port));
  return EXIT_OK;
}

async function runLoopback(opts: BenchOptions, io: CliIo): Promise<number> {
  const report = await benchLoopback(clientOptions(opts, io));
  writeReport(report, opts, io, '--loopback');
  return EXIT_OK;
}

/** Serves until aborted, or after one session with `--once`. */
async function runServer(opts: BenchOptions, io: CliIo): Promise<number> {
  const bind = localAddress(opts.bind, '--bind');
  const port = opts.port === undefined ? DEFAULT_BENCH_PORT : validatePort(opts.port, { allowZero: true, name: '--port' });
  const server: BenchServer = await benchServer({
    port,
    family: familyOf(opts),
    ...(bind !== undefined ? { address: bind } : {}),
  });
  io.stderr.write(`listening on ${describeBound(server.address())}; bench server${opts.once === true ? ', one session' : ''}\n`);
  const code = await new Promise<number>((resolve) => {
    server.on('session', (s) => {
      io.stdout.write((opts.json === true ? benchSessionJson(s) : formatBenchSession(s)) + '\n');
      // Linger a little: a client whose RESULT got lost asks again.
      if (opts.once === true) setTimeout(() => resolve(EXIT_OK), ONCE_LINGER_MS);
    });
    server.on('error', (err: Error) => {
      io.stderr.write(`udpkit: receiving on port ${server.address().port}/udp failed: ${err.message}\n`);
      resolve(EXIT_FAILURE);
    });
    if (io.signal.aborted) resolve(EXIT_OK);
    io.signal.addEventListener('abort', () => resolve(EXIT_OK), { once: true });
  });
  await server.close();
  return code;
}

/** Runs `udpkit bench`. */
export async function run(args: readonly string[], opts: BenchOptions, io: CliIo): Promise<number> {
  const m = mode(args, opts);
  // A --plot name that cannot be drawn is refused before the test, not after it.
  if (opts.plot !== undefined) plotKind(opts.plot);
  switch (m) {
    case 'server':
      return runServer(opts, io);
    case 'loopback':
      return runLoopback(opts, io);
    default:
      return runClient(args, opts, io);
  }
}
