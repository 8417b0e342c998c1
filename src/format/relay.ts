/** How `udpkit relay` shows what it does: a line for people, one JSON object for machines. */
import type { ImpairmentSettings } from '../protocol/impairment-options.js';
import type { RelayDirectionStats, RelayStats } from '../transport/relay.js';

const percent = (rate: number): string => `${+(rate * 100).toFixed(3)}%`;

/**
 * The impairments in a few words, for the start-up line.
 * @example describeImpairment(validateImpairment({ loss: 0.5, delayMs: 20, jitterMs: 5 }))
 * // 'loss 50%, delay 20±5 ms'
 */
export function describeImpairment(s: ImpairmentSettings): string {
  const parts: string[] = [];
  if (s.loss > 0) parts.push(`loss ${percent(s.loss)}`);
  if (s.duplicate > 0) parts.push(`dup ${percent(s.duplicate)}`);
  if (s.reorder > 0) parts.push(`reorder ${percent(s.reorder)}`);
  if (s.delayMs > 0 || s.jitterMs > 0) parts.push(`delay ${s.delayMs}${s.jitterMs > 0 ? `±${s.jitterMs}` : ''} ms`);
  if (s.rate > 0) parts.push(`rate ${s.rate}/s (burst ${s.burst})`);
  if (parts.length === 0) return 'no impairment';
  return parts.join(', ') + (s.only === undefined ? '' : ` (${s.only} only)`);
}

function directionLine(name: string, d: RelayDirectionStats): string {
  let line = `${name}: received ${d.received}, forwarded ${d.forwarded}, dropped ${d.dropped}, duplicated ${d.duplicated}, reordered ${d.reordered}, rate-limited ${d.rateLimited}, queue full ${d.queueFull}`;
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
