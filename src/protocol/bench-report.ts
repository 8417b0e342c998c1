/**
 * What `udpkit bench` reports at the end of a test, computed from the client's counts and the
 * server's RESULT (docs/protocol.md, "Bench frames"). Pure arithmetic.
 */
import type { BenchDirection, BenchResultStats } from './bench-frames.js';
import { jitterRange, type BenchInterval } from './bench-intervals.js';
import { latencyHistogram, type HistogramBin } from './bench-histogram.js';
import { lossOf, summarizeLatency } from './bench-stats.js';

/** Round-trip times of echo requests, in microseconds. */
export interface BenchRtt {
  /** Echo requests sent. */
  readonly echoes: number;
  /** Echo requests that got no reply in time. */
  readonly lost: number;
  readonly minUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
  readonly meanUs: number;
  /** Log-spaced bins (1, 2, 5, 10, 20, 50... µs), from the fastest echo's to the slowest's. */
  readonly histogram: readonly HistogramBin[];
}

/** Where the lost datagrams went, and what arrived twice or out of order. */
export interface BenchLossSplit {
  /** Lost on the way: lost less what the receiving socket dropped; all of the loss when that is unknown. */
  readonly path: number;
  /** Dropped by the receiving socket (buffer full), as far as its kernel counter tells; unknown for the client's (`--reverse`). */
  readonly socket: number | undefined;
  readonly reordered: number;
  readonly duplicated: number;
}

/** Delay as the server saw it: jitter, and one-way delay variation over the minimum transit. */
export interface BenchDelay {
  /** RFC 3550 jitter at the end, and its least and greatest over the intervals (ms). */
  readonly jitterMs: number;
  readonly jitterMinMs: number;
  readonly jitterMaxMs: number;
  /** Mean and largest one-way delay variation (ms); null from a server that does not report it. */
  readonly delayVarMeanMs: number | null;
  readonly delayVarMaxMs: number | null;
}

/** The outcome of one bench test. Rates are per second; Mbit/s count UDP payload bits. */
export interface BenchReport {
  readonly server: { readonly address: string; readonly port: number };
  /** The session id, 16 hex digits; with several streams, theirs joined by commas. */
  readonly session: string;
  /** Bytes per test datagram (UDP payload). */
  readonly length: number;
  /** Target datagrams per second; 0: as fast as the socket takes them. */
  readonly rate: number;
  /** The pacer's bucket depth, datagrams (1: evenly spaced). */
  readonly burst: number;
  /** Gaps between sends as the client's clock saw them: mean (µs) and stddev / mean. */
  readonly gaps: { readonly meanUs: number; readonly cv: number };
  /** How long the client's sending loop ran (the test time, unless stopped early). */
  readonly seconds: number;
  readonly sent: number;
  readonly sentPerSecond: number;
  readonly sentMbps: number;
  /** Distinct sequence numbers the server received. */
  readonly received: number;
  /** Over the server's first to last arrival: (received - 1) / span. */
  readonly receivedPerSecond: number;
  readonly receivedMbps: number;
  /** sent - received: exact while `late` is 0. */
  readonly lost: number;
  readonly lossPercent: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  /** Arrivals too late for the server's sequence window (see `ReceiverCounts.late`). */
  readonly late: number;
  /** RFC 3550 interarrival jitter, milliseconds. */
  readonly jitterMs: number;
  /** Datagrams the server's kernel dropped on its socket during the test (any session's). */
  readonly kernelDrops: number | undefined;
  /** True when the test was stopped before its time. */
  readonly stopped: boolean;
  readonly loss: BenchLossSplit;
  readonly delay: BenchDelay;
  /** One per interval (`intervalMs`), or a single one for the whole test; they add up to this report. */
  readonly intervals: readonly BenchInterval[];
  /** With `--rtt`. */
  readonly rtt?: BenchRtt;
  /** With several streams (`-P`): each one's report; the fields above are then their total. */
  readonly streams?: readonly BenchReport[];
  /** Whose traffic this report counts: the client's (`forward`) or the server's (`reverse`). With `--bidir`, the client's, and `reverse` holds the server's. */
  readonly direction: 'forward' | 'reverse';
  /** With `--bidir`: the server's traffic, counted by the client. */
  readonly reverse?: BenchReport;
}

/** A report of the client's traffic with the report of the server's (`--bidir`) beside it. */
export function withReverse(forward: BenchReport, reverse: BenchReport): BenchReport {
  return { ...forward, reverse };
}

/** What {@link buildBenchReport} needs. */
export interface BenchReportInput {
  readonly server: { readonly address: string; readonly port: number };
  readonly session: string;
  readonly length: number;
  readonly rate: number;
  readonly burst: number;
  /** `reverse`: the server sent, this client counted. Default `forward`. */
  readonly direction?: Exclude<BenchDirection, 'bidir'>;
  readonly sent: number;
  /** Microseconds the sending loop ran. */
  readonly sendUs: number;
  readonly gaps: { readonly meanUs: number; readonly cv: number };
  /** Closed by the caller with the final result, so they add up to it. */
  readonly intervals: readonly BenchInterval[];
  readonly result: BenchResultStats;
  readonly stopped: boolean;
  /** Echo round trips (µs) and how many echo requests went out. */
  readonly echo?: { readonly samples: readonly number[]; readonly sent: number };
}

/**
 * Turns counts into the report's rates and percentages.
 * @example buildBenchReport({ ...input, sent: 100, result: { ...counts, received: 99 } }).lost // 1
 */
