/**
 * The page's listeners and what they receive: library listeners feeding one bounded
 * {@link EventLog}, and subscribers (the event streams) told of each new entry.
 */
import { listen, type Listener } from '../transport/listener.js';
import type { Datagram } from '../types.js';
import { EventLog, type EventLogOptions, type LogEntry } from './event-log.js';

/** A listener as the API describes it. */
export interface ListenerInfo {
  readonly id: number;
  readonly port: number;
  readonly address: string;
}

/** A listener with its counters, for `GET /api/listeners`. */
export interface ListenerReport extends ListenerInfo {
  /** Datagrams it handed to the log. */
  readonly received: number;
  /** Datagrams the kernel dropped because the socket's buffer was full; null where unknown. */
  readonly kernelDropped: number | null;
}

/** Owns the page's listeners and their log; close() stops them all. */
export class Hub {
  readonly log: EventLog;
  readonly #listeners = new Map<number, { info: ListenerInfo; listener: Listener; received: number }>();
  readonly #subscribers = new Set<(e: LogEntry) => void>();
  #nextListener = 1;

  constructor(options: EventLogOptions = {}) {
    this.log = new EventLog(options);
  }

  /** Starts a listener on `port` (0: any) and `address` (default every address). */
  async start(port: number, address?: string): Promise<ListenerInfo> {
    const listener = await listen({ port, ...(address !== undefined ? { address } : {}) });
    const bound = listener.address();
    const info: ListenerInfo = { id: this.#nextListener++, port: bound.port, address: bound.address };
    const entry = { info, listener, received: 0 };
    listener.on('datagram', (d: Datagram) => {
      entry.received++;
      this.#publish(info, d);
    });
    listener.on('error', () => void this.stop(info.id));
    this.#listeners.set(info.id, entry);
    return info;
  }

  /** Stops listener `id`; false when there is none. */
  async stop(id: number): Promise<boolean> {
    const entry = this.#listeners.get(id);
    if (!entry) return false;
    this.#listeners.delete(id);
    await entry.listener.close();
    return true;
  }

  /** The running listeners. */
  list(): ListenerInfo[] {
    return [...this.#listeners.values()].map((e) => e.info);
  }

  /** The running listeners with what each received and what the kernel dropped for it. */
  async report(): Promise<ListenerReport[]> {
    return Promise.all(
      [...this.#listeners.values()].map(async (e) => ({ ...e.info, received: e.received, kernelDropped: (await e.listener.kernelDrops()) ?? null })),
    );
  }

  /** Calls `fn` for each new log entry until the returned function is called. */
  subscribe(fn: (e: LogEntry) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  /** Stops every listener. */
  async close(): Promise<void> {
    this.#subscribers.clear();
    await Promise.all([...this.#listeners.keys()].map((id) => this.stop(id)));
  }

  #publish(info: ListenerInfo, d: Datagram): void {
    const from = { address: d.from.address, port: d.from.port, family: d.from.family };
    const e = this.log.add({ listenerId: info.id, port: info.port, receivedAt: d.receivedAt, from, data: d.data });
    for (const fn of this.#subscribers) fn(e);
  }
}
