/**
 * The bench server: runs the sans-I/O {@link BenchSessions} over a bound socket and one
 * timer. Answers START, RESULT and ECHO requests of any number of `udpkit bench` clients and
 * counts their test traffic (docs/protocol.md, "Bench frames").
 */
import { EventEmitter } from 'node:events';
import { answerEchoInPlace } from '../protocol/bench-frames.js';
import { BenchSessions, type BenchSessionSummary, type BenchStep } from '../protocol/bench-sessions.js';
import type { ReceiveBackend } from '../socket/backend.js';
import type { DatagramBatch } from '../socket/batch.js';
import { openBackend } from '../socket/open-backend.js';
import { DEFAULT_RECEIVE_BUFFER, type BoundAddress } from './listener.js';
import type { SocketState } from '../types.js';
import { validateInteger, validatePort } from '../validate.js';
import { milliseconds } from './clock.js';
import { CloseOnce } from './close-once.js';
import { SILENT_STOP_MS, ServerSendLoop } from './bench-server-traffic.js';

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
  /** Sessions at once; more clients are told the server is busy. Default 128. */
  readonly maxSessions?: number;
  /** A session whose client is silent this long is dropped (and reported expired); default 10 s. */
  readonly idleTimeoutMs?: number;
  /** SO_RCVBUF to ask for; default the listener's (8 MB). */
  readonly receiveBufferSize?: number;
  /** Closes the server when aborted. */
  readonly signal?: AbortSignal;
}

/** What a reply's completion is given when nothing waits for it: replies are best effort. */
const ignore = (): void => undefined;

/**
 * A running bench server. Emits `'session'` with a {@link BenchSessionSummary} when a session
 * finishes or expires, and `'error'` when receiving fails.
 */
export class BenchServer extends EventEmitter {
  readonly #backend: ReceiveBackend;
  readonly #sessions: BenchSessions;
  #state: SocketState = 'bound';
  readonly #closer = new CloseOnce();
  #timer: NodeJS.Timeout | undefined;
  /** Aborts the server's own traffic (reverse sessions) when it closes. */
  readonly #sending = new AbortController();
  readonly #sendLoop: ServerSendLoop;

  /** @internal use {@link benchServer} */
  constructor(backend: ReceiveBackend, sessions: BenchSessions) {
    super();
    this.#backend = backend;
    this.#sessions = sessions;
    this.#sendLoop = new ServerSendLoop(backend, this.#sending.signal);
    // The socket itself, not a Listener: batches with no object and no copy per datagram, and
    // replies with no promise each, so that an echo costs the server little besides the socket.
    backend.start(
      (batch) => this.#onBatch(batch),
      (err) => this.emit('error', err),
    );
  }

