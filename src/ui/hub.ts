/**
 * The page's listeners and what they receive: library listeners, a ring of the last datagrams,
 * and subscribers (the SSE streams) told of each new one.
 */
import { sanitizeBytes } from '../format/sanitize.js';
import { listen, type Listener } from '../socket/receiver.js';
import type { Datagram } from '../types.js';

/** One datagram as the page sees it. */
export interface DatagramEvent {
  readonly id: number;
  readonly listenerId: number;
  /** The port of the listener that received it. */
  readonly port: number;
  readonly time: string;
  readonly from: { readonly address: string; readonly port: number; readonly family: string };
  readonly size: number;
  /** The payload with control characters made visible (see sanitizeBytes). */
  readonly text: string;
  readonly hex: string;
}

/** A listener as the API describes it. */
export interface ListenerInfo {
  readonly id: number;
  readonly port: number;
  readonly address: string;
}

/** Datagrams kept for a page that connects late. */
export const RING_SIZE = 10_000;

/** Owns the page's listeners; close() stops them all. */
export class Hub {
  readonly #listeners = new Map<number, { info: ListenerInfo; listener: Listener }>();
  readonly #ring: DatagramEvent[] = [];
  readonly #subscribers = new Set<(e: DatagramEvent) => void>();
  #nextListener = 1;
  #nextDatagram = 1;

  /** Starts a listener on `port` (0: any) and `address` (default every address). */
  async start(port: number, address?: string): Promise<ListenerInfo> {
    const listener = await listen({ port, ...(address !== undefined ? { address } : {}) });
    const bound = listener.address();
    const info: ListenerInfo = { id: this.#nextListener++, port: bound.port, address: bound.address };
    listener.on('datagram', (d: Datagram) => this.#publish(info, d));
    listener.on('error', () => void this.stop(info.id));
    this.#listeners.set(info.id, { info, listener });
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

  /** The datagrams kept, oldest first. */
  recent(): readonly DatagramEvent[] {
    return this.#ring;
  }

  /** Calls `fn` for each new datagram until the returned function is called. */
  subscribe(fn: (e: DatagramEvent) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  /** Stops every listener. */
  async close(): Promise<void> {
    await Promise.all([...this.#listeners.keys()].map((id) => this.stop(id)));
    this.#subscribers.clear();
  }

  #publish(info: ListenerInfo, d: Datagram): void {
    const e: DatagramEvent = {
      id: this.#nextDatagram++,
      listenerId: info.id,
      port: info.port,
      time: new Date(d.receivedAt).toISOString(),
      from: { address: d.from.address, port: d.from.port, family: d.from.family },
      size: d.data.length,
      text: sanitizeBytes(d.data),
      hex: d.data.toString('hex'),
    };
    this.#ring.push(e);
    if (this.#ring.length > RING_SIZE) this.#ring.splice(0, this.#ring.length - RING_SIZE);
    for (const fn of this.#subscribers) fn(e);
  }
}
