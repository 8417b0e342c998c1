/**
 * The live log's server-sent event streams. Each stream is a cursor into the {@link EventLog}:
 * it is written the log's own event bytes (built once, shared by every stream) until its socket
 * buffer is full, then waits for `drain`. So a slow stream holds one socket buffer of events, not
 * a queue of its own. A stream that stays full while {@link STREAM_MAX_BACKLOG} bytes of new
 * events arrive, or through a whole keep-alive round, is dropped: the browser's EventSource
 * reconnects with `Last-Event-ID` and carries on from the log, told by a `missed` event how many
 * were let go meanwhile.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventLog } from './event-log.js';

/** Streams open at once at most; more are answered 503. */
export const MAX_STREAMS = 32;
/** Bytes of new events a stream may fall behind while its socket takes nothing: 1 MiB. */
export const STREAM_MAX_BACKLOG = 1024 * 1024;
/** How often an idle stream gets a comment, so proxies and browsers keep it open. */
const KEEP_ALIVE_MS = 15_000;
/** How soon the browser reconnects after a drop (the SSE `retry` field). */
const RETRY_MS = 1000;

/** Options of {@link EventStreams}. */
export interface EventStreamsOptions {
  /** Default {@link MAX_STREAMS}. */
  readonly maxStreams?: number;
  /** Default {@link STREAM_MAX_BACKLOG}. */
  readonly maxBacklog?: number;
}

/** Stream counters for the API. */
export interface StreamStats {
  readonly open: number;
  readonly max: number;
  /** Streams closed because they fell behind. */
  readonly dropped: number;
  /** Streams refused because {@link max} were open. */
  readonly refused: number;
}

interface Client {
  readonly res: ServerResponse;
  /** The id of the last datagram written (or known missed). */
  cursor: number;
  /** Waiting for `drain`. */
  full: boolean;
  /** Bytes of events added since it became full. */
  backlog: number;
  /** Keep-alive rounds it has been full through. */
  stalledRounds: number;
}

const MISSED = (count: number, next: number): string => `event: missed\ndata: {"count":${count},"next":${next}}\n\n`;

/**
 * Every open stream. Call {@link notify} after each {@link EventLog.add}.
 * @example
 * if (!streams.hasRoom()) return c.json({ error: 'too many event streams' }, 503);
 * streams.open(req, res);
 */
export class EventStreams {
  readonly #log: EventLog;
  readonly #clients = new Set<Client>();
  readonly #max: number;
  readonly #maxBacklog: number;
  #dropped = 0;
  #refused = 0;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(log: EventLog, options: EventStreamsOptions = {}) {
    this.#log = log;
    this.#max = options.maxStreams ?? MAX_STREAMS;
    this.#maxBacklog = options.maxBacklog ?? STREAM_MAX_BACKLOG;
  }

  /** Whether one more stream may open; counts a refusal when not. */
  hasRoom(): boolean {
    if (this.#clients.size < this.#max) return true;
    this.#refused++;
    return false;
  }

  /**
   * Starts a stream on `res`: the log from after the request's `Last-Event-ID` (from the start
   * without one), then each new datagram. Check {@link hasRoom} first.
   */
  open(req: IncomingMessage, res: ServerResponse): void {
    const cursor = resumeFrom(req.headers['last-event-id'], this.#log.newestId);
    const client: Client = { res, cursor, full: false, backlog: 0, stalledRounds: 0 };
    this.#clients.add(client);
    res.on('close', () => this.#forget(client));
    res.on('drain', () => {
      client.full = false;
      client.backlog = 0;
      client.stalledRounds = 0;
      this.#pump(client);
    });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    const s = this.#log.stats();
    res.write(`retry: ${RETRY_MS}\nevent: ready\ndata: ${JSON.stringify({ resumed: cursor > 0, oldestId: s.oldestId, newestId: s.newestId, evicted: s.evicted })}\n\n`);
    this.#keepAlive ??= setInterval(() => this.#ping(), KEEP_ALIVE_MS).unref();
    this.#pump(client);
  }

  /** Tells every stream that the log grew by an entry whose event is `bytes` long. */
  notify(bytes: number): void {
    for (const c of this.#clients) {
      if (!c.full) this.#pump(c);
      else if ((c.backlog += bytes) > this.#maxBacklog) this.#drop(c);
    }
  }

  /** Counters for the API. */
  stats(): StreamStats {
    return { open: this.#clients.size, max: this.#max, dropped: this.#dropped, refused: this.#refused };
  }

  /** Ends every stream at once (the server is stopping): nothing waits for a slow reader. */
  closeAll(): void {
    for (const c of [...this.#clients]) c.res.destroy();
    this.#clients.clear();
    this.#stopKeepAlive();
  }

  /** Writes what the client has not had yet, until its socket buffer is full. */
  #pump(c: Client): void {
    const log = this.#log;
    while (c.cursor < log.newestId && !c.full && this.#clients.has(c)) {
      const next = c.cursor + 1;
      if (next < log.oldestId) {
        c.cursor = log.oldestId - 1;
        c.full = !c.res.write(MISSED(log.oldestId - next, log.oldestId));
        continue;
      }
      const entry = log.get(next);
      c.cursor = next;
      if (entry) c.full = !c.res.write(entry.event);
    }
  }

  #drop(c: Client): void {
    this.#dropped++;
    this.#forget(c);
    c.res.destroy();
  }

  #forget(c: Client): void {
    this.#clients.delete(c);
    if (this.#clients.size === 0) this.#stopKeepAlive();
  }

  /** Keeps idle streams open, and drops one that took nothing for a whole round (a frozen tab, quiet network). */
  #ping(): void {
    for (const c of [...this.#clients]) {
      if (!c.full) c.full = !c.res.write(': keep-alive\n\n');
      else if (++c.stalledRounds > 1) this.#drop(c);
    }
  }

  #stopKeepAlive(): void {
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }
}

/** The id to resume after: `Last-Event-ID` when it names one this log has issued, else 0 (from the start). */
function resumeFrom(header: string | string[] | undefined, newestId: number): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return 0;
  const id = Number(value.trim());
  return id <= newestId ? id : 0;
}
