/** How `udpkit listen --tcp` shows messages and what its limits did. */
import type { TcpListenerStats, TcpMessage, TcpRefusal } from '../transport/tcp-listener.js';
import { ByteBuilder } from './byte-builder.js';
import { isoTime } from './datagram.js';
import { SenderParts, writeJsonLine, writeTextLine } from './line-bytes.js';
import { quantity } from './quantity.js';

/**
 * A size the way a user would type it in a flag, for notes that name a limit.
 * @example formatSize(16 * 1024 * 1024) // '16 MiB'
 */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes % n === 0) return `${bytes / n} ${unit}`;
  }
  return quantity(bytes, 'byte');
}

const lines = new ByteBuilder();
const senders = new SenderParts();

/**
 * Adds a message's textbook line to `out`, written as bytes (no string of a line that may be
 * 1 MiB long), escaped as a datagram's is.
 * @example writeTcpTextLine(out, message) // received message: hello from PORT 40000 on 127.0.0.1
 */
export function writeTcpTextLine(out: { chunk(data: string | Buffer): void }, m: TcpMessage): void {
  lines.begin();
  writeTextLine(lines, m.data, 0, m.data.length, m.port, senders.text(m.address), false);
  out.chunk(lines.end());
}

/**
 * A message's `--json` line, newline-terminated, as bytes: what `jsonLine` gives, for stdout
 * and `--log` alike.
 */
export function tcpJsonLine(m: TcpMessage): Buffer {
  lines.begin();
  writeJsonLine(lines, m.data, 0, m.data.length, senders.jsonHead(m.address, m.receivedAt, isoTime(m.receivedAt)), m.port, m.family, false);
  return lines.end();
}

const REFUSAL_WORDS: Readonly<Record<TcpRefusal, string>> = {
  'not-allowed': 'not allowed',
  'max-connections': 'connection limit',
  'not-sealed': 'not sealed',
  'frame-too-large': 'frame too large',
};

/** `(a 1, b 2)` for the non-zero counts, in the order given. */
function reasons(counts: ReadonlyArray<readonly [string, number]>): string {
  return counts.filter(([, n]) => n > 0).map(([name, n]) => `${name} ${n}`).join(', ');
}

/**
 * The line `listen --tcp` prints on exit: what was shown, and everything read or refused but
 * not shown, by reason (reasons only when their count is not 0).
 * @example formatTcpSummary(2, 19, listener.stats, { messages: 0, bytes: 0 }, false)
 * // 'received 2 messages, 19 bytes; connections 1'
 */
export function formatTcpSummary(received: number, bytes: number, stats: TcpListenerStats, afterStop: { messages: number; bytes: number }, showRefused: boolean): string {
  let line = `received ${quantity(received, 'message')}, ${quantity(bytes, 'byte')}; connections ${stats.connections}`;
  if (showRefused || stats.refused > 0) {
    line += `; refused ${stats.refused}`;
    if (stats.refused > 0) line += ` (${reasons(Object.entries(stats.refusedBy).map(([r, n]) => [REFUSAL_WORDS[r as TcpRefusal], n]))})`;
  }
  if (stats.idleClosed > 0) line += `; closed idle ${stats.idleClosed}`;
  const cut = stats.cut['line-limit'] + stats.cut['buffer-limit'];
  if (cut > 0) line += `; cut ${quantity(cut, 'line')} (${reasons([['line limit', stats.cut['line-limit']], ['buffer limit', stats.cut['buffer-limit']]])}), ${quantity(stats.discardedBytes, 'byte')} not shown`;
  if (afterStop.messages > 0) line += `; after stop ${quantity(afterStop.messages, 'message')}, ${quantity(afterStop.bytes, 'byte')} not shown`;
  return line;
}
