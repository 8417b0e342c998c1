/**
 * The client's side of the server's traffic (`--reverse`, `--bidir`; docs/protocol.md, "Bench
 * frames"): GO with the cookie of the START_ACK, keep-alives while only the server sends, its
 * sent count at the end, this socket's kernel drops, and the reports of what this end counted.
 */
import { encodeBenchFrame, formatSessionId, type BenchFrame } from '../protocol/bench-frames.js';
import { readingOf, sumReadings, type BenchInterval, type IntervalSeries } from '../protocol/bench-intervals.js';
import { buildBenchReport, combineBenchReports, type BenchReport } from '../protocol/bench-report.js';
import { ask } from './bench-replies.js';
import type { BenchStream } from './bench-stream.js';
import { nanoseconds } from './clock.js';
import { DEFAULT_RECEIVE_BUFFER } from './listener.js';

/** While only the server sends, the client says it is there this often (the server stops after 2 s of silence). */
const KEEP_ALIVE_MS = 500;
/** With interval readings, how often the wait looks at the clock. */
const TICK_MS = 10;

type Ack = Extract<BenchFrame, { kind: 'start-ack' }>;

/**
 * Returns the cookie to the server and starts counting its traffic; false when the server did
 * not confirm within the schedule.
 */
export async function goReverse(s: BenchStream, cookie: bigint, schedule: readonly number[]): Promise<boolean> {
  try {
    // A whole test arrives here: the kernel's default buffer (some 200 KB) held 3 ms of 64-byte
    // datagrams at 100,000/s, and lost 13% of them on a busy machine.
    s.sender.setReceiveBufferSize(DEFAULT_RECEIVE_BUFFER);
  } catch {
    // The kernel keeps its default; the drops then show in the report.
  }
  s.dropsAtStart = await s.sender.kernelDrops();
  // Counting first: the first datagrams may arrive before the confirmation.
  s.countArrivals();
  const go = encodeBenchFrame({ kind: 'go', session: s.session, cookie });
  const ack = await ask(s.sender, s.replies, go, (f): f is Ack => f.kind === 'start-ack' && f.session === s.session, schedule);
  return ack !== undefined;
}

/**
 * Waits out the test while only the server sends, keeping the sessions alive and calling `tick`
 * (interval readings) about every 10 ms; resolves with µs waited.
 */
export async function waitReverse(
  streams: readonly BenchStream[],
  durationMs: number,
  signal: AbortSignal | undefined,
  tick?: (elapsedNs: number) => void,
): Promise<number> {
  const start = nanoseconds();
  const end = start + durationMs * 1e6;
  let aliveAt = start;
  while (!signal?.aborted && nanoseconds() < end) {
    const now = nanoseconds();
    tick?.(now - start);
    if (now >= aliveAt) {
      for (const s of streams) s.keepAlive();
      aliveAt = now + KEEP_ALIVE_MS * 1e6;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(tick ? TICK_MS : KEEP_ALIVE_MS, Math.max(0, (end - nanoseconds()) / 1e6)));
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }
  return Math.round((nanoseconds() - start) / 1000);
}

/** What {@link reverseReport} needs besides the streams. */
export interface ReverseInput {
  readonly server: { readonly address: string; readonly port: number };
  readonly length: number;
  readonly rate: number;
  /** Microseconds this end waited for (or sent alongside) the server's traffic. */
  readonly sendUs: number;
  /** By stream: what the server says it sent. */
  readonly sent: readonly number[];
  /** By stream: what the client's socket dropped during the test, if known. */
  readonly drops: readonly (number | undefined)[];
  readonly stopped: boolean;
}

/** What this client's socket of each stream dropped since GO, where the kernel says. */
export async function reverseDrops(streams: readonly BenchStream[]): Promise<(number | undefined)[]> {
  return Promise.all(streams.map(async (s) => {
    const now = await s.sender.kernelDrops();
    return now === undefined || s.dropsAtStart === undefined ? undefined : Math.max(0, now - s.dropsAtStart);
  }));
}

/**
 * The report of the server's traffic as this end counted it, its intervals closed with the
 * final counts (`closed`: those last intervals, for `onInterval`): the receiving socket's drops
 * are this client's, the sender's gaps unknown.
 */
export function reverseReport(
  streams: readonly BenchStream[],
  total: IntervalSeries,
  r: ReverseInput,
): { report: BenchReport; closed: { streams: BenchInterval[]; total: BenchInterval } } {
  const atS = r.sendUs / 1e6;
  const counts = streams.map((s, k) => (s.arrivals as NonNullable<BenchStream['arrivals']>).counts(r.drops[k]));
  const readings = streams.map((_s, k) => readingOf(atS, r.sent[k] as number, counts[k]!));
  const closed = { streams: streams.map((s, k) => s.reverseSeries.close(readings[k]!)), total: total.close(sumReadings(readings)) };
  const reports = streams.map((s, k) => {
    const series = s.reverseSeries;
    return buildBenchReport({
      server: r.server,
      session: formatSessionId(s.session),
      length: r.length,
      rate: r.rate,
      burst: 1,
      direction: 'reverse',
      sent: r.sent[k] as number,
      sendUs: r.sendUs,
      gaps: { meanUs: NaN, cv: NaN },
      intervals: series.intervals,
      result: counts[k]!,
      stopped: r.stopped,
    });
  });
  return { report: reports.length === 1 ? (reports[0] as BenchReport) : combineBenchReports(reports, total.intervals, false), closed };
}