  /** The address and port the server is bound to. */
  address(): BoundAddress {
    return { ...this.#backend.address(), dualStack: this.#backend.dualStack };
  }

  /** `'bound'` while serving, then `'closing'` and `'closed'`. */
  get state(): SocketState {
    return this.#state;
  }

  /** Sessions held now (running, or finished and waiting to be forgotten). */
  get sessions(): number {
    return this.#sessions.size;
  }

  #onBatch(batch: DatagramBatch): void {
    if (this.#state !== 'bound') return;
    // One reading for the batch: its datagrams were read together, microseconds apart.
    const now = milliseconds();
    for (let i = 0; i < batch.count; i++) {
      const start = batch.starts[i] as number;
      const length = batch.lengths[i] as number;
      const s = batch.senders[i] as number;
      const port = batch.ports[i] as number;
      // Test traffic of the running session is counted where it lies, with no object each.
      if (this.#sessions.takeData(batch.data, start, length, batch.addresses[s] as string, port, now)) continue;
      const payload = batch.data.subarray(start, start + length);
      // An echo is answered from the batch itself (the backend copies what has to wait): it
      // needs no session, and its round trip counts every step taken here.
      if (answerEchoInPlace(payload)) {
        this.#reply(payload, port, batch.replyAddresses[s] as string, ignore);
        continue;
      }
      // The payload is a view of the batch: handle() keeps nothing of it.
      const step = this.#sessions.handleDatagram(payload, { address: batch.addresses[s] as string, port }, now);
      if (step.kind !== 'none') this.#take(step, port, batch.replyAddresses[s] as string);
    }
  }

  /** `address` as the socket gave it (`::ffff:a.b.c.d` for IPv4 on a dual-stack socket). */
  #take(step: Exclude<BenchStep, { kind: 'none' }>, port: number, address: string): void {
    switch (step.kind) {
      case 'reply':
        this.#reply(step.data, port, address, ignore);
        return;
      case 'started':
        this.#reply(step.data, port, address, ignore);
        void this.#drops().then((n) => this.#sessions.noteStartDrops(step.session, n));
        this.#schedule();
        return;
      case 'send':
        this.#reply(step.data, port, address, ignore);
        if (this.#state !== 'bound') return;
        this.#sendLoop.add({
          session: step.session,
          port,
          address,
          length: step.length,
          durationMs: step.durationMs,
          rate: step.rate,
          alive: () => this.#sessions.heardWithin(step.session, SILENT_STOP_MS, milliseconds()),
          progress: (sent, done) => this.#sessions.noteSent(step.session, sent, done),
        });
        return;
      case 'finishing':
        void this.#drops().then((n) => {
          const done = this.#sessions.finish(step.session, n);
          // Reported once the RESULT is out, so a listener may close the server right away.
          if (done !== undefined) this.#reply(done.data, port, address, () => this.emit('session', done.summary));
        });
    }
  }

  /** Best effort, like the protocol: the client asks again if a reply is lost. */
  #reply(data: Buffer, port: number, address: string, then: () => void): void {
    if (this.#state === 'bound') this.#backend.send(data, port, address, then);
  }

  #drops(): Promise<number | undefined> {
    return this.#state === 'bound' ? this.#backend.kernelDrops().catch(() => undefined) : Promise.resolve(undefined);
  }

  /** One timer, armed for the earliest moment a session may go idle. */
  #schedule(): void {
    clearTimeout(this.#timer);
    const deadline = this.#sessions.nextDeadline();
    if (deadline === undefined || this.#state !== 'bound') return;
    this.#timer = setTimeout(() => {
      for (const summary of this.#sessions.handleTimeout(milliseconds())) this.emit('session', summary);
      this.#schedule();
    }, Math.max(0, deadline - milliseconds()) + 1);
    this.#timer.unref();
  }

  /** Stops serving and closes the socket. Sessions still running are not reported. Safe to call twice. */
  close(): Promise<void> {
    return this.#closer.run(async () => {
      this.#state = 'closing';
      this.#sending.abort();
      clearTimeout(this.#timer);
      await this.#backend.close();
      this.#state = 'closed';
    });
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
  const port = validatePort(options.port ?? DEFAULT_BENCH_PORT, { allowZero: true });
  const maxSessions = validateInteger(options.maxSessions ?? 128, { name: 'maxSessions', min: 1, max: 65_536 });
  const idleTimeoutMs = validateInteger(options.idleTimeoutMs ?? 10_000, { name: 'idleTimeoutMs', min: 1, max: 86_400_000 });
  const backend = await openBackend({ port, family: options.family ?? 0, ...(options.address !== undefined ? { address: options.address } : {}) });
  try {
    backend.setReceiveBufferSize(options.receiveBufferSize ?? DEFAULT_RECEIVE_BUFFER);
  } catch {
    // The kernel keeps its default; the server still works.
  }
  const server = new BenchServer(backend, new BenchSessions({ maxSessions, idleTimeoutMs }));
  const signal = options.signal;
  if (signal?.aborted) await server.close();
  else signal?.addEventListener('abort', () => void server.close(), { once: true });
  return server;
}
