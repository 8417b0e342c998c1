/**
 * The socket under a sender, connected to one destination: node:dgram (one syscall per
 * datagram) or the native addon (sendmmsg, up to 64 datagrams per syscall). Both report each
 * datagram's outcome, replies and asynchronous errors the same way.
 */
import type dgram from 'node:dgram';
import { errnoOf } from '../errors.js';
import { kernelDropsForFd } from '../net/socket-drops.js';
import { socketFd } from './handle.js';
import type { Endpoint } from '../types.js';
import { applyMulticastSend, type MulticastSend } from './multicast.js';

/** A connected UDP socket as a sender uses it. */
export interface SendIo {
  /** Hands one datagram to the kernel; `done` tells how it went (never synchronously). */
  send(data: Uint8Array, done: (err: Error | null) => void): void;
  /**
   * The native socket only: hands the datagram to the kernel before returning, when nothing
   * given to `send` still waits. True when the kernel took it; false when it must go through
   * `send` (something waits, or the kernel is full); throws the OS error (ECONNREFUSED: a
   * refusal meant for an earlier datagram, this one not sent).
   */
  sendNow?(data: Uint8Array): boolean;
  /**
   * Datagrams that come back (replies): each is `bytes[start, start + length)`, valid only
   * during the call (the native socket reuses its receive buffer), from `address` as shown
   * (a mapped IPv4 address already plain), `port` and `family` (`'IPv4'`, `'IPv6'`).
   */
  onMessage(handler: ReplyHandler): void;
  /** Errors outside any send, such as an ICMP refusal seen while receiving. */
  onError(handler: (err: Error) => void): void;
  localAddress(): { address: string; port: number };
  close(): Promise<void>;
  /**
   * The native socket only: one sendmmsg of `bytes[starts[i], ends[i])` for `from <= i < to`
   * (64 at most) to the destination, made of no object per datagram. Returns how many the
   * kernel took, 0 when it is full (see `writable`); throws the OS error of datagram `from`.
   * Datagrams queued with `send` and not yet sent may go out after these. With `gso`, the
   * kernel may be handed runs of same-size adjacent spans to segment (see DatagramSpans.gso).
   */
  sendSpans?(bytes: Buffer, starts: Uint32Array, ends: Uint32Array, from: number, to: number, gso?: boolean): number;
  /** With `sendSpans`: resolves once the socket can take datagrams again. */
  writable?(): Promise<void>;
  /** SO_RCVBUF to ask for (the kernel caps it at net.core.rmem_max): room for replies. */
  setReceiveBufferSize(bytes: number): void;
  /** The kernel's count of replies dropped on this socket (buffer full), if readable. */
  kernelDrops(): Promise<number | undefined>;
}

/** Takes one reply; see {@link SendIo.onMessage}. */
export type ReplyHandler = (bytes: Buffer, start: number, length: number, address: string, port: number, family: string) => void;

/** Where to connect, and how. */
export interface ConnectRequest {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  readonly broadcast: boolean;
  readonly localAddress?: string;
  readonly localPort?: number;
  /** Set for a multicast destination (node:dgram only). */
  readonly multicast?: MulticastSend;
}

/** An OS failure with the step that failed (`bind` or `connect`). */
export type ConnectFailure = Error & { readonly step: 'bind' | 'connect'; readonly cause: unknown };

/** Tags an OS error with the step it came from. */
export function connectFailure(step: 'bind' | 'connect', cause: unknown): ConnectFailure {
  return Object.assign(new Error(`${step} failed`), { step, cause, code: errnoOf(cause) });
}

/** Shows an IPv4-mapped sender as plain IPv4. */
export function endpointOf(address: string, port: number, family: string): Endpoint {
  const mapped = address.startsWith('::ffff:') && address.includes('.');
  return { address: mapped ? address.slice(7) : address, port, family: mapped || family === 'IPv4' ? 'IPv4' : 'IPv6' };
}

class DgramSendIo implements SendIo {
  readonly #socket: dgram.Socket;
  constructor(socket: dgram.Socket) {
    this.#socket = socket;
  }
  send(data: Uint8Array, done: (err: Error | null) => void): void {
    this.#socket.send(data, (err) => done(err ?? null));
  }
  onMessage(handler: ReplyHandler): void {
    this.#socket.on('message', (data, rinfo) => handler(data, 0, data.length, rinfo.address, rinfo.port, rinfo.family));
  }
  onError(handler: (err: Error) => void): void {
    this.#socket.on('error', handler);
  }
  localAddress(): { address: string; port: number } {
    const a = this.#socket.address();
    return { address: a.address, port: a.port };
  }
  setReceiveBufferSize(bytes: number): void {
    this.#socket.setRecvBufferSize(bytes);
  }
  kernelDrops(): Promise<number | undefined> {
    const fd = socketFd(this.#socket);
    return fd === undefined ? Promise.resolve(undefined) : kernelDropsForFd(fd);
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/** Binds and connects a node:dgram socket; rejects with a {@link ConnectFailure}. */
export async function openDgramSendIo(req: ConnectRequest): Promise<SendIo> {
  // Loaded only on this path: the native sender never needs node:dgram at start-up.
  const { createSocket } = await import('node:dgram');
  const socket = createSocket(req.family === 6 ? 'udp6' : 'udp4');
  // connect() reports its failure to the callback (not as 'error'), bind() as 'error': a failed
  // connect (EACCES for a broadcast address, ENETUNREACH) taken as success left the sender waiting.
  const step = (name: 'bind' | 'connect', start: (done: (err?: Error | null) => void) => void): Promise<void> =>
    new Promise((resolve, reject) => {
      const fail = (err: Error): void => {
        socket.close();
        reject(connectFailure(name, err));
      };
      socket.once('error', fail);
      start((err) => {
        socket.removeListener('error', fail);
        if (err) fail(err);
        else resolve();
      });
    });
  await step('bind', (done) => socket.bind({ port: req.localPort ?? 0, ...(req.localAddress ? { address: req.localAddress } : {}) }, () => done()));
  // SO_BROADCAST must be set before connect(): Linux refuses to connect to a broadcast address without it.
  if (req.broadcast) socket.setBroadcast(true);
  if (req.multicast) {
    try {
      applyMulticastSend(socket, req.multicast);
    } catch (err) {
      socket.close();
      throw connectFailure('connect', err);
    }
  }
  await step('connect', (done) => socket.connect(req.port, req.address, done));
  return new DgramSendIo(socket);
}
