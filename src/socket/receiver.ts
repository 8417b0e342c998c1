/**
 * The receiving side: one UDP socket bound to a port, dual-stack by default, handing out
 * datagrams as events and as an async iterable. Never connect()ed, so any number of senders work.
 * Datagrams pass an admission check first (source allow-list); refused ones are only counted.
 */
import { isUtf8 } from 'node:buffer';
import type dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { UdpkitError, describeErrno, errnoOf, formatHostPort } from '../errors.js';
import { createAddressFilter, parseCidrList } from '../net/address-filter.js';
import { kernelDropsForFd } from '../net/socket-drops.js';
import { Opener, type RefusalReason as SealRefusal } from '../protocol/opener.js';
import { deriveKey } from '../protocol/seal-key.js';
import { Sealer } from '../protocol/seal.js';
import type { AddressFamily, Datagram, Endpoint, SocketState } from '../types.js';
import { validatePort } from '../validate.js';
import { bindUdp } from './bind.js';
import { setReceiving, socketFd } from './handle.js';

/** The default port, as in the textbook receiver. */
export const DEFAULT_PORT = 5000;
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
  /** Closes the listener when aborted. */
  readonly signal?: AbortSignal;
}

/** Why a datagram was refused: its source is not allowed, or it failed to open (with a key). */
export type RefusalReason = 'source' | SealRefusal;

/** How a {@link Listener} admits datagrams. @internal */
interface Admission {
  readonly dualStack: boolean;
  readonly maxQueue: number;
  readonly allowed?: ((address: string) => boolean) | undefined;
  readonly opener?: Opener | undefined;
  readonly sealer?: Sealer | undefined;
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
  /** Datagrams refused (allow-list), never handed out. */
  refused: number;
  /** Refusals by reason. */
  refusedBy: Partial<Record<RefusalReason, number>>;
  /** Datagrams the async iterator dropped because its consumer fell behind `maxQueue`. */
  queueDropped: number;
}

class ReceivedDatagram implements Datagram {
  #text: string | null | undefined;
  constructor(
    readonly data: Buffer,
    readonly from: Endpoint,
    readonly receivedAt: number,
    /** The address as the socket reported it, needed to reply on a dual-stack socket. */
    readonly replyAddress: string,
  ) {}

