/**
 * The bench client: START, then paced test traffic on one or more streams (bench-traffic.ts),
 * read at each interval, then the server's RESULT, then (optionally) sequential echo round trips
 * (docs/protocol.md, "Bench frames"). Control requests are sent again until answered, within
 * bounds.
 *
 * Longer than most files (about 330 lines) for a reason: the phases (start, traffic with its
 * readings, result, echoes) share one test's state (streams, what was sent, the interval
 * series); the traffic loop, the streams' requests and the arithmetic each stand alone.
 */
import { randomBytes } from 'node:crypto';
import { UdpkitError, UdpkitRangeError, formatHostPort } from '../errors.js';
import { BENCH_DATA_HEADER_LENGTH, BENCH_MAX_LENGTH, echoReplySeq, encodeBenchFrame, formatSessionId, stampBenchEcho, type BenchFrame } from '../protocol/bench-frames.js';
import { IntervalSeries, readingOf, sumReadings, type BenchInterval, type BenchReading } from '../protocol/bench-intervals.js';
import { buildBenchReport, combineBenchReports, withReverse, type BenchReport } from '../protocol/bench-report.js';
import type { BenchDirection } from '../protocol/bench-frames.js';
import { goReverse, reverseDrops, reverseReport, waitReverse } from './bench-reverse.js';
import { lossOf } from '../protocol/bench-stats.js';
import { openSender, type SenderOptions } from './sender.js';
import { checkPayloadSize, validateInteger } from '../validate.js';
import { ask, retrySchedule } from './bench-replies.js';
import { DEFAULT_BENCH_PORT } from './bench-server.js';
import { BenchStream } from './bench-stream.js';
import { sendTraffic, type TrafficResult } from './bench-traffic.js';
import { monotonicMicroseconds } from './clock.js';

/** Target datagrams per second unless told otherwise (about 5 Mbit/s of 64-byte datagrams). */
export const DEFAULT_BENCH_RATE = 10_000;
/** Echo round trips measured by `rtt: true`. */
export const DEFAULT_ECHOES = 1000;
/** In-flight sends before a sender pushes back. */
const HIGH_WATER_MARK = 1024;
/** Echo phase limits: one echo waits this long, all of them together at most that long. */
const ECHO_TIMEOUT_MS = 250;
const ECHO_BUDGET_MS = 3000;
/** Pause between the last datagram and the RESULT request, for stragglers on a real path. */
const SETTLE_MS = 20;
/** Parallel streams at most (`-P`): each is a socket and a session on the server. */
export const MAX_BENCH_STREAMS = 128;
/** Readings while sending: every `intervalMs`, or once a second for `onProgress`. */
const PROGRESS_INTERVAL_MS = 1000;

/** Options of {@link benchClient}: where the server is, as for {@link openSender}, and the test. */
export interface BenchClientOptions extends Pick<SenderOptions, 'host' | 'family' | 'lookup'> {
  /** The bench server's port; default 5201. */
  readonly port?: number;
  /** Bytes per test datagram (UDP payload), 28 to 65535; default 64. */
  readonly length?: number;
  /** How long to send, in milliseconds; default 5000. */
  readonly durationMs?: number;
  /** Datagrams per second per stream; 0 sends as fast as the socket takes them. Default 10000. */
  readonly rate?: number;
  /** Token bucket depth in datagrams: 1 (default) spaces every datagram evenly. */
  readonly burst?: number;
  /** Parallel streams, each its own socket and session, 1 (default) to 128. */
  readonly streams?: number;
  /**
   * Who sends: this client (`forward`, default), the server (`reverse`), or both at once
   * (`bidir`). `length`, `rate` and `durationMs` apply to both directions. Needs a server that
   * knows it (issue 15): an older one does not answer, and the test fails with UDPKIT_NO_ANSWER.
   */
  readonly direction?: BenchDirection;
  /** Read the server's counts this often (ms) and report each interval (`intervals`, `onInterval`). */
  readonly intervalMs?: number;
  /** Called as each interval closes: the streams' intervals (by stream) and their total. */
  readonly onInterval?: (interval: BenchIntervalEvent) => void;
  /** Measure round trips with sequential echoes afterwards: `true` for 1000, or a count. */
  readonly rtt?: boolean | number;
  /** How long to wait for the server to answer a control request, retries included; default 3000. */
  readonly answerTimeoutMs?: number;
  /** Called about once a second while sending (when `intervalMs` is not given), with the server's count so far. */
  readonly onProgress?: (progress: BenchProgress) => void;
  /** Stops sending early when aborted; the report still comes (with `stopped: true`). */
  readonly signal?: AbortSignal;
}

