/**
 * `GET /api/log/export`: the log as JSON lines with whole payloads. Lines are built one at a
 * time from the raw bytes as the client takes them (waiting for `drain`), so exporting a full
 * log costs one line of memory, and entries evicted meanwhile are skipped, not held.
 */
import type { ServerResponse } from 'node:http';
import type { EventLog } from './event-log.js';
import { displayText, exportLine } from './log-entry.js';

/** Which entries to export. */
export interface ExportQuery {
  /** Only entries with a larger id (the page's last Clear); default 0. */
  readonly after?: number;
  /** Only entries up to this id; default the newest when the export starts. */
  readonly through?: number;
  /** Only entries whose shown text or source contains this, ignoring case (the page's filter). */
  readonly filter?: string;
}

/** The text a filter is matched against, as the page does: the source, then the shown payload. */
function matches(filter: string, e: { from: { address: string; port: number }; data: Buffer }): boolean {
  if (filter === '') return true;
  const a = e.from.address;
  const source = a.includes(':') ? `[${a}]:${e.from.port}` : `${a}:${e.from.port}`;
  return source.toLowerCase().includes(filter) || displayText(e.data).toLowerCase().includes(filter);
}

/**
 * Writes the export to `res` and ends it.
 * @example streamExport(hub.log, c.env.outgoing, { after: 0, filter: 'ping' })
 */
export function streamExport(log: EventLog, res: ServerResponse, query: ExportQuery): void {
  const filter = (query.filter ?? '').trim().toLowerCase();
  const last = Math.min(query.through ?? log.newestId, log.newestId);
  let id = (query.after ?? 0) + 1;
  res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'content-disposition': 'attachment; filename="udpkit-log.jsonl"',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  const step = (): void => {
    while (id <= last) {
      if (res.destroyed) return;
      id = Math.max(id, log.oldestId);
      const e = log.get(id++);
      if (!e || !matches(filter, e)) continue;
      if (!res.write(exportLine(e))) {
        res.once('drain', step);
        return;
      }
    }
    res.end();
  };
  step();
}
