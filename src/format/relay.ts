/** How `udpkit relay` shows what it does: a line for people, one JSON object for machines. */
import type { ImpairmentSettings } from '../protocol/impairment-options.js';
import type { RelayDirectionStats, RelayStats, TraceEntry } from '../transport/relay.js';
import type { LossModel } from '../protocol/impairment-loss.js';
import type { BottleneckSettings } from '../protocol/impairment-bottleneck.js';

const percent = (rate: number): string => `${+(rate * 100).toFixed(3)}%`;

/**
 * The impairments in a few words, for the start-up line.
 * @example describeImpairment(validateImpairment({ loss: 0.5, delayMs: 20, jitterMs: 5 }))
 * // 'loss 50%, delay 20±5 ms'
 */
export function describeImpairment(s: ImpairmentSettings): string {
  const parts: string[] = [];
  const loss = describeLoss(s.lossModel, s.loss);
  if (loss !== undefined) parts.push(loss);
  if (s.corrupt > 0) parts.push(`corrupt ${percent(s.corrupt)}`);
  if (s.duplicate > 0) parts.push(`dup ${percent(s.duplicate)}`);
  if (s.reorder > 0) parts.push(`reorder ${percent(s.reorder)}${s.delayMs > 0 && s.reorderGap > 1 ? ` gap ${s.reorderGap}` : ''}`);
  if (s.delayMs > 0 || s.jitterMs > 0) parts.push(`delay ${s.delayMs}${s.jitterMs > 0 ? `±${s.jitterMs}` : ''} ms`);
  if (s.rate > 0) parts.push(`rate ${s.rate}/s (burst ${s.burst})`);
  if (s.bottleneck !== undefined) parts.push(describeBottleneck(s.bottleneck));
  if (s.mtu !== undefined) parts.push(`mtu ${s.mtu}`);
  if (parts.length === 0) return 'no impairment';
  return parts.join(', ') + (s.only === undefined ? '' : ` (${s.only} only)`);
}

function describeLoss(m: LossModel, loss: number): string | undefined {
  if (m.kind === 'bernoulli') return m.p > 0 ? `loss ${percent(m.p)}` : undefined;
  if (m.kind === 'correlated') return `loss ${percent(m.p)} correlated ${percent(m.correlation)}`;
  const burst = m.oneMinusH === 1 && m.oneMinusK === 0 && m.r > 0 ? ` in bursts of ${+(1 / m.r).toFixed(3)}` : '';
  return `loss ${percent(loss)}${burst} (gemodel p ${percent(m.p)}, r ${percent(m.r)}, 1-h ${percent(m.oneMinusH)}, 1-k ${percent(m.oneMinusK)})`;
}

/** Bits per second the way tc writes them: 10Mbit, 500kbit. */
function bits(rate: number): string {
  for (const [unit, size] of [['Gbit', 1e9], ['Mbit', 1e6], ['kbit', 1e3]] as const) if (rate >= size && rate % (size / 1000) === 0) return `${rate / size}${unit}`;
  return `${rate}bit`;
}

function describeBottleneck(b: BottleneckSettings): string {
  const limits = [b.limitPackets !== undefined ? `${b.limitPackets} datagrams` : undefined, b.limitBytes !== undefined ? `${b.limitBytes} bytes` : undefined].filter((x) => x !== undefined);
  return `rate ${b.unit === 'bits' ? bits(b.rate) : `${b.rate}/s`}, queue ${limits.join(' or ')}`;
}

function directionLine(name: string, d: RelayDirectionStats): string {
  let line = `${name}: received ${d.received}, forwarded ${d.forwarded}, dropped ${d.dropped}, duplicated ${d.duplicated}, reordered ${d.reordered}, rate-limited ${d.rateLimited}, queue full ${d.queueFull}`;
  if (d.corrupted > 0) line += `, corrupted ${d.corrupted}`;
  if (d.tailDropped > 0) line += `, tail-dropped ${d.tailDropped}`;
  if (d.tooBig > 0) line += `, too big ${d.tooBig}`;
  if (d.failed > 0) line += `, failed to send ${d.failed}`;
  if (d.refused > 0) line += `, refused ${d.refused} (not sealed with the key)`;
  return line;
}

/**
 * The summary printed on exit, one line; `kernel dropped` counts what clients sent that the
 * relay never read (its socket's buffer was full).
 * @example formatRelayStats(relay.stats)
 * // 'up: received 2000, forwarded 1600, dropped 400, ...; down: ...; clients 2; kernel dropped 0'
 */
export function formatRelayStats(s: RelayStats): string {
  return `${directionLine('up', s.up)}; ${directionLine('down', s.down)}; clients ${s.sessionsOpened}; kernel dropped ${s.kernelDropped ?? 'n/a'}`;
}

/**
 * The summary as one JSON object, with the seed that reproduces the run's decisions.
 * @example JSON.parse(relayStatsJson(relay.stats, relay.seed)).up.dropped // 400
 */
export function relayStatsJson(s: RelayStats, seed: number): string {
  return JSON.stringify({ ...s, seed });
}

/**
 * One `--trace` line: a datagram's arrival time (ms since the relay started), direction, payload
 * size, fate and planned delay (ms), as JSON. `fate` is the outcome; `duplicated`, `corrupted` and
 * `reordered` say what else happened to one forwarded.
 * @example traceLine(entry) // '{"t":1.25,"dir":"up","size":64,"fate":"lost",...}'
 */
export function traceLine(e: TraceEntry): string {
  return JSON.stringify({
    t: Math.round(e.timeMs * 1000) / 1000,
    dir: e.direction,
    size: e.size,
    fate: e.fate,
    duplicated: e.duplicated,
    corrupted: e.corrupted,
    reordered: e.reordered,
    delayMs: Math.round(e.delayMs * 1000) / 1000,
  });
}
