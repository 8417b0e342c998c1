/** How `udpkit bench` shows its reports: text for people, one JSON object for machines. */
import { formatHostPort } from '../errors.js';
import type { BenchInterval } from '../protocol/bench-intervals.js';
import type { BenchReport } from '../protocol/bench-report.js';
import type { BenchSessionSummary } from '../protocol/bench-sessions.js';
import type { BenchIntervalEvent, BenchProgress } from '../transport/bench-client.js';
import { quantity } from './quantity.js';

const int = (n: number): string => String(Math.round(n));
const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const pct = (n: number): string => `${fixed(n, 3)}%`;

/** JSON with `undefined` fields kept as `null`, so every report has the same keys. */
function toJson(value: object): string {
  return JSON.stringify(value, (_key, v: unknown) => (v === undefined ? null : v));
}

function lossLine(r: BenchReport): string {
  // The receiving socket: the server's, or this client's for the server's traffic.
  const whose = r.direction === 'reverse' ? "this client's" : "the server's";
  let line = `loss        ${r.lost} (${pct(r.lossPercent)})`;
  if (r.kernelDrops === undefined) line += `; ${whose} kernel drops: n/a`;
  else if (r.lost > 0) line += `, of which ${whose} kernel dropped ${Math.min(r.kernelDrops, r.lost)} (receive buffer full)`;
  else line += `; ${whose} kernel drops: ${r.kernelDrops}`;
  if (r.late > 0) line += `; ${r.late} arrived too late to tell from duplicates, so loss may be off by that much`;
  return line;
}

function splitLine(r: BenchReport): string {
  const l = r.loss;
  const where = l.socket === undefined
    ? `path and receiving socket ${l.path} (the socket's drop counter could not be read)`
    : `path ${l.path}, receiving socket ${l.socket}`;
  return `loss split  ${where}; reordered ${l.reordered}, duplicated ${l.duplicated}`;
}

function delayLine(r: BenchReport): string {
  const d = r.delay;
  const range = r.intervals.length > 1 ? ` (min ${fixed(d.jitterMinMs, 3)}, max ${fixed(d.jitterMaxMs, 3)} over ${quantity(r.intervals.length, 'interval')})` : '';
  const variation = d.delayVarMeanMs === null ? 'one-way delay variation n/a (older server)'
    : `one-way delay variation mean ${fixed(d.delayVarMeanMs, 3)} ms, max ${fixed(d.delayVarMaxMs ?? NaN, 3)} ms`;
  return `jitter      ${fixed(r.jitterMs, 3)} ms${range}; ${variation}`;
}

function rttLines(r: BenchReport): string[] {
  const rtt = r.rtt;
  if (!rtt) return [];
  const bins = rtt.histogram.map((b) => `${b.fromUs}-${b.toUs} µs: ${b.count}`).join(', ');
  return [
    `rtt         p50 ${int(rtt.p50Us)} µs, p90 ${int(rtt.p90Us)} µs, p99 ${int(rtt.p99Us)} µs, p99.9 ${int(rtt.p999Us)} µs, max ${int(rtt.maxUs)} µs (${quantity(rtt.echoes, 'echo', 'echoes')}, ${rtt.lost} lost)`,
    ...(bins ? [`rtt bins    ${bins}`] : []),
  ];
}

/** `[  2]` for stream 2, `[SUM]` for the total: iperf3's labels. */
function label(stream: number | 'sum'): string {
  return stream === 'sum' ? '[SUM]' : `[${String(stream).padStart(3)}]`;
}

/** One stream's (or the total's) line of a `-P` report. */
function streamLine(r: BenchReport, stream: number | 'sum'): string {
  return `${label(stream)} sent ${r.sent}, received ${r.received}, lost ${r.lost} (${pct(r.lossPercent)}), ${fixed(r.receivedMbps, 2)} Mbit/s, jitter ${fixed(r.jitterMs, 3)} ms, gap CV ${fixed(r.gaps.cv, 3)}`;
}

/**
 * The client's report, several lines; with several streams, a line each and a `[SUM]` line.
 * @example io.stdout.write(formatBenchReport(report))
 */
export function formatBenchReport(r: BenchReport): string {
  const rate = r.rate === 0 ? 'as fast as possible' : `${r.rate} datagrams/s${r.streams ? ' per stream' : ''}`;
  const streams = r.streams ? `${r.streams.length} streams of ` : '';
  const toFrom = r.direction === 'reverse' ? `from ${formatHostPort(r.server.address, r.server.port)}/udp (the server sends)` : `to ${formatHostPort(r.server.address, r.server.port)}/udp`;
  const lines = [
    `bench ${toFrom}, session ${r.session}: ${streams}${r.length}-byte datagrams for ${fixed(r.seconds, 2)} s, ${rate}${r.stopped ? ' (stopped early)' : ''}`,
    ...(r.streams ? [...r.streams.map((s, k) => streamLine(s, k + 1)), streamLine(r, 'sum')] : []),
    `sent        ${quantity(r.sent, 'datagram')}, ${int(r.sentPerSecond)}/s, ${fixed(r.sentMbps, 2)} Mbit/s`,
    ...(r.rate > 0 && Number.isFinite(r.gaps.meanUs) ? [`pacing      burst ${r.burst}; gaps between sends mean ${fixed(r.gaps.meanUs, 2)} µs, CV ${fixed(r.gaps.cv, 3)}`] : []),
    `received    ${quantity(r.received, 'datagram')}, ${int(r.receivedPerSecond)}/s, ${fixed(r.receivedMbps, 2)} Mbit/s`,
    lossLine(r),
    splitLine(r),
    `duplicates  ${r.duplicates}; out of order ${r.outOfOrder}`,
    delayLine(r),
    ...rttLines(r),
  ];
  // --bidir: the server's traffic, as this end counted it, after the client's.
  return lines.join('\n') + '\n' + (r.reverse ? formatBenchReport(r.reverse) : '');
}

