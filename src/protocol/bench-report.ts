/**
 * What `udpkit bench` reports at the end of a test, computed from the client's counts and the
 * server's RESULT (docs/protocol.md, "Bench frames"). Pure arithmetic.
 */
import type { BenchResultStats } from './bench-frames.js';
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
  readonly maxUs: number;
  readonly meanUs: number;
}

/** The outcome of one bench test. Rates are per second; Mbit/s count UDP payload bits. */
export interface BenchReport {
  readonly server: { readonly address: string; readonly port: number };
  /** The session id, 16 hex digits. */
  readonly session: string;
  /** Bytes per test datagram (UDP payload). */
  readonly length: number;
  /** Target datagrams per second; 0: as fast as the socket takes them. */
  readonly rate: number;
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
  /** With `--rtt`. */
  readonly rtt?: BenchRtt;
}

/** What {@link buildBenchReport} needs. */
export interface BenchReportInput {
  readonly server: { readonly address: string; readonly port: number };
  readonly session: string;
  readonly length: number;
  readonly rate: number;
  readonly sent: number;
  /** Microseconds the sending loop ran. */
  readonly sendUs: number;
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
  return {
    server: input.server,
    session: input.session,
    length,
    rate: input.rate,
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
    ...(input.echo && {
      rtt: {
        echoes: input.echo.sent,
        lost: input.echo.sent - input.echo.samples.length,
        minUs: latency?.min ?? NaN,
        p50Us: latency?.p50 ?? NaN,
        p90Us: latency?.p90 ?? NaN,
        p99Us: latency?.p99 ?? NaN,
        maxUs: latency?.max ?? NaN,
        meanUs: latency?.mean ?? NaN,
      },
    }),
  };
}
