/**
 * The socket that {@link listen} (listener.ts) binds: one UDP socket handing out datagrams as
 * batches (the fast path), as `'datagram'` events and as an async iterable. Never connect()ed,
 * so any number of senders work. Datagrams pass an admission check first (source allow-list,
 * sealed frames with a key), then `--ack` frames are acknowledged and ordered.
 * Accounting: every datagram the socket reads is handed out (`stats.datagrams`) or refused with a
 * reason (`stats.refusedBy`), or is an `--ack` message still held behind a gap; after
 * {@link Listener.stopAccepting} everything is refused (`after-stop`).
 *
 * Longer than most files (about 330 lines) for a reason: it is one class whose methods share the
 * socket's state (bound/closing, accepting/stopped, the counters every path adds to), and the
 * accounting above holds only if every path that takes or refuses a datagram sees the same
 * counters. The parts with their own state already stand alone: admission.ts, reliable-intake.ts,
 * echo.ts, and the backends in socket/.
 */
import { EventEmitter } from 'node:events';
import { UdpkitError, describeErrno, errnoOf, formatHostPort } from '../errors.js';
import { sendFailure } from '../socket/send-failure.js';
import type { Sealer } from '../protocol/seal.js';
import type { AddressFamily, Datagram, Endpoint, SocketState } from '../types.js';
import type { Admission, RefusalReason } from './admission.js';
import type { ReceiveBackend } from '../socket/backend.js';
import { datagramAt, replyAddressOf, type DatagramBatch } from '../socket/batch.js';
import { Echoer, type EchoStats } from './echo.js';
import { ReliableIntake } from './reliable-intake.js';
import { CloseOnce } from './close-once.js';

/** What a bound listener is bound to. */
export interface BoundAddress {
  readonly address: string;
  readonly port: number;
  readonly family: AddressFamily;
  /** True when one socket receives both IPv4 and IPv6. */
  readonly dualStack: boolean;
}

/** Counters kept by a listener (a snapshot: read `listener.stats` again for fresh numbers). */
export interface ListenerStats {
  /** Datagrams accepted and handed out (an `--ack` message counts as one datagram). */
  readonly datagrams: number;
  /** Their payload bytes. */
  readonly bytes: number;
  /** Datagrams read from the socket but never handed out: the sum of {@link refusedBy}. */
  readonly refused: number;
  /** Refusals by reason (see {@link RefusalReason}). */
  readonly refusedBy: Partial<Record<RefusalReason, number>>;
  /** Datagrams the async iterator dropped because its consumer fell behind `maxQueue`. */
  readonly queueDropped: number;
  /** `--ack` sender sessions evicted to make room for others (those senders time out). */
  readonly sessionsEvicted: number;
  /** What {@link Listener.echo} did: echoed, failed, or refused by reason. */
  readonly echo: EchoStats;
}

/**
 * Takes a batch of accepted datagrams. May return how many of them it took, from the first: the
 * rest are counted as refused (`after-stop`), for a handler that stops partway (a stop word).
 */
export type ListenerBatchHandler = (batch: DatagramBatch) => number | void;

/** How long {@link Listener.drainQueued} reads by default, at most. */
export const DEFAULT_DRAIN_MS = 500;

/**
 * A bound UDP socket that receives datagrams. Emits `'datagram'`, `'refused'`, `'echoRefused'`
 * and `'error'`; async iterable; {@link onBatch} for the fast path.
 */