/** One closed interval: each stream's that closed at this reading, and the total of all of them. */
export interface BenchIntervalEvent {
  /** Whose traffic: the client's, or the server's as this client counted it (`reverse`, `bidir`). */
  readonly direction: 'forward' | 'reverse';
  /** By stream number; a stream whose reading went unanswered has none (its interval runs on). */
  readonly streams: readonly (BenchInterval | undefined)[];
  /** Only when every stream answered (else it runs on into the next). */
  readonly total: BenchInterval | undefined;
}

/** A report while the test runs. */
export interface BenchProgress {
  readonly elapsedMs: number;
  readonly sent: number;
  /** Over the last interval. */
  readonly sentPerSecond: number;
  /** The server's count, `undefined` when it did not answer in time. */
  readonly received: number | undefined;
  readonly lost: number | undefined;
  readonly lossPercent: number | undefined;
}

/** The server did not answer, or would not take the test. Codes are stable. */
export class BenchError extends UdpkitError {
  constructor(code: 'UDPKIT_NO_ANSWER' | 'UDPKIT_SERVER_BUSY', message: string, where: { address: string; port: number }) {
    super(code, message, where);
    this.name = 'BenchError';
  }
}

interface Test {
  readonly streams: readonly BenchStream[];
  readonly total: IntervalSeries;
  /** The server's traffic's total, in intervals (`reverse`, `bidir`). */
  readonly reverseTotal: IntervalSeries;
  readonly length: number;
  readonly options: BenchClientOptions;
  /** Cleared when the traffic ends: a reading answered later is not reported. */
  readonly live: { sending: boolean };
}

const is = <K extends BenchFrame['kind']>(kind: K, session: bigint) =>
  (f: BenchFrame): f is Extract<BenchFrame, { kind: K }> => f.kind === kind && f.session === session;

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Reads every stream at `atS` and closes their intervals, and the total's when all answered.
 * Runs beside the traffic: a stream still waiting on the last reading skips this one.
 */
async function readAll(t: Test, atS: number, sent: readonly number[], timeoutMs: number, progress: { sent: number; atS: number }): Promise<void> {
  const readings = await Promise.all(t.streams.map((s, k) => s.read(atS, sent[k] as number, timeoutMs)));
  if (!t.live.sending) return;
  const closed = readings.map((r, k) => (r ? (t.streams[k] as BenchStream).close(r) : undefined));
  const all = readings.every((r) => r !== undefined);
  const total = all ? t.total.close(sumReadings(readings as BenchReading[])) : undefined;
  t.options.onInterval?.({ direction: 'forward', streams: closed, total });
  const onProgress = t.options.onProgress;
  if (onProgress && t.options.intervalMs === undefined) {
    const sentAll = sent.reduce((a, b) => a + b, 0);
    const received = all ? readings.reduce((a, r) => a + (r as BenchReading).received, 0) : undefined;
    const loss = received === undefined ? undefined : lossOf(sentAll, received);
    const sentPerSecond = (sentAll - progress.sent) / Math.max(atS - progress.atS, 1e-9);
    Object.assign(progress, { sent: sentAll, atS });
    onProgress({ elapsedMs: atS * 1000, sent: sentAll, sentPerSecond, received, lost: loss?.lost, lossPercent: loss?.percent });
  }
}

