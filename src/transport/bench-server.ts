/**
 * The bench server: runs the sans-I/O {@link BenchSessions} over a {@link Listener} and one
 * timer. Answers START, RESULT and ECHO requests of any number of `udpkit bench` clients and
 * counts their test traffic (docs/protocol.md, "Bench frames").
 */
import { EventEmitter } from 'node:events';
import { BenchSessions, type BenchSessionSummary } from '../protocol/bench-sessions.js';
import { listen, type BoundAddress, type Listener } from '../socket/receiver.js';
import type { Datagram, SocketState } from '../types.js';
import { validateInteger } from '../validate.js';
import { microseconds } from './clock.js';

/** The port `udpkit bench` uses unless told otherwise (iperf3's). */
export const DEFAULT_BENCH_PORT = 5201;

/** Options of {@link benchServer}. */
export interface BenchServerOptions {
  /** UDP port, 0 to let the OS choose; default 5201. */
  readonly port?: number;
  /** Address to bind; default every address (dual-stack). */
  readonly address?: string;
  /** 4 or 6 for one family only; 0 (default) for both. */
  readonly family?: 0 | 4 | 6;
  /** Sessions at once; more clients are told the server is busy. Default 64. */
  readonly maxSessions?: number;
  /** A session whose client is silent this long is dropped (and reported expired); default 10 s. */
  readonly idleTimeoutMs?: number;
  /** SO_RCVBUF to ask for; default the listener's (8 MB). */
  readonly receiveBufferSize?: number;
  /** Closes the server when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * A running bench server. Emits `'session'` with a {@link BenchSessionSummary} when a session
 * finishes or expires, and `'error'` when receiving fails.
 */
export class BenchServer extends EventEmitter {
  readonly #listener: Listener;
  readonly #sessions: BenchSessions;
  #timer: NodeJS.Timeout | undefined;

  /** @internal use {@link benchServer} */
  constructor(listener: Listener, sessions: BenchSessions) {
    super();
    this.#listener = listener;
    this.#sessions = sessions;
    listener.on('datagram', (d: Datagram) => this.#onDatagram(d));
    listener.on('error', (err: Error) => this.emit('error', err));
  }

  /** The address and port the server is bound to. */
  address(): BoundAddress {
    return this.#listener.address();
  }

  /** `'bound'` while serving, then `'closing'` and `'closed'`. */
  get state(): SocketState {
    return this.#listener.state;
  }

  /** Sessions held now (running, or finished and waiting to be forgotten). */
  get sessions(): number {
    return this.#sessions.size;
  }

  #onDatagram(d: Datagram): void {
    const step = this.#sessions.handle(d.data, d.from, microseconds());
    switch (step.kind) {
      case 'none':
        return;
      case 'reply':
        void this.#reply(d, step.data);
        return;
      case 'started':
        void this.#reply(d, step.data);
        void this.#drops().then((n) => this.#sessions.noteStartDrops(step.session, n));
        this.#schedule();
        return;
      case 'finishing':
        void this.#drops().then((n) => {
          const done = this.#sessions.finish(step.session, n);
          if (done === undefined) return;
          // Reported once the RESULT is out, so a listener may close the server right away.
          void this.#reply(d, done.data).then(() => this.emit('session', done.summary));
        });
    }
  }

  #reply(d: Datagram, data: Buffer): Promise<void> {
    // Best effort, like the protocol: the client asks again if a reply is lost.
    return this.#listener.reply(d, data).catch(() => undefined);
  }

  #drops(): Promise<number | undefined> {
    return this.#listener.kernelDrops().catch(() => undefined);
  }

  /** One timer, armed for the earliest moment a session may go idle. */
  #schedule(): void {
    clearTimeout(this.#timer);
    const deadline = this.#sessions.nextDeadline();
    if (deadline === undefined || this.#listener.state !== 'bound') return;
    this.#timer = setTimeout(() => {
      for (const summary of this.#sessions.expire(microseconds())) this.emit('session', summary);
      this.#schedule();
    }, Math.max(0, (deadline - microseconds()) / 1000) + 1);
    this.#timer.unref();
  }

  /** Stops serving and closes the socket. Sessions still running are not reported. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#listener.close();
  }
}

/**
 * Starts a bench server. Resolves once bound.
 * @example
 * const server = await benchServer({ port: 0 });
 * server.on('session', (s) => console.log(s.id, s.received, s.lost));
 * console.log(server.address().port);
 */
export async function benchServer(options: BenchServerOptions = {}): Promise<BenchServer> {
  const maxSessions = validateInteger(options.maxSessions ?? 64, { name: 'maxSessions', min: 1, max: 65_536 });
  const idleTimeoutMs = validateInteger(options.idleTimeoutMs ?? 10_000, { name: 'idleTimeoutMs', min: 1, max: 86_400_000 });
  const listener = await listen({
    port: options.port ?? DEFAULT_BENCH_PORT,
    family: options.family ?? 0,
    reliable: false,
    ...(options.address !== undefined ? { address: options.address } : {}),
    ...(options.receiveBufferSize !== undefined ? { receiveBufferSize: options.receiveBufferSize } : {}),
  });
  const server = new BenchServer(listener, new BenchSessions({ maxSessions, idleTimeoutUs: idleTimeoutMs * 1000 }));
  const signal = options.signal;
  if (signal?.aborted) await server.close();
  else signal?.addEventListener('abort', () => void server.close(), { once: true });
  return server;
}
