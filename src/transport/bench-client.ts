/**
 * The bench client: START, then paced test traffic, then the server's RESULT, then (optionally)
 * sequential echo round trips, over one connected {@link Sender} (docs/protocol.md, "Bench
 * frames"). Control requests are sent again until answered, within bounds.
 *
 * Longer than most files (about 270 lines) for a reason: the three phases (traffic, result,
 * echoes) share one test's state (sender, session, what was sent, the live counts); the retry
 * and reply machinery already stands alone in bench-replies.ts, the arithmetic in protocol/.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { UdpkitError, formatHostPort } from '../errors.js';
import { BENCH_DATA_HEADER_LENGTH, BENCH_MAX_LENGTH, echoReplySeq, encodeBenchFrame, formatSessionId, stampBenchData, stampBenchEcho, type BenchFrame } from '../protocol/bench-frames.js';
import { Pacer } from '../protocol/bench-pacer.js';
import { buildBenchReport, type BenchReport } from '../protocol/bench-report.js';
import { lossOf } from '../protocol/bench-stats.js';
import { openSender, type Sender, type SenderOptions } from './sender.js';
import { checkPayloadSize, validateInteger } from '../validate.js';
import { ReplyPump, ask, retrySchedule } from './bench-replies.js';
import { DEFAULT_BENCH_PORT } from './bench-server.js';
import { milliseconds, monotonicMicroseconds } from './clock.js';

/** Target datagrams per second unless told otherwise (about 5 Mbit/s of 64-byte datagrams). */
export const DEFAULT_BENCH_RATE = 10_000;
/** Echo round trips measured by `rtt: true`. */
export const DEFAULT_ECHOES = 1000;
/** Datagrams written per event-loop turn at most, so replies and timers still get their turn. */
const MAX_PER_TURN = 4096;
/**
 * Data frames stamped together and handed over as spans of one buffer: one sendmmsg on the
 * native socket, no object per datagram, one clock reading (they leave within microseconds).
 */
const SPAN_COUNT = 64;
/** In-flight sends before the sender pushes back. */
const HIGH_WATER_MARK = 1024;
/** Echo phase limits: one echo waits this long, all of them together at most that long. */
const ECHO_TIMEOUT_MS = 250;
const ECHO_BUDGET_MS = 3000;
/** Pause between the last datagram and the RESULT request, for stragglers on a real path. */
const SETTLE_MS = 20;

/** Options of {@link benchClient}: where the server is, as for {@link openSender}, and the test. */
export interface BenchClientOptions extends Pick<SenderOptions, 'host' | 'family' | 'lookup'> {
  /** The bench server's port; default 5201. */
  readonly port?: number;
  /** Bytes per test datagram (UDP payload), 28 to 65535; default 64. */
  readonly length?: number;
  /** How long to send, in milliseconds; default 5000. */
  readonly durationMs?: number;
  /** Datagrams per second; 0 sends as fast as the socket takes them. Default 10000. */
  readonly rate?: number;
  /** Measure round trips with sequential echoes afterwards: `true` for 1000, or a count. */
  readonly rtt?: boolean | number;
  /** How long to wait for the server to answer a control request, retries included; default 3000. */
  readonly answerTimeoutMs?: number;
  /** Called about once a second while sending, with the server's count so far. */
  readonly onProgress?: (progress: BenchProgress) => void;
  /** Stops sending early when aborted; the report still comes (with `stopped: true`). */
  readonly signal?: AbortSignal;
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
  readonly sender: Sender;
  readonly replies: ReplyPump;
  readonly session: bigint;
  readonly length: number;
  readonly durationMs: number;
  readonly rate: number;
  readonly options: BenchClientOptions;
  /** Cleared when the traffic ends: a progress answer arriving later is not reported. */
  readonly live: { sending: boolean };
}

const is = <K extends BenchFrame['kind']>(kind: K, session: bigint) =>
  (f: BenchFrame): f is Extract<BenchFrame, { kind: K }> => f.kind === kind && f.session === session;

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** SPAN_COUNT copies of `template` back to back, as spans. */
function frameSpans(template: Buffer): { bytes: Buffer; starts: Uint32Array; ends: Uint32Array } {
  const n = template.length;
  const bytes = Buffer.allocUnsafe(n * SPAN_COUNT);
  const starts = new Uint32Array(SPAN_COUNT);
  const ends = new Uint32Array(SPAN_COUNT);
  for (let k = 0; k < SPAN_COUNT; k++) {
    template.copy(bytes, k * n);
    starts[k] = k * n;
    ends[k] = (k + 1) * n;
  }
  return { bytes, starts, ends };
}