/** Reads the server's traffic on every stream at `atS`, as {@link readAll} reads the client's. */
async function readReverse(t: Test, atS: number, timeoutMs: number): Promise<void> {
  const readings = await Promise.all(t.streams.map((s) => s.readSent(atS, timeoutMs)));
  if (!t.live.sending) return;
  const closed = readings.map((r, k) => (r ? (t.streams[k] as BenchStream).reverseSeries.close(r) : undefined));
  const total = readings.every((r) => r !== undefined) ? t.reverseTotal.close(sumReadings(readings as BenchReading[])) : undefined;
  t.options.onInterval?.({ direction: 'reverse', streams: closed, total });
}

/**
 * What runs at each interval boundary, on a grid from the start: readings of the client's
 * traffic (given what was sent) and of the server's. One boundary missed (a stall) is not made up.
 */
function ticker(t: Test, direction: BenchDirection): ((elapsedNs: number, sent?: readonly number[]) => void) | undefined {
  const everyMs = t.options.intervalMs ?? (t.options.onProgress && direction === 'forward' ? PROGRESS_INTERVAL_MS : undefined);
  if (everyMs === undefined) return undefined;
  let next = everyMs * 1e6;
  const progress = { sent: 0, atS: 0 };
  return (elapsedNs, sent) => {
    if (elapsedNs < next) return;
    while (next <= elapsedNs) next += everyMs * 1e6;
    if (sent && direction !== 'reverse') void readAll(t, elapsedNs / 1e9, sent, everyMs, progress);
    if (direction !== 'forward') void readReverse(t, elapsedNs / 1e9, everyMs);
  };
}

/** The client's traffic, read every interval (if asked for) while it runs. */
function traffic(t: Test, v: ReturnType<typeof validate>): Promise<TrafficResult> {
  const tick = ticker(t, v.direction);
  return sendTraffic({
    streams: t.streams.map((s) => ({ sender: s.sender, session: s.session })),
    length: v.length,
    durationMs: v.durationMs,
    rate: v.rate,
    burst: v.burst,
    signal: t.options.signal,
    ...(tick ? { tick } : {}),
  });
}

/**
 * Sequential echo round trips, each timed on this clock. Each reply is read where it arrived
 * and the next request goes out from there, at once: between a reply and the next request there
 * is no promise, no timer, no decoded object and no later turn of the event loop, which would
 * all count in the round trip. One watch a few times per timeout gives up on a lost echo.
 */
function measureRtt(t: BenchStream, length: number, count: number): Promise<{ samples: number[]; sent: number }> {
  return new Promise((resolve) => {
    const samples: number[] = [];
    const template = encodeBenchFrame({ kind: 'echo-request', session: t.session, seq: 0, sentAt: 0, length });
    const sessionHi = Number(t.session >> 32n);
    const sessionLo = Number(t.session & 0xffff_ffffn);
    const deadline = monotonicMicroseconds() + ECHO_BUDGET_MS * 1000;
    let seq = 0;
    // On the monotonic clock, with the fraction; the request carries the same moment in whole
    // microseconds since the epoch, as every bench timestamp.
    let sentAt = 0;
    const originUs = performance.timeOrigin * 1000;
    // One request buffer, used again as long as each request left before writeNow returned.
    let request = Buffer.from(template);
    const finish = (): void => {
      clearInterval(watch);
      t.replies.tap(undefined);
      resolve({ samples, sent: seq });
    };
    const next = (): void => {
      sentAt = monotonicMicroseconds();
      if (seq >= count || sentAt >= deadline) return finish();
      stampBenchEcho(request, seq, Math.floor(originUs + sentAt));
      t.sender.writeNow(request);
      if (t.sender.inFlight > 0) request = Buffer.from(template);
    };
    const watch = setInterval(() => {
      if (monotonicMicroseconds() - sentAt < ECHO_TIMEOUT_MS * 1000) return;
      seq++;
      next();
    }, ECHO_TIMEOUT_MS / 5);
    t.replies.tap((bytes, start, length, at) => {
      const s = echoReplySeq(bytes, start, length, sessionHi, sessionLo);
      if (s < 0) return false;
      // A late reply to an echo given up on is taken, and not counted.
      if (s === seq) {
        samples.push(Math.max(0, Math.round((at - sentAt) * 10) / 10));
        seq++;
        next();
      }
      return true;
    });
    next();
  });
}