export class Listener extends EventEmitter implements AsyncIterable<Datagram> {
  readonly #closer = new CloseOnce();
  #state: SocketState = 'bound';
  readonly #backend: ReceiveBackend;
  readonly #admission: Admission | undefined;
  readonly #sealer: Sealer | undefined;
  readonly #intake: ReliableIntake | undefined;
  readonly #queue: Datagram[] = [];
  readonly #maxQueue: number;
  #batchHandler: ListenerBatchHandler | undefined;
  #wake: (() => void) | undefined;
  #iterating = false;
  /** `'accepting'` hands datagrams out; `'stopped'` (after stopAccepting) only counts them. */
  #intakeState: 'accepting' | 'stopped' = 'accepting';
  readonly #taken = { datagrams: 0, bytes: 0, queueDropped: 0 };
  /** Refusals by the admission and by the listener itself; the --ack intake keeps its own. */
  readonly #counts: { refused: number; refusedBy: Partial<Record<RefusalReason, number>> } = { refused: 0, refusedBy: {} };
  #echoer: Echoer | undefined;
  readonly #echoStats: EchoStats = { echoed: 0, failed: 0, refused: 0, refusedBy: {} };

  /** @internal use listen (listener.ts) */
  constructor(backend: ReceiveBackend, options: { maxQueue: number; admission?: Admission; sealer?: Sealer; reliable: boolean }) {
    super();
    this.#backend = backend;
    this.#maxQueue = options.maxQueue;
    this.#admission = options.admission;
    this.#sealer = options.sealer;
    this.#intake = options.reliable
      ? new ReliableIntake(
          (ack, port, address) => void this.#send(ack, port, address, true).catch(() => undefined),
          (reason, batch, i) => this.#emitRefused(reason, batch, i),
        )
      : undefined;
    backend.start(
      (batch) => this.#onBatch(batch),
      (err) => this.emit('error', err),
    );
  }

  /** Counters now. */
  get stats(): ListenerStats {
    const refusedBy = { ...this.#counts.refusedBy };
    let refused = this.#counts.refused;
    if (this.#intake) {
      for (const [reason, n] of Object.entries(this.#intake.refusedBy) as [RefusalReason, number][]) {
        if (n === 0) continue;
        refusedBy[reason] = (refusedBy[reason] ?? 0) + n;
        refused += n;
      }
    }
    return { ...this.#taken, refused, refusedBy, sessionsEvicted: this.#intake?.evictions ?? 0, echo: { ...this.#echoStats, refusedBy: { ...this.#echoStats.refusedBy } } };
  }

  #onBatch(raw: DatagramBatch): void {
    if (this.#state !== 'bound') return;
    const admitted = this.#admission ? this.#admission.admit(raw, this.#counts, (reason, from) => this.#refusedFrom(reason, from)) : raw;
    const batch = this.#intake ? this.#intake.process(admitted) : admitted;
    const n = this.#intakeState === 'accepting' ? this.#hand(batch) : 0;
    for (let i = n; i < batch.count; i++) this.#refuse('after-stop', batch, i);
  }

  /** Hands a batch out; returns how many datagrams of it were taken. */
  #hand(batch: DatagramBatch): number {
    if (batch.count === 0) return 0;
    const took = this.#batchHandler?.(batch);
    const n = typeof took === 'number' ? Math.max(0, Math.min(batch.count, Math.floor(took))) : batch.count;
    this.#taken.datagrams += n;
    for (let i = 0; i < n; i++) this.#taken.bytes += batch.lengths[i] as number;
    const emitting = this.listenerCount('datagram') > 0;
    // Until someone takes datagrams another way, keep them (up to maxQueue) for the iterator,
    // so those that arrive before the first `for await` are not lost.
    const queueing = this.#iterating || (!emitting && !this.#batchHandler);
    if (emitting || queueing) {
      for (let i = 0; i < n; i++) {
        const d = datagramAt(batch, i);
        if (emitting) this.emit('datagram', d);
        if (queueing) this.#enqueue(d);
      }
    }
    return n;
  }

  /** Counts datagram `i` of `batch` as refused for `reason`, and says so to `'refused'` listeners. */
  #refuse(reason: RefusalReason, batch: DatagramBatch, i: number): void {
    this.#counts.refused++;
    this.#counts.refusedBy[reason] = (this.#counts.refusedBy[reason] ?? 0) + 1;
    this.#emitRefused(reason, batch, i);
  }

  #emitRefused(reason: RefusalReason, batch: DatagramBatch, i: number): void {
    if (this.listenerCount('refused') === 0) return;
    const s = batch.senders[i] as number;
    this.#refusedFrom(reason, { address: batch.addresses[s] as string, port: batch.ports[i] as number, family: batch.families[s]! });
  }

