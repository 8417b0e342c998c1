/**
 * The receiving side: one UDP socket bound to a port, dual-stack by default, handing out
 * datagrams as batches (the fast path), as `'datagram'` events and as an async iterable. Never
 * connect()ed, so any number of senders work. Datagrams pass an admission check first (source
 * allow-list, sealed frames with a key); refused ones are only counted.
 */
import { EventEmitter } from 'node:events';
import { UdpkitError, UdpkitRangeError, describeErrno, errnoOf, formatHostPort } from '../errors.js';
import { createAddressFilter, parseCidrList } from '../net/address-filter.js';
import type { Sealer } from '../protocol/seal.js';
import type { AddressFamily, Datagram, Endpoint, SocketState } from '../types.js';
import { DEFAULT_PORT, validatePort } from '../validate.js';

export { DEFAULT_PORT } from '../validate.js';
import { Admission, type RefusalReason } from './admission.js';
import type { ReceiveBackend } from './backend.js';
import { datagramAt, replyAddressOf, type BatchHandler, type DatagramBatch } from './batch.js';
import { Echoer, type EchoStats } from './echo.js';
import { openBackend } from './open-backend.js';
import { openMulticastBackend } from './multicast-backend.js';
import { resolveMulticastInterface, validateGroups, validateSource, type Membership } from './multicast.js';
import { ReliableIntake } from './reliable-intake.js';
import { loadSealing } from './sealing.js';

export type { RefusalReason } from './admission.js';
export type { EchoStats } from './echo.js';

/** Receive buffer requested by default; Linux caps it at net.core.rmem_max. */
export const DEFAULT_RECEIVE_BUFFER = 8 * 1024 * 1024;

/** Options of {@link listen}. */
export interface ListenOptions {
  /** UDP port, 0 to let the OS choose; default 5000. */
  readonly port?: number;
  /** Address to bind; default every address, IPv4 and IPv6 through one dual-stack socket. */
  readonly address?: string;
  /** 4 or 6 for one family only; 0 (default) for both. */
  readonly family?: 0 | 4 | 6;
  /** SO_RCVBUF to ask for, in bytes; default 8 MB (the kernel may give less). */
  readonly receiveBufferSize?: number;
  /** Let other sockets bind the same port (SO_REUSEADDR). */
  readonly reuseAddress?: boolean;
  /** Datagrams the async iterator holds for a slow consumer before it drops (counted). */
  readonly maxQueue?: number;
  /** Only show datagrams from these sources: CIDRs or addresses (`192.168.1.0/24`, `fe80::/10`). */
  readonly allow?: string | readonly string[];
  /**
   * A shared secret: accept only datagrams sealed with it (see docs/protocol.md), and seal
   * replies. Plain, forged, corrupted, stale and replayed datagrams are refused.
   */
  readonly key?: string | Uint8Array;
  /**
   * Acknowledge and order `send --ack` messages (reliable DATA frames), handing each out once, in
   * order per sender session; default true. False shows the frames as they are.
   */
  readonly reliable?: boolean;
  /** Set SO_BROADCAST, so that {@link Listener.sendTo} may send to broadcast addresses. */
  readonly broadcast?: boolean;
  /**
   * Multicast groups to join, all IPv4 (224.0.0.0/4) or all IPv6 (ff00::/8): an array or a
   * comma-separated list. Binds that family only (unless `address` says otherwise) and uses
   * node:dgram even when the native addon is built.
   * @example await listen({ port: 5007, join: '239.77.0.1', reuseAddress: true })
   */
  readonly join?: string | readonly string[];
  /** With `join`: the interface for the memberships, a name (`eth0`) or one of its addresses. */
  readonly iface?: string;
  /** With `join`: only datagrams from this source (source-specific multicast). */
  readonly source?: string;
  /** Closes the listener when aborted. */
  readonly signal?: AbortSignal;
}

/** What a bound listener is bound to. */
export interface BoundAddress {
  readonly address: string;
  readonly port: number;
  readonly family: AddressFamily;
  /** True when one socket receives both IPv4 and IPv6. */
  readonly dualStack: boolean;
}

