/**
 * How one logged datagram is shown: the live event carries at most {@link DISPLAY_BYTES} of the
 * payload (as escaped text and as hex), so a flood of 64 KiB datagrams costs the server, the
 * streams and the page kilobytes per datagram, not hundreds; the export line carries it all.
 */
import { sanitizeBytes } from '../format/sanitize.js';
import type { Endpoint } from '../types.js';

/** Payload bytes shown in the live log; the export has the rest. */
export const DISPLAY_BYTES = 1024;

/** Upper bound on what {@link datagramEvent} adds around the JSON (SSE fields, id, count). */
export const EVENT_FRAMING = 96;

/** What the shown and exported forms are made of. */
export interface LoggedDatagram {
  readonly listenerId: number;
  readonly port: number;
  readonly receivedAt: number;
  readonly from: Endpoint;
  readonly data: Buffer;
}

const fromJson = (from: Endpoint): object => ({ address: from.address, port: from.port, family: from.family });

/** The first {@link DISPLAY_BYTES} of the payload as one line of safe text (what the page filters on). */
export function displayText(data: Buffer): string {
  return sanitizeBytes(data, 0, Math.min(data.length, DISPLAY_BYTES));
}

/**
 * The page's JSON for a datagram, without its id and eviction count (added when framed), so it
 * is built once per datagram whatever the log does next.
 */
export function displayJson(d: LoggedDatagram): string {
  const shown = Math.min(d.data.length, DISPLAY_BYTES);
  return JSON.stringify({
    listenerId: d.listenerId,
    port: d.port,
    time: new Date(d.receivedAt).toISOString(),
    from: fromJson(d.from),
    size: d.data.length,
    text: displayText(d.data),
    hex: d.data.toString('hex', 0, shown),
    truncated: shown < d.data.length,
  });
}

/**
 * The server-sent event for datagram `id`, as bytes every stream writes unchanged. `evicted`
 * tells the page how many older datagrams the log has let go so far.
 */
export function datagramEvent(id: number, evicted: number, json: string): Buffer {
  return Buffer.from(`id: ${id}\nevent: datagram\ndata: {"id":${id},"evicted":${evicted},${json.slice(1)}\n\n`);
}

/** One line of the export (JSON lines): the whole payload as escaped text and as hex. */
export function exportLine(d: LoggedDatagram & { readonly id: number }): string {
  return (
    JSON.stringify({
      id: d.id,
      listenerId: d.listenerId,
      port: d.port,
      time: new Date(d.receivedAt).toISOString(),
      from: fromJson(d.from),
      size: d.data.length,
      text: sanitizeBytes(d.data),
      hex: d.data.toString('hex'),
    }) + '\n'
  );
}