  get text(): string | undefined {
    if (this.#text === undefined) this.#text = isUtf8(this.data) ? this.data.toString('utf8') : null;
    return this.#text ?? undefined;
  }

  toJSON(): object {
    return { data: this.data, text: this.text, from: this.from, receivedAt: this.receivedAt };
  }
}

function endpointOf(rinfo: dgram.RemoteInfo): Endpoint {
  const mapped = rinfo.address.startsWith('::ffff:') && rinfo.address.includes('.');
  return mapped
    ? { address: rinfo.address.slice(7), port: rinfo.port, family: 'IPv4' }
    : { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' };
}

/** A bound UDP socket that receives datagrams. Emits `'datagram'` and `'error'`; async iterable. */
export class Listener extends EventEmitter implements AsyncIterable<Datagram> {
  #state: SocketState = 'binding';
  readonly #socket: dgram.Socket;
  readonly #dualStack: boolean;
  readonly #queue: ReceivedDatagram[] = [];
  readonly #maxQueue: number;
  #wake: (() => void) | undefined;
  #iterating = false;
  readonly #allowed: ((address: string) => boolean) | undefined;
  readonly #opener: Opener | undefined;
  readonly #sealer: Sealer | undefined;
  readonly stats: ListenerStats = { datagrams: 0, bytes: 0, refused: 0, refusedBy: {}, queueDropped: 0 };

  /** @internal use {@link listen} */
  constructor(socket: dgram.Socket, admission: Admission) {
    super();
    this.#socket = socket;
    this.#dualStack = admission.dualStack;
    this.#maxQueue = admission.maxQueue;
    this.#allowed = admission.allowed;
    this.#opener = admission.opener;
    this.#sealer = admission.sealer;
    socket.on('message', (raw, rinfo) => {
      const from = endpointOf(rinfo);
      if (this.#allowed && !this.#allowed(from.address)) {
        this.#refuse('source', from);
        return;
      }
      const now = Date.now();
      let data: Buffer = raw;
      if (this.#opener) {
        const opened = this.#opener.open(raw, now);
        if (!opened.ok) {
          this.#refuse(opened.reason, from);
          return;
        }
        data = opened.plaintext;
      }
      const d = new ReceivedDatagram(data, from, now, rinfo.address);
      this.stats.datagrams++;
      this.stats.bytes += data.length;
      this.emit('datagram', d);
      if (this.#iterating) this.#enqueue(d);
    });
    socket.on('error', (err) => this.emit('error', err));
    socket.on('close', () => {
      this.#state = 'closed';
      this.#wake?.();
      this.emit('close');
    });
  }

  #refuse(reason: RefusalReason, from: Endpoint): void {
    this.stats.refused++;
    this.stats.refusedBy[reason] = (this.stats.refusedBy[reason] ?? 0) + 1;
    if (this.listenerCount('refused') > 0) this.emit('refused', reason, from);
  }

  /** `'binding' | 'bound' | 'closing' | 'closed'`. */
  get state(): SocketState {
    return this.#state;
  }

  /** @internal */
  markBound(): void {
    this.#state = 'bound';
  }

  /** The address and port the OS gave (read the port here after binding port 0). */
  address(): BoundAddress {
    const a = this.#socket.address();
    return { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', dualStack: this.#dualStack };
  }

  /**
   * Stops taking datagrams from the kernel (a slow consumer): the kernel buffers them and, once
   * its buffer is full, drops and counts them (see {@link kernelDrops}). Returns false where
   * Node cannot pause a socket; then datagrams keep coming.
   */
  pause(): boolean {
    return this.#state === 'bound' && setReceiving(this.#socket, false);
  }

  /** Takes datagrams from the kernel again after {@link pause}. */
  resume(): boolean {
    return this.#state === 'bound' && setReceiving(this.#socket, true);
  }

  /**
   * How many datagrams the kernel dropped for this socket because its receive buffer was full
   * (Linux, from /proc/net/udp*), or `undefined` where that cannot be read. Read it before close.
   */
  async kernelDrops(): Promise<number | undefined> {
    const fd = socketFd(this.#socket);
    return fd === undefined || this.#state !== 'bound' ? undefined : kernelDropsForFd(fd);
  }

  /** The receive buffer the kernel granted, in bytes (Linux reports twice what it accounts). */
  receiveBufferSize(): number {
    return this.#socket.getRecvBufferSize();
  }

  /**
   * Sends `data` back to where `datagram` came from (an echo, a reply), from the listening port.
   * Resolves when the kernel has taken it.
   */
  reply(datagram: Datagram, data: Buffer | Uint8Array | string): Promise<void> {
    const address = datagram instanceof ReceivedDatagram ? datagram.replyAddress : this.#socketAddressFor(datagram.from);
    return this.sendTo(data, datagram.from.port, address);
  }

  /** Sends from the listening socket to any address and port. */
  sendTo(data: Buffer | Uint8Array | string, port: number, address: string): Promise<void> {
    const payload = this.#sealer ? this.#sealer.seal(typeof data === 'string' ? Buffer.from(data) : data, Date.now()) : data;
    return new Promise((resolve, reject) => {
      this.#socket.send(payload, port, address, (err) => {
        if (err) {
          reject(
            new UdpkitError('UDPKIT_SEND_FAILED', `cannot send to ${formatHostPort(address, port)}/udp: ${describeErrno(errnoOf(err))}`, {
              syscall: 'sendto',
              address,
              port,
              errno: errnoOf(err),
              cause: err,
            }),
          );
        } else resolve();
      });
    });
  }

  #socketAddressFor(from: Endpoint): string {
    return this.#dualStack && from.family === 'IPv4' ? `::ffff:${from.address}` : from.address;
  }

  /** Stops receiving and closes the socket. Safe to call more than once. */
  close(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    return new Promise((resolve) => {
      this.once('close', () => resolve());
      if (this.#state !== 'closing') {
        this.#state = 'closing';
        this.#socket.close();
      }
    });
  }

  #enqueue(d: ReceivedDatagram): void {
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
        if (this.#state === 'closed' || this.#state === 'closing') return;
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
  const key = options.key === undefined ? undefined : deriveKey(options.key);
  const { socket, dualStack } = await bindUdp({
    port,
    family: options.family ?? 0,
    ...(options.address !== undefined ? { address: options.address } : {}),
    ...(options.reuseAddress !== undefined ? { reuseAddress: options.reuseAddress } : {}),
  });
  try {
    socket.setRecvBufferSize(options.receiveBufferSize ?? DEFAULT_RECEIVE_BUFFER);
  } catch {
    // The kernel keeps its default; the listener still works.
  }
  const listener = new Listener(socket, {
    dualStack,
    maxQueue: options.maxQueue ?? 10_000,
    allowed,
    opener: key && new Opener(key),
    sealer: key && new Sealer(key),
  });
  listener.markBound();
  const signal = options.signal;
  if (signal) {
    if (signal.aborted) await listener.close();
    else signal.addEventListener('abort', () => void listener.close(), { once: true });
  }
  return listener;
}