/** Sends paced test traffic until the duration is over or the signal aborts. */
async function sendTraffic(t: Test): Promise<{ sent: number; sendUs: number }> {
  const { sender, length, rate, options } = t;
  const spans = frameSpans(encodeBenchFrame({ kind: 'data', session: t.session, seq: 0, sentAt: 0, length }));
  // Milliseconds, fractional, as the pacer takes them; the frames carry whole microseconds.
  const start = milliseconds();
  const end = start + t.durationMs;
  const pacer = rate > 0 ? new Pacer(rate, start) : undefined;
  const progress = options.onProgress && { next: start + 1000, sentBefore: 0, lastAt: start };
  let seq = 0;
  let last = start;
  while (!options.signal?.aborted) {
    const now = milliseconds();
    if (now >= end) break;
    if (progress && now >= progress.next) {
      askProgress(t, seq, now - start, (seq - progress.sentBefore) / ((now - progress.lastAt) / 1000));
      Object.assign(progress, { next: progress.next + 1000, sentBefore: seq, lastAt: now });
    }
    const due = pacer ? Math.min(pacer.available(now), MAX_PER_TURN) : MAX_PER_TURN;
    for (let n = 0; n < due; ) {
      const count = Math.min(due - n, SPAN_COUNT);
      last = milliseconds();
      const sentAtUs = Math.floor(last * 1000);
      for (let k = 0; k < count; k++) stampBenchData(spans.bytes, seq++, sentAtUs, k * length);
      // Resolves once the kernel has them all (waiting while the socket is full): then the
      // buffer is free to stamp again.
      await sender.writeSpans({ ...spans, count });
      n += count;
    }
    pacer?.take(due);
    if (pacer && pacer.wait() > 0) await pause(Math.min(Math.ceil(pacer.wait()), end - now), options.signal);
    else await nextTurn();
  }
  const sendUs = Math.round((Math.max(milliseconds(), last) - start) * 1000);
  t.live.sending = false;
  await sender.flush();
  return { sent: seq, sendUs };
}

/** Asks for the server's count so far and reports it when (if) it comes. */
function askProgress(t: Test, sent: number, elapsedMs: number, sentPerSecond: number): void {
  const request = encodeBenchFrame({ kind: 'result-request', session: t.session, final: false, sent });
  const answer = t.replies.wait((f): f is Extract<BenchFrame, { kind: 'result' }> => is('result', t.session)(f) && !f.final, 900);
  t.sender.write(request);
  void answer.then((heard) => {
    if (!t.live.sending || !t.options.onProgress) return;
    const received = heard?.frame.stats.received;
    const loss = received === undefined ? undefined : lossOf(sent, received);
    t.options.onProgress({ elapsedMs, sent, sentPerSecond, received, lost: loss?.lost, lossPercent: loss?.percent });
  });
}

/**
 * Sequential echo round trips, each timed on this clock. Each reply is read where it arrived
 * and the next request goes out from there, at once: between a reply and the next request there
 * is no promise, no timer, no decoded object and no later turn of the event loop, which would
 * all count in the round trip. One watch a few times per timeout gives up on a lost echo.
 */
function measureRtt(t: Test, count: number): Promise<{ samples: number[]; sent: number }> {
  return new Promise((resolve) => {
    const samples: number[] = [];
    const template = encodeBenchFrame({ kind: 'echo-request', session: t.session, seq: 0, sentAt: 0, length: t.length });
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
    echoes: rtt === undefined || rtt === false ? 0 : rtt === true ? DEFAULT_ECHOES : validateInteger(rtt, { name: 'rtt', min: 1, max: 1_000_000 }),
    answerMs: validateInteger(options.answerTimeoutMs ?? 3000, { name: 'answerTimeoutMs', min: 1, max: 600_000 }),
  };
}

/**
 * Runs one test against a bench server and resolves with the report. Rejects with a
 * {@link BenchError} (`UDPKIT_NO_ANSWER`, `UDPKIT_SERVER_BUSY`) when the server does not take it.
 * @example
 * const report = await benchClient({ host: '127.0.0.1', port: 5201, durationMs: 1000, rate: 20_000 });
 * console.log(report.sent, report.lost, report.jitterMs);
 */
export async function benchClient(options: BenchClientOptions): Promise<BenchReport> {
  const v = validate(options);
  const sender = await openSender({
    host: options.host,
    port: options.port ?? DEFAULT_BENCH_PORT,
    family: options.family ?? 0,
    highWaterMark: HIGH_WATER_MARK,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
  const server = { address: sender.destination.address, port: sender.destination.port };
  const where = `${formatHostPort(server.address, server.port)}/udp`;
  const replies = new ReplyPump(sender);
  const t: Test = { sender, replies, session: randomBytes(8).readBigUInt64BE(), ...v, options, live: { sending: true } };
  const schedule = retrySchedule(v.answerMs);
  const noAnswer = (what: string): BenchError => {
    const hint = sender.stats.refused > 0 ? ' (port unreachable: is a bench server running there?)' : '';
    return new BenchError('UDPKIT_NO_ANSWER', `no answer from bench server at ${where}${what}${hint}`, server);
  };
  try {
    checkPayloadSize(v.length, sender.destination.family);
    const start = encodeBenchFrame({ kind: 'start', session: t.session, length: v.length, durationMs: v.durationMs, rate: v.rate });
    const ack = await ask(sender, replies, start, is('start-ack', t.session), schedule);
    if (ack === undefined) throw noAnswer('');
    if (ack.frame.status === 'busy') throw new BenchError('UDPKIT_SERVER_BUSY', `bench server at ${where} is busy; try again later`, server);
    const traffic = await sendTraffic(t);
    const stopped = options.signal?.aborted === true;
    await pause(SETTLE_MS, undefined);
    const request = encodeBenchFrame({ kind: 'result-request', session: t.session, final: true, sent: traffic.sent });
    const final = (f: BenchFrame): f is Extract<BenchFrame, { kind: 'result' }> => is('result', t.session)(f) && f.final;
    const result = await ask(sender, replies, request, final, schedule);
    if (result === undefined) throw noAnswer(' for the result');
    const echo = v.echoes > 0 && !options.signal?.aborted ? await measureRtt(t, v.echoes) : undefined;
    return buildBenchReport({
      server,
      session: formatSessionId(t.session),
      length: v.length,
      rate: v.rate,
      ...traffic,
      result: result.frame.stats,
      stopped,
      ...(echo ? { echo } : {}),
    });
  } finally {
    replies.stop();
    await sender.close();
  }
}
