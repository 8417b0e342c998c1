/**
 * The receiving side: one UDP socket bound to a port, dual-stack by default, handing out
 * datagrams as events and as an async iterable. Never connect()ed, so any number of senders work.
 */
import { isUtf8 } from 'node:buffer';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { UdpkitError, describeErrno, errnoOf, formatHostPort } from '../errors.js';
import type { AddressFamily, Datagram, Endpoint, SocketState } from '../types.js';
import { ipFamily, validatePort } from '../validate.js';

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
  datagrams: number;
  bytes: number;
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
  readonly stats: ListenerStats = { datagrams: 0, bytes: 0, queueDropped: 0 };

  /** @internal use {@link listen} */
  constructor(socket: dgram.Socket, dualStack: boolean, maxQueue: number) {
    super();
    this.#socket = socket;
    this.#dualStack = dualStack;
    this.#maxQueue = maxQueue;
    socket.on('message', (data, rinfo) => {
      const d = new ReceivedDatagram(data, endpointOf(rinfo), Date.now(), rinfo.address);
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

  /** The underlying socket's file descriptor number, for reading kernel counters. */
  get socket(): dgram.Socket {
    return this.#socket;
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
    return new Promise((resolve, reject) => {
      this.#socket.send(data, port, address, (err) => {
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

function bindFailure(err: unknown, address: string, port: number): UdpkitError {
  const errno = errnoOf(err);
  let why = describeErrno(errno);
  if (errno === 'EADDRINUSE') why = `port ${port}/udp is already in use`;
  if (errno === 'EACCES' && port > 0 && port < 1024) why += ' (ports below 1024 need privileges)';
  return new UdpkitError('UDPKIT_BIND_FAILED', `cannot bind ${formatHostPort(address, port)}/udp: ${why}`, {
    syscall: 'bind',
    address,
    port,
    errno,
    cause: err,
  });
}

function bindSocket(type: 'udp4' | 'udp6', address: string, port: number, options: ListenOptions, ipv6Only: boolean): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type, ...(type === 'udp6' ? { ipv6Only } : {}), reuseAddr: options.reuseAddress === true });
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
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
  const family = options.family ?? 0;
  const maxQueue = options.maxQueue ?? 10_000;
  let socket: dgram.Socket;
  let dualStack = false;
  let address = options.address;
  if (address !== undefined) {
    const fam = ipFamily(address);
    if (fam === undefined) throw bindFailure(Object.assign(new Error(), { code: 'EINVAL' }), address, port);
    try {
      socket = await bindSocket(fam === 6 ? 'udp6' : 'udp4', address, port, options, true);
    } catch (err) {
      throw bindFailure(err, address, port);
    }
  } else if (family === 4) {
    address = '0.0.0.0';
    socket = await bindSocket('udp4', address, port, options, false).catch((err) => {
      throw bindFailure(err, '0.0.0.0', port);
    });
  } else {
    try {
      address = '::';
      socket = await bindSocket('udp6', address, port, options, family === 6);
      dualStack = family === 0;
    } catch (err) {
      const errno = errnoOf(err);
      if (family === 6 || (errno !== 'EAFNOSUPPORT' && errno !== 'EADDRNOTAVAIL' && errno !== 'EINVAL')) {
        throw bindFailure(err, '::', port);
      }
      address = '0.0.0.0';
      socket = await bindSocket('udp4', address, port, options, false).catch((e) => {
        throw bindFailure(e, '0.0.0.0', port);
      });
    }
  }
  try {
    socket.setRecvBufferSize(options.receiveBufferSize ?? DEFAULT_RECEIVE_BUFFER);
  } catch {
    // The kernel keeps its default; the listener still works.
  }
  const listener = new Listener(socket, dualStack, maxQueue);
  listener.markBound();
  const signal = options.signal;
  if (signal) {
    if (signal.aborted) await listener.close();
    else signal.addEventListener('abort', () => void listener.close(), { once: true });
  }
  return listener;
}
