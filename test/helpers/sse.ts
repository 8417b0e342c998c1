/** Server-sent event clients for the UI tests: one that reads and parses, one that never reads. */
import { connect, type Socket } from 'node:net';

/** One parsed event. */
export interface SseEvent {
  readonly event: string;
  readonly id?: string;
  readonly data: string;
}

/** A stream being read; `events` grows as they arrive. */
export interface SseReader {
  readonly status: number;
  readonly events: SseEvent[];
  /** Resolves with the first event (from the start) for which `pick` is true; rejects after `ms`. */
  until(pick: (e: SseEvent, all: readonly SseEvent[]) => boolean, ms?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

/** Splits a text/event-stream body into events (comments and `retry` lines ignored). */
export function parseEvents(text: string): { events: SseEvent[]; rest: string } {
  const blocks = text.split('\n\n');
  const rest = blocks.pop() ?? '';
  const events: SseEvent[] = [];
  for (const block of blocks) {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) events.push({ event, data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
  }
  return { events, rest };
}

/** Opens `url` as an event stream with fetch and parses it as it comes. */
export async function readEvents(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let failure: unknown;
  const ended = (async () => {
    if (!res.body) return;
    let buffered = '';
    try {
      for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
        const parsed = parseEvents(buffered + chunk);
        buffered = parsed.rest;
        events.push(...parsed.events);
        for (const w of [...waiters]) w();
      }
    } catch (err) {
      failure = err;
    } finally {
      for (const w of [...waiters]) w();
    }
  })();
  let done = false;
  void ended.then(() => (done = true));
  return {
    status: res.status,
    events,
    ended,
    until(pick, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.find((e) => pick(e, events));
          if (found) finish(() => resolve(found));
          else if (done || failure !== undefined) finish(() => reject(new Error(`stream ended without the event (${events.length} events)`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no such event within ${ms} ms (${events.length} events)`))), ms);
        const finish = (f: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      controller.abort();
      await ended;
    },
  };
}

/**
 * A client that sends the GET for an event stream over raw TCP and then reads nothing (a frozen
 * tab): the server's writes pile up in the socket buffers until it gives up on it.
 */
export function stalledClient(port: number, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.pause();
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`, () => resolve(socket));
    });
    socket.once('error', reject);
  });
}

/** Reads everything a (stalled) socket has left and resolves with it once the peer has closed. */
export function drain(socket: Socket, ms = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`the socket was not closed within ${ms} ms`)), ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.resume();
  });
}

/**
 * The body of a raw chunked HTTP response (headers cut off), up to where it was cut: a server
 * that closes a stream mid-chunk leaves a prefix, which is what a test wants to look at.
 */
export function dechunk(raw: Buffer): Buffer {
  let at = raw.indexOf('\r\n\r\n');
  if (at < 0) return Buffer.alloc(0);
  at += 4;
  const parts: Buffer[] = [];
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(raw.toString('latin1', at, eol), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(raw.subarray(eol + 2, Math.min(eol + 2 + size, raw.length)));
    at = eol + 2 + size + 2;
    if (at > raw.length) break;
  }
  return Buffer.concat(parts);
}
