/** How `udpkit bench` shows its reports: text for people, one JSON object for machines. */
import { formatHostPort } from '../errors.js';
import type { BenchReport } from '../protocol/bench-report.js';
import type { BenchSessionSummary } from '../protocol/bench-sessions.js';
import type { BenchProgress } from '../transport/bench-client.js';
import { quantity } from './quantity.js';

const int = (n: number): string => String(Math.round(n));
const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const pct = (n: number): string => `${fixed(n, 3)}%`;

/** JSON with `undefined` fields kept as `null`, so every report has the same keys. */
function toJson(value: object): string {
  return JSON.stringify(value, (_key, v: unknown) => (v === undefined ? null : v));
}

function lossLine(r: BenchReport): string {
  let line = `loss        ${r.lost} (${pct(r.lossPercent)})`;
  if (r.kernelDrops === undefined) line += '; server kernel drops: n/a';
  else if (r.lost > 0) line += `, of which the server's kernel dropped ${Math.min(r.kernelDrops, r.lost)} (receive buffer full)`;
  else line += `; server kernel drops: ${r.kernelDrops}`;
  if (r.late > 0) line += `; ${r.late} arrived too late to tell from duplicates, so loss may be off by that much`;
  return line;
}

/**
 * The client's report, several lines.
 * @example io.stdout.write(formatBenchReport(report))
 */
export function formatBenchReport(r: BenchReport): string {
  const rate = r.rate === 0 ? 'as fast as possible' : `${r.rate} datagrams/s`;
  const lines = [
    `bench to ${formatHostPort(r.server.address, r.server.port)}/udp, session ${r.session}: ${r.length}-byte datagrams for ${fixed(r.seconds, 2)} s, ${rate}${r.stopped ? ' (stopped early)' : ''}`,
    `sent        ${quantity(r.sent, 'datagram')}, ${int(r.sentPerSecond)}/s, ${fixed(r.sentMbps, 2)} Mbit/s`,
    `received    ${quantity(r.received, 'datagram')}, ${int(r.receivedPerSecond)}/s, ${fixed(r.receivedMbps, 2)} Mbit/s`,
    lossLine(r),
    `duplicates  ${r.duplicates}; out of order ${r.outOfOrder}`,
    `jitter      ${fixed(r.jitterMs, 3)} ms`,
  ];
  const rtt = r.rtt;
  if (rtt) {
    lines.push(
      `rtt         p50 ${int(rtt.p50Us)} µs, p90 ${int(rtt.p90Us)} µs, p99 ${int(rtt.p99Us)} µs, max ${int(rtt.maxUs)} µs (${quantity(rtt.echoes, 'echo', 'echoes')}, ${rtt.lost} lost)`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * The client's report as one JSON object (unknown values are `null`).
 * @example JSON.parse(benchReportJson(report)).lost // 0
 */
export function benchReportJson(r: BenchReport): string {
  return toJson(r);
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
    `kernel drops ${s.kernelDrops ?? 'n/a'}`
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
