/**
 * `GET /api/log/export`: the log as JSON lines with whole payloads, or (`format=pcapng`) as a
 * capture Wireshark and tcpdump open (see src/protocol/capture-write.ts). Lines are built one at a
 * time from the raw bytes as the client takes them (waiting for `drain`), so an export costs one
 * line of memory (up to about 400 KB for 64 KiB that is not text) however large the log, and
 * entries evicted meanwhile are skipped, not held. At most {@link MAX_EXPORTS} run at once.
 */
import type { ServerResponse } from 'node:http';
import type { EventLog } from './event-log.js';
import { displayText, exportLine, type LoggedDatagram } from './log-entry.js';
import { CaptureEncoder } from '../protocol/capture-write.js';

/** Exports running at once at most; more are answered 503. */
export const MAX_EXPORTS = 4;

/** Which entries to export. */
export interface ExportQuery {
  /** Only entries with a larger id (the page's last Clear); default 0. */
  readonly after?: number;
  /** Only entries up to this id; default the newest when the export starts. */
  readonly through?: number;
  /** Only entries whose shown text or source contains this, ignoring case (the page's filter). */
  readonly filter?: string;
  /** `jsonl` (default) or `pcapng`. */
  readonly format?: 'jsonl' | 'pcapng';
}

/**
 * A logged datagram as one pcapng packet. The log keeps the listener's port, not the address it
 * was bound to, so the destination is the unspecified address of the sender's family.
 */
function capturePacket(encoder: CaptureEncoder, d: LoggedDatagram): Buffer | undefined {
  const to = { address: d.from.family === 'IPv4' ? '0.0.0.0' : '::', port: d.port };
  return encoder.encodeDatagram(d.data, d.from, to, d.receivedAt);
}

/** The text a filter is matched against, as the page does: the source, then the shown payload. */
function matches(filter: string, e: { from: { address: string; port: number }; data: Buffer }): boolean {
  if (filter === '') return true;
  const a = e.from.address;
  const source = a.includes(':') ? `[${a}]:${e.from.port}` : `${a}:${e.from.port}`;
  return source.toLowerCase().includes(filter) || displayText(e.data).toLowerCase().includes(filter);
}

/**
 * Runs exports, at most `max` at once (each holds a line and a socket buffer until its client
 * reads them, so a client that never reads must not be able to start many).
 * @example
 * if (!exports.hasRoom()) return c.json({ error: 'too many exports' }, 503);
 * exports.start(c.env.outgoing, { after: 0 });
 */
export class LogExports {
  readonly #log: EventLog;
  readonly max: number;
  #open = 0;

  constructor(log: EventLog, max = MAX_EXPORTS) {
    this.#log = log;
    this.max = max;
  }

  /** Exports running now. */
  get open(): number {
    return this.#open;
  }

  /** Whether one more export may start. */
  hasRoom(): boolean {
    return this.#open < this.max;
  }

  /** Streams the export to `res`; its place is freed when the response closes. */
  start(res: ServerResponse, query: ExportQuery): void {
    this.#open++;
    res.once('close', () => this.#open--);
    streamExport(this.#log, res, query);
  }
}

/**
 * Writes the export to `res` and ends it.
 * @example streamExport(hub.log, c.env.outgoing, { after: 0, filter: 'ping' })
 */
export function streamExport(log: EventLog, res: ServerResponse, query: ExportQuery): void {
  const filter = (query.filter ?? '').trim().toLowerCase();
  const last = Math.min(query.through ?? log.newestId, log.newestId);
  let id = (query.after ?? 0) + 1;
  const encoder = query.format === 'pcapng' ? new CaptureEncoder({ format: 'pcapng' }) : undefined;
  res.writeHead(200, {
    'content-type': encoder ? 'application/vnd.tcpdump.pcap' : 'application/x-ndjson; charset=utf-8',
    'content-disposition': `attachment; filename="udpkit-log.${encoder ? 'pcapng' : 'jsonl'}"`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  if (encoder) res.write(encoder.header());
  const step = (): void => {
    while (id <= last) {
      if (res.destroyed) return;
      id = Math.max(id, log.oldestId);
      const e = log.get(id++);
      if (!e || !matches(filter, e)) continue;
      const chunk = encoder ? capturePacket(encoder, e) : exportLine(e);
      if (chunk !== undefined && !res.write(chunk)) {
        res.once('drain', step);
        return;
      }
    }
    res.end();
  };
  step();
}