/** Counters kept by a listener. */
export interface ListenerStats {
  /** Datagrams accepted and handed out. */
  datagrams: number;
  /** Their payload bytes. */
  bytes: number;
  /** Datagrams refused (allow-list, key), never handed out. */
  refused: number;
  /** Refusals by reason. */
  refusedBy: Partial<Record<RefusalReason, number>>;
  /** Datagrams the async iterator dropped because its consumer fell behind `maxQueue`. */
  queueDropped: number;
  /** What {@link Listener.echo} did: echoed, failed, or refused by reason. */
  readonly echo: EchoStats;
}

/**
 * A bound UDP socket that receives datagrams. Emits `'datagram'`, `'refused'`, `'echoRefused'`
 * and `'error'`; async iterable; {@link onBatch} for the fast path.
 */
export class Listener extends EventEmitter implements AsyncIterable<Datagram> {
  #state: SocketState = 'bound';
  readonly #backend: ReceiveBackend;
  readonly #admission: Admission | undefined;
  readonly #sealer: Sealer | undefined;
  readonly #intake: ReliableIntake | undefined;
  readonly #queue: Datagram[] = [];
  readonly #maxQueue: number;
  #batchHandler: BatchHandler | undefined;
  #wake: (() => void) | undefined;
  #iterating = false;
  #echoer: Echoer | undefined;
  readonly stats: ListenerStats;

  /** @internal use {@link listen} */
  constructor(backend: ReceiveBackend, options: { maxQueue: number; admission?: Admission; sealer?: Sealer; reliable: boolean }) {
    super();
    this.#backend = backend;
    this.#maxQueue = options.maxQueue;
    this.#admission = options.admission;
    this.#sealer = options.sealer;
    this.#intake = options.reliable
      ? new ReliableIntake((ack, port, address) => void this.#send(ack, port, address, true).catch(() => undefined))
      : undefined;
    const echo: EchoStats = { echoed: 0, failed: 0, refused: 0, refusedBy: {} };
    this.stats = { datagrams: 0, bytes: 0, refused: 0, refusedBy: {}, queueDropped: 0, echo };
    backend.start(
      (batch) => this.#onBatch(batch),
      (err) => this.emit('error', err),
    );
  }

  #onBatch(raw: DatagramBatch): void {
    if (this.#state !== 'bound') return;
    const admitted = this.#admission ? this.#admission.admit(raw, this.stats, (reason, from) => this.#refused(reason, from)) : raw;
    const batch = this.#intake ? this.#intake.process(admitted) : admitted;
    const n = batch.count;
    if (n === 0) return;
    this.stats.datagrams += n;
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += batch.lengths[i] as number;
    this.stats.bytes += bytes;
    this.#batchHandler?.(batch);
    const emitting = this.listenerCount('datagram') > 0;
    // Until someone takes datagrams another way, keep them (up to maxQueue) for the iterator,
    // so those that arrive before the first `for await` are not lost.
    const queueing = this.#iterating || (!emitting && !this.#batchHandler);
    if (!emitting && !queueing) return;
    for (let i = 0; i < n; i++) {
      const d = datagramAt(batch, i);
      if (emitting) this.emit('datagram', d);
      if (queueing) this.#enqueue(d);
    }
  }

  #refused(reason: RefusalReason, from: Endpoint): void {
    if (this.listenerCount('refused') > 0) this.emit('refused', reason, from);
  }

  /**
   * Hands every accepted batch to `handler`, before `'datagram'` events: the fast path for
   * callers that format or count and keep nothing (a batch is only valid during the call).
   */
  onBatch(handler: BatchHandler | undefined): void {
    this.#batchHandler = handler;
  }