export function buildBenchReport(input: BenchReportInput): BenchReport {
  const { result, length } = input;
  const seconds = Math.max(input.sendUs, 1) / 1e6;
  // n arrivals span n - 1 gaps; with fewer than two, the sending time stands in for the span.
  const spanned = result.received >= 2 && result.spanUs > 0;
  const receiveRate = spanned ? (result.received - 1) / (result.spanUs / 1e6) : result.received / seconds;
  const { lost, percent } = lossOf(input.sent, result.received);
  const latency = input.echo && summarizeLatency(input.echo.samples);
  const mbps = (perSecond: number): number => (perSecond * length * 8) / 1e6;
  const socket = result.kernelDrops === undefined ? undefined : Math.min(result.kernelDrops, lost);
  const jitter = jitterRange(input.intervals);
  const d = result.delay;
  return {
    server: input.server,
    session: input.session,
    length,
    rate: input.rate,
    burst: input.burst,
    gaps: { meanUs: input.gaps.meanUs, cv: input.gaps.cv },
    seconds,
    sent: input.sent,
    sentPerSecond: input.sent / seconds,
    sentMbps: mbps(input.sent / seconds),
    received: result.received,
    receivedPerSecond: receiveRate,
    receivedMbps: mbps(receiveRate),
    lost,
    lossPercent: percent,
    duplicates: result.duplicates,
    outOfOrder: result.outOfOrder,
    late: result.late,
    jitterMs: result.jitterUs / 1000,
    kernelDrops: result.kernelDrops,
    stopped: input.stopped,
    loss: { path: lost - (socket ?? 0), socket, reordered: result.outOfOrder, duplicated: result.duplicates },
    delay: {
      jitterMs: result.jitterUs / 1000,
      jitterMinMs: jitter.minMs,
      jitterMaxMs: jitter.maxMs,
      delayVarMeanMs: d && d.count > 0 ? d.sumUs / d.count / 1000 : null,
      delayVarMaxMs: d ? d.maxUs / 1000 : null,
    },
    intervals: input.intervals,
    direction: input.direction ?? 'forward',
    ...(input.echo && {
      rtt: {
        echoes: input.echo.sent,
        lost: input.echo.sent - input.echo.samples.length,
        minUs: latency?.min ?? NaN,
        p50Us: latency?.p50 ?? NaN,
        p90Us: latency?.p90 ?? NaN,
        p99Us: latency?.p99 ?? NaN,
        p999Us: latency?.p999 ?? NaN,
        maxUs: latency?.max ?? NaN,
        meanUs: latency?.mean ?? NaN,
        histogram: latencyHistogram(input.echo.samples),
      },
    }),
  };
}

/**
 * The total of several streams' reports (`-P`): counts and rates added; jitter, delay variation
 * and gap CV the worst stream's. Kernel drops: the largest any stream saw when the streams share
 * one receiving socket (the server's: each stream's figure already covers the others' drops),
 * their sum when each had its own (the client's, `reverse`).
 * @example combineBenchReports([a, b], totalIntervals).sent // a.sent + b.sent
 */
export function combineBenchReports(reports: readonly BenchReport[], intervals: readonly BenchInterval[], sharedSocket = true): BenchReport {
  const first = reports[0] as BenchReport;
  const sum = (f: (r: BenchReport) => number): number => reports.reduce((a, r) => a + f(r), 0);
  const max = (f: (r: BenchReport) => number): number => Math.max(...reports.map(f));
  const seconds = max((r) => r.seconds);
  const sent = sum((r) => r.sent);
  const received = sum((r) => r.received);
  const { lost, percent } = lossOf(sent, received);
  const drops = reports.map((r) => r.kernelDrops);
  const known = drops as number[];
  const kernelDrops = drops.some((d) => d === undefined) ? undefined : sharedSocket ? Math.max(...known) : known.reduce((a, b) => a + b, 0);
  const socket = kernelDrops === undefined ? undefined : Math.min(kernelDrops, lost);
  const jitter = jitterRange(intervals);
  const varMean = reports.every((r) => r.delay.delayVarMeanMs !== null) && received > 0
    ? sum((r) => (r.delay.delayVarMeanMs as number) * r.received) / received
    : null;
  return {
    ...first,
    session: reports.map((r) => r.session).join(','),
    seconds,
    gaps: { meanUs: sum((r) => r.gaps.meanUs) / reports.length, cv: max((r) => r.gaps.cv) },
    sent,
    sentPerSecond: sent / seconds,
    sentMbps: sum((r) => r.sentMbps),
    received,
    receivedPerSecond: sum((r) => r.receivedPerSecond),
    receivedMbps: sum((r) => r.receivedMbps),
    lost,
    lossPercent: percent,
    duplicates: sum((r) => r.duplicates),
    outOfOrder: sum((r) => r.outOfOrder),
    late: sum((r) => r.late),
    jitterMs: max((r) => r.jitterMs),
    kernelDrops,
    stopped: reports.some((r) => r.stopped),
    loss: { path: lost - (socket ?? 0), socket, reordered: sum((r) => r.outOfOrder), duplicated: sum((r) => r.duplicates) },
    delay: {
      jitterMs: max((r) => r.jitterMs),
      jitterMinMs: jitter.minMs,
      jitterMaxMs: jitter.maxMs,
      delayVarMeanMs: varMean,
      delayVarMaxMs: reports.every((r) => r.delay.delayVarMaxMs !== null) ? max((r) => r.delay.delayVarMaxMs as number) : null,
    },
    intervals,
    streams: reports,
  };
}