/**
 * One interval's line, like iperf3's: `[  1]     0.00-1.00 s  sent ...`; the server's traffic
 * (`--reverse`, `--bidir`) as `[R  1]` and `[RSUM]`.
 */
function intervalLine(i: BenchInterval, stream: number | 'sum', reverse: boolean): string {
  const dv = i.delayVarMs === null ? '' : `, delay var ${fixed(i.delayVarMs, 3)} ms`;
  const tag = reverse ? `[R${label(stream).slice(1)}` : label(stream);
  return (
    `${tag} ${`${fixed(i.startS, 2)}-${fixed(i.endS, 2)}`.padStart(13)} s  sent ${i.sent}, received ${i.received}, ` +
    `lost ${i.lost} (${pct(i.lossPercent)}), ${fixed(i.mbps, 2)} Mbit/s, jitter ${fixed(i.jitterMs, 3)} ms${dv}`
  );
}

/**
 * The lines of one closed interval (`-i`): one per stream that closed, then `[SUM]` with several.
 * @example io.stderr.write(formatBenchInterval(event))
 */
export function formatBenchInterval(e: BenchIntervalEvent): string {
  const reverse = e.direction === 'reverse';
  const lines = e.streams.flatMap((i, k) => (i ? [intervalLine(i, k + 1, reverse)] : []));
  if (e.streams.length > 1 && e.total) lines.push(intervalLine(e.total, 'sum', reverse));
  return lines.map((l) => l + '\n').join('');
}

/**
 * One closed interval as one JSON line (`--json-stream`): `{"type":"interval","direction":...}` with the total
 * and, with several streams, each stream's.
 * @example JSON.parse(benchIntervalJson(event)).interval.sent
 */
export function benchIntervalJson(e: BenchIntervalEvent): string {
  const interval = e.total ?? (e.streams.length === 1 ? e.streams[0] : undefined);
  return toJson({ type: 'interval', direction: e.direction, interval, ...(e.streams.length > 1 ? { streams: e.streams } : {}) });
}

/**
 * The client's report as one JSON object (unknown values are `null`).
 * @example JSON.parse(benchReportJson(report)).lost // 0
 */
export function benchReportJson(r: BenchReport): string {
  return toJson(r);
}

/**
 * The final report as the last line of `--json-stream`: the report with `"type":"report"`.
 * @example JSON.parse(benchReportStreamJson(report)).type // 'report'
 */
export function benchReportStreamJson(r: BenchReport): string {
  return toJson({ type: 'report', ...r });
}

/**
 * The server's line for one session.
 * @example formatBenchSession(summary) // 'session 00…ab from 127.0.0.1:40000 finished: …'
 */
export function formatBenchSession(s: BenchSessionSummary): string {
  const from = formatHostPort(s.peer.address, s.peer.port);
  const counted = s.sent === undefined
    ? `received ${s.received} (sender's count unknown)`
    : `sent ${s.sent}, received ${s.received}, lost ${s.lost} (${pct(s.sent === 0 ? 0 : ((s.lost ?? 0) / s.sent) * 100)})`;
  return (
    `session ${s.id} from ${from} ${s.ended}: ${s.length}-byte datagrams over ${fixed(s.spanUs / 1e6, 2)} s, ${counted}, ` +
    `${quantity(s.duplicates, 'duplicate')}, ${s.outOfOrder} out of order, jitter ${fixed(s.jitterUs / 1000, 3)} ms, ` +
    `kernel drops ${s.kernelDrops ?? 'n/a'}` +
    (s.sentToClient === undefined ? '' : `; ${s.direction}: sent ${s.sentToClient} to the client`)
  );
}

/**
 * The server's session as one JSON object.
 * @example JSON.parse(benchSessionJson(summary)).received
 */
export function benchSessionJson(s: BenchSessionSummary): string {
  return toJson({ ...s, jitterMs: s.jitterUs / 1000 });
}

/**
 * The live line a client shows about once a second on a terminal.
 * @example formatBenchProgress(p) // '   1.0 s  sent 10001 (10001/s)  loss 0 (0.000%)'
 */
export function formatBenchProgress(p: BenchProgress): string {
  const loss = p.lost === undefined ? 'loss ?' : `loss ${p.lost} (${pct(p.lossPercent ?? 0)})`;
  return `${fixed(p.elapsedMs / 1000, 1).padStart(6)} s  sent ${p.sent} (${int(p.sentPerSecond)}/s)  ${loss}`;
}