function validate(options: BenchClientOptions) {
  const rtt = options.rtt;
  return {
    length: validateInteger(options.length ?? 64, { name: 'length', min: BENCH_DATA_HEADER_LENGTH, max: BENCH_MAX_LENGTH }),
    durationMs: validateInteger(options.durationMs ?? 5000, { name: 'durationMs', min: 1, max: 2 ** 32 - 1 }),
    rate: validateInteger(options.rate ?? DEFAULT_BENCH_RATE, { name: 'rate', min: 0, max: 2 ** 32 - 1 }),
    burst: validateInteger(options.burst ?? 1, { name: 'burst', min: 1, max: 1_000_000 }),
    streams: validateInteger(options.streams ?? 1, { name: 'streams', min: 1, max: MAX_BENCH_STREAMS }),
    direction: validateDirection(options.direction),
    ...(options.intervalMs !== undefined ? { intervalMs: validateInteger(options.intervalMs, { name: 'intervalMs', min: 1, max: 86_400_000 }) } : {}),
    echoes: rtt === undefined || rtt === false ? 0 : rtt === true ? DEFAULT_ECHOES : validateInteger(rtt, { name: 'rtt', min: 1, max: 1_000_000 }),
    answerMs: validateInteger(options.answerTimeoutMs ?? 3000, { name: 'answerTimeoutMs', min: 1, max: 600_000 }),
  };
}

function validateDirection(d: unknown): BenchDirection {
  if (d === undefined || d === 'forward' || d === 'reverse' || d === 'bidir') return d ?? 'forward';
  throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `direction must be 'forward', 'reverse' or 'bidir', got ${JSON.stringify(String(d))}`);
}

async function openStreams(options: BenchClientOptions, count: number, length: number, direction: BenchDirection): Promise<BenchStream[]> {
  const streams: BenchStream[] = [];
  try {
    for (let k = 0; k < count; k++) {
      const sender = await openSender({
        host: options.host,
        port: options.port ?? DEFAULT_BENCH_PORT,
        family: options.family ?? 0,
        highWaterMark: HIGH_WATER_MARK,
        ...(options.lookup ? { lookup: options.lookup } : {}),
      });
      streams.push(new BenchStream(sender, randomBytes(8).readBigUInt64BE(), length, direction));
    }
    return streams;
  } catch (err) {
    await closeStreams(streams);
    throw err;
  }
}

async function closeStreams(streams: readonly BenchStream[]): Promise<void> {
  for (const s of streams) s.replies.stop();
  await Promise.all(streams.map((s) => s.sender.close()));
}

/**
 * Runs one test against a bench server and resolves with the report: with `streams` > 1, the
 * total, each stream's own report in `streams`. Rejects with a {@link BenchError}
 * (`UDPKIT_NO_ANSWER`, `UDPKIT_SERVER_BUSY`) when the server does not take it.
 * @example
 * const report = await benchClient({ host: '127.0.0.1', port: 5201, durationMs: 1000, rate: 20_000, intervalMs: 250 });
 * console.log(report.sent, report.lost, report.gaps.cv, report.intervals.length);
 */