  /**
   * Stops handing out datagrams but keeps acknowledging reliable messages already accepted, so a
   * sender whose last acknowledgement was lost can still finish (the "linger" after a stop).
   * Returns true when any reliable sender was seen, that is, when lingering is worth it.
   */
  stopAccepting(): boolean {
    this.#batchHandler = undefined;
    this.removeAllListeners('datagram');
    this.#intake?.stopAccepting();
    return (this.#intake?.sessionsSeen ?? 0) > 0;
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
      stats: this.stats.echo,
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

  #send(data: Buffer | Uint8Array | string, port: number, address: string, answer: boolean): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const payload = this.#sealer ? this.#sealer.seal(bytes, Date.now(), { port, answer }) : bytes;
    return new Promise((resolve, reject) => {
      this.#backend.send(payload, port, address, (err) => {
        if (!err) return resolve();
        reject(
          new UdpkitError('UDPKIT_SEND_FAILED', `cannot send to ${formatHostPort(address, port)}/udp: ${describeErrno(errnoOf(err))}`, {
            syscall: 'sendto',
            address,
            port,
            errno: errnoOf(err),
            cause: err,
          }),
        );
      });
    });
  }

  /** Stops receiving and closes the socket. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.#state !== 'bound') {
      if (this.#state === 'closing') await new Promise((resolve) => this.once('close', resolve));
      return;
    }
    this.#state = 'closing';
    this.#intake?.close();
    await this.#backend.close();
    this.#state = 'closed';
    this.#wake?.();
    this.emit('close');
  }

  #enqueue(d: Datagram): void {
    if (this.#queue.length >= this.#maxQueue) {
      this.stats.queueDropped++;
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

/**
 * Binds a UDP port and starts receiving. Resolves once bound.
 * @example
 * const listener = await listen({ port: 0 });
 * console.log(listener.address().port);
 * for await (const d of listener) {
 *   console.log(d.text, d.from.address);
 *   if (d.text === 'bye') break;
 * }
 * await listener.close();
 */
export async function listen(options: ListenOptions = {}): Promise<Listener> {
  const port = validatePort(options.port ?? DEFAULT_PORT, { allowZero: true });
  const allowed = options.allow === undefined ? undefined : createAddressFilter(parseCidrList(options.allow));
  const sealing = options.key === undefined ? undefined : await loadSealing(options.key);
  const membership = await membershipOf(options);
  const request = {
    port,
    family: membership ? membership.family : options.family ?? 0,
    ...(options.address !== undefined ? { address: options.address } : {}),
    ...(options.reuseAddress !== undefined ? { reuseAddress: options.reuseAddress } : {}),
  };
  const backend = membership ? await openMulticastBackend(request, membership) : await openBackend(request);
  try {
    backend.setReceiveBufferSize(options.receiveBufferSize ?? DEFAULT_RECEIVE_BUFFER);
  } catch {
    // The kernel keeps its default; the listener still works.
  }
  if (options.broadcast === true) {
    try {
      backend.setBroadcast(true);
    } catch (err) {
      await backend.close();
      throw new UdpkitError('UDPKIT_IO_FAILED', `cannot allow broadcast on port ${port}/udp: ${describeErrno(errnoOf(err))}`, { syscall: 'setsockopt', errno: errnoOf(err), cause: err });
    }
  }
  const admission = allowed || sealing ? new Admission(allowed, sealing?.opener, backend.address().port) : undefined;
  const listener = new Listener(backend, {
    maxQueue: options.maxQueue ?? 10_000,
    reliable: options.reliable ?? true,
    ...(admission ? { admission } : {}),
    ...(sealing ? { sealer: sealing.sealer } : {}),
  });
  const signal = options.signal;
  if (signal) {
    if (signal.aborted) await listener.close();
    else signal.addEventListener('abort', () => void listener.close(), { once: true });
  }
  return listener;
}

/** The groups, interface and source of `join`, checked; `undefined` without `join`. */
async function membershipOf(options: ListenOptions): Promise<(Membership & { family: 4 | 6 }) | undefined> {
  if (options.join === undefined) {
    if (options.iface !== undefined || options.source !== undefined) {
      throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', 'iface and source apply to multicast: give join too');
    }
    return undefined;
  }
  const { groups, family } = validateGroups(options.join);
  if (options.family !== undefined && options.family !== 0 && options.family !== family) {
    throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `family ${options.family} does not match the IPv${family} groups`);
  }
  const source = options.source === undefined ? undefined : validateSource(options.source, family);
  const iface = options.iface === undefined ? undefined : await resolveMulticastInterface(options.iface, family);
  return { groups, family, ...(iface !== undefined ? { iface } : {}), ...(source !== undefined ? { source } : {}) };
}