  #refusedFrom(reason: RefusalReason, from: Endpoint): void {
    if (this.listenerCount('refused') > 0) this.emit('refused', reason, from);
  }

  /**
   * Hands every accepted batch to `handler`, before `'datagram'` events: the fast path for
   * callers that format or count and keep nothing (a batch is only valid during the call). A
   * handler that stops partway returns how many it took; the rest are refused (`after-stop`).
   */
  onBatch(handler: ListenerBatchHandler | undefined): void {
    this.#batchHandler = handler;
  }

  /**
   * Stops handing out datagrams: from now on each one read is refused (`after-stop`), `--ack`
   * messages held for a gap are let go (`gap`), and only messages already delivered are
   * acknowledged again, so a sender whose last acknowledgement was lost can still finish (the
   * "linger" after a stop). Returns true when any reliable sender was seen, that is, when
   * lingering is worth it.
   */
  stopAccepting(): boolean {
    this.#intakeState = 'stopped';
    this.#batchHandler = undefined;
    this.removeAllListeners('datagram');
    this.#intake?.stopAccepting();
    return (this.#intake?.sessionsSeen ?? 0) > 0;
  }

  /**
   * After {@link stopAccepting}: reads what the kernel still holds for this socket, for at most
   * `maxMs`, so those datagrams are counted (`after-stop`) instead of being discarded unseen by
   * {@link close}. Resolves once the receive queue is empty, at `maxMs`, or at once where the
   * queue cannot be read (then they go uncounted). Datagrams arriving after it resolves and
   * before close are lost uncounted: call close right after.
   */
  async drainQueued(maxMs: number = DEFAULT_DRAIN_MS): Promise<void> {
    if (this.#intakeState !== 'stopped') return;
    const deadline = Date.now() + maxMs;
    while (this.#state === 'bound' && Date.now() < deadline) {
      const queued = await this.#backend.queuedBytes();
      if (queued === undefined || queued === 0) return;
      // A blocked output may have paused reading; nothing is shown any more, so read.
      this.#backend.resume();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** `'binding' | 'bound' | 'closing' | 'closed'`. */
  get state(): SocketState {
    return this.#state;
  }

  /** The address and port the OS gave (read the port here after binding port 0). */
  address(): BoundAddress {
    return { ...this.#backend.address(), dualStack: this.#backend.dualStack };
  }

  /** The receive buffer the kernel granted, in bytes (Linux reports twice what it accounts). */
  receiveBufferSize(): number {
    return this.#backend.receiveBufferSize();
  }

  /**
   * Sets or clears SO_BROADCAST: with it, {@link sendTo} may send to a broadcast address (the
   * kernel refuses with EACCES otherwise). Throws `UDPKIT_CLOSED` once closing.
   * @example listener.setBroadcast(true); await listener.sendTo('hi', 2425, '192.168.1.255');
   */
  setBroadcast(on: boolean): void {
    if (this.#state !== 'bound') throw new UdpkitError('UDPKIT_CLOSED', 'the listener is closed');
    this.#backend.setBroadcast(on);
  }

  /**
   * Stops taking datagrams from the kernel (a slow consumer): the kernel buffers them and, once
   * its buffer is full, drops and counts them (see {@link kernelDrops}). Returns false where the
   * socket cannot be paused; then datagrams keep coming.
   */
  pause(): boolean {
    return this.#state === 'bound' && this.#backend.pause();
  }

  /** Takes datagrams from the kernel again after {@link pause}. */
  resume(): boolean {
    return this.#state === 'bound' && this.#backend.resume();
  }

  /**
   * How many datagrams the kernel dropped for this socket because its receive buffer was full,
   * or `undefined` where that cannot be read. Read it before close.
   */
  kernelDrops(): Promise<number | undefined> {
    return this.#state === 'bound' ? this.#backend.kernelDrops() : Promise.resolve(undefined);
  }

  /**
   * Sends `data` back to where `datagram` came from (a reply), from the listening port, sealed
   * when the listener has a key and then marked as an answer, so that no udpkit echo answers it
   * in turn. No guard: for echoing what arrives, use {@link echo}. Resolves when the kernel has
   * taken it.
   */
  reply(datagram: Datagram, data: Buffer | Uint8Array | string): Promise<void> {
    const raw = replyAddressOf(datagram);
    const address = raw ?? (this.#backend.dualStack && datagram.from.family === 'IPv4' ? `::ffff:${datagram.from.address}` : datagram.from.address);
    return this.#send(data, datagram.from.port, address, true);
  }

  /**
   * Echoes datagrams [from, to) of a batch this listener handed out (in {@link onBatch}) back to
   * their sources, except where that could loop or reflect: a datagram sealed as an answer, a
   * source that is not one unicast host, this listener's own port on any of this machine's
   * addresses, a peer echoed to over 1000 times a second, the same payload to the same peer
   * over twice at once or once a second (src/protocol/echo-guard.ts). Each datagram is counted
   * once in `stats.echo`: echoed, failed, or refused by reason (and emitted as
   * `'echoRefused'`, with the reason and the source).
   * @example listener.onBatch((b) => listener.echo(b));
   */
  echo(batch: DatagramBatch, from = 0, to = batch.count): void {
    if (this.#state !== 'bound') return;
    this.#echoer ??= new Echoer(this.#backend.address(), (payload, port, address) => this.#send(payload, port, address, true), {
      stats: this.#echoStats,
      onRefused: (reason, source) => {
        if (this.listenerCount('echoRefused') > 0) this.emit('echoRefused', reason, source);
      },
    });
    this.#echoer.echo(batch, from, to);
  }

  /** Resolves once every echo sent so far has completed (so `stats.echo` is final). */
  async echoSettled(): Promise<void> {
    await this.#echoer?.settled();
  }

  /** Sends from the listening socket to any address and port (sealed for that port when keyed). */
  sendTo(data: Buffer | Uint8Array | string, port: number, address: string): Promise<void> {
    return this.#send(data, port, address, false);
  }

  /**
   * Sends several datagrams to one address and port, in order (sealed for that port when keyed),
   * with as few syscalls as the backend allows: a relay forwarding a batch. Resolves to how many
   * failed; never rejects (best effort, like UDP).
   */
  sendManyTo(data: readonly Uint8Array[], port: number, address: string): Promise<number> {
    const payloads = this.#sealer ? data.map((d) => this.#sealer!.seal(d, Date.now(), { port, answer: false })) : data;
    return new Promise((resolve) => this.#backend.sendMany(payloads, port, address, resolve));
  }

  #send(data: Buffer | Uint8Array | string, port: number, address: string, answer: boolean): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const payload = this.#sealer ? this.#sealer.seal(bytes, Date.now(), { port, answer }) : bytes;
    return new Promise((resolve, reject) => {
      this.#backend.send(payload, port, address, (err) => {
        if (!err) return resolve();
        reject(sendFailure(err, address, port, { syscall: 'sendto' }));
      });
    });
  }

  /** Stops receiving and closes the socket. Safe to call more than once: every call waits for the one close (and its failure). */
  close(): Promise<void> {
    return this.#closer.run(async () => {
      this.#state = 'closing';
      // Held --ack messages cannot be delivered any more: count them (`gap`).
      this.#intake?.stopAccepting();
      this.#intake?.close();
      await this.#backend.close();
      this.#state = 'closed';
      this.#wake?.();
      this.emit('close');
    });
  }

  #enqueue(d: Datagram): void {
    if (this.#queue.length >= this.#maxQueue) {
      this.#taken.queueDropped++;
      return;
    }
    this.#queue.push(d);
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Datagram> {
    this.#iterating = true;
    try {
      while (true) {
        const next = this.#queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (this.#state !== 'bound') return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
      }
    } finally {
      this.#iterating = false;
    }
  }
}