export async function benchClient(options: BenchClientOptions): Promise<BenchReport> {
  const v = validate(options);
  const streams = await openStreams(options, v.streams, v.length, v.direction);
  const reverse = v.direction !== 'forward';
  const first = streams[0] as BenchStream;
  const server = { address: first.sender.destination.address, port: first.sender.destination.port };
  const where = `${formatHostPort(server.address, server.port)}/udp`;
  const t: Test = {
    streams, total: new IntervalSeries(v.length), reverseTotal: new IntervalSeries(v.length), length: v.length, options: { ...options, ...v }, live: { sending: true },
  };
  const schedule = retrySchedule(v.answerMs);
  const noAnswer = (what: string): BenchError => {
    const hint = streams.some((s) => s.sender.stats.refused > 0) ? ' (port unreachable: is a bench server running there?)'
      : reverse && what === '' ? ' (a server older than reverse and bidirectional tests ignores them: update udpkit there, or test one way)' : '';
    return new BenchError('UDPKIT_NO_ANSWER', `no answer from bench server at ${where}${what}${hint}`, server);
  };
  try {
    checkPayloadSize(v.length, first.sender.destination.family);
    await Promise.all(streams.map(async (s) => {
      const start = encodeBenchFrame({ kind: 'start', session: s.session, length: v.length, durationMs: v.durationMs, rate: v.rate, direction: v.direction });
      const ack = await ask(s.sender, s.replies, start, is('start-ack', s.session), schedule);
      if (ack === undefined) throw noAnswer('');
      if (ack.frame.status === 'busy') throw new BenchError('UDPKIT_SERVER_BUSY', `bench server at ${where} is busy${v.streams > 1 ? ` (${v.streams} streams asked for)` : ''}; try again later`, server);
      if (reverse && (ack.frame.cookie === undefined || !(await goReverse(s, ack.frame.cookie, schedule)))) throw noAnswer(' to GO');
    }));
    const sent = v.direction === 'reverse'
      ? { sent: streams.map(() => 0), sendUs: await waitReverse(streams, v.durationMs, options.signal, ticker(t, v.direction)), gaps: streams.map(() => ({ count: 0, meanUs: NaN, cv: NaN })) }
      : await traffic(t, v);
    t.live.sending = false;
    const stopped = options.signal?.aborted === true;
    await pause(SETTLE_MS);
    const serverSent = reverse ? await Promise.all(streams.map((s) => s.serverSent(schedule))) : [];
    for (const s of streams) s.stopArrivals();
    if (serverSent.some((n) => n === undefined)) throw noAnswer(' for its sent count');
    const back = reverse
      ? reverseReport(streams, t.reverseTotal, { server, length: v.length, rate: v.rate, sendUs: sent.sendUs, sent: serverSent as number[], drops: await reverseDrops(streams), stopped })
      : undefined;
    if (back) options.onInterval?.({ direction: 'reverse', ...back.closed });
    const results = await Promise.all(streams.map((s, k) => s.final(sent.sent[k] as number, schedule)));
    if (results.some((r) => r === undefined)) throw noAnswer(' for the result');
    const atS = sent.sendUs / 1e6;
    const finals = results.map((r, k) => readingOf(atS, sent.sent[k] as number, r!));
    const closed = finals.map((r, k) => (streams[k] as BenchStream).close(r));
    if (v.direction !== 'reverse') options.onInterval?.({ direction: 'forward', streams: closed, total: t.total.close(sumReadings(finals)) });
    const echo = v.echoes > 0 && !options.signal?.aborted ? await measureRtt(first, v.length, v.echoes) : undefined;
    const reports = streams.map((s, k) => buildBenchReport({
      server,
      session: formatSessionId(s.session),
      length: v.length,
      rate: v.rate,
      burst: v.burst,
      sent: sent.sent[k] as number,
      sendUs: sent.sendUs,
      gaps: sent.gaps[k] as TrafficResult['gaps'][number],
      intervals: s.series.intervals,
      result: results[k]!,
      stopped,
      ...(echo && k === 0 ? { echo } : {}),
    }));
    const forward = reports.length === 1 ? (reports[0] as BenchReport) : combineBenchReports(reports, t.total.intervals);
    if (back === undefined) return forward;
    // Reverse: the server's traffic is the report (round trips measured all the same).
    return v.direction === 'reverse' ? { ...back.report, ...(forward.rtt ? { rtt: forward.rtt } : {}) } : withReverse(forward, back.report);
  } finally {
    await closeStreams(streams);
  }
}
