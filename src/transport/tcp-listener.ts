/**
 * A TCP listener for udpkit's TCP mode: many connections at once, each split into lines (or,
 * with a key, into length-prefixed sealed frames), with the same allow-list as UDP. Bounded:
 * at most `maxConnections` at once, `maxBufferedBytes` of unfinished lines in all, and a
 * connection silent for `idleTimeoutMs` is closed; each refusal, cut and close is counted.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { UdpkitError, describeErrno, errnoOf, formatHostPort } from '../errors.js';
import { createAddressFilter } from '../net/address-filter.js';
import { LineBudget, type CutReason } from '../protocol/line-budget.js';
import type { AddressFamily } from '../types.js';
import { validateInteger } from '../validate.js';
import { loadSealing } from '../socket/sealing.js';
import { TcpConnection, type TcpMessage, type TcpRefusal } from './tcp-connection.js';

export type { TcpEnd, TcpMessage, TcpRefusal } from './tcp-connection.js';

/** Connections served at once by default: well under the usual 1024 descriptors a process gets. */
export const DEFAULT_MAX_CONNECTIONS = 512;
/** Bytes all unfinished lines may hold together by default, overhead included. */
export const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;
/** A connection that sends nothing for this long is closed by default (milliseconds). */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** Options of {@link listenTcp}. */
export interface TcpListenOptions {
  /** TCP port; 0 asks the OS for a free one (read it back from `address()`). */
  readonly port: number;
  /** Address to bind; default every address (IPv4 and IPv6). */
  readonly address?: string;
  /** CIDRs (from `parseCidrList`) allowed to connect; others are closed at once and counted. */
  readonly allow?: readonly string[];
  /** Shared secret: expect length-prefixed sealed frames instead of text lines. */
  readonly key?: string;
  /** Longest line kept, in bytes (default 1 MiB); longer lines are cut. */
  readonly maxLineBytes?: number;
  /** Connections at once (default 512); more are closed at once and counted. */
  readonly maxConnections?: number;
  /**
   * Bytes every connection's unfinished line may hold together (default 16 MiB, at least
   * 64 KiB), each line charged its buffer plus a fixed overhead; past it the longest is cut.
   */
  readonly maxBufferedBytes?: number;
  /** Close a connection that sends nothing for this long (default 60 s; 0: never). Not while paused. */
  readonly idleTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** What a TCP listener has done so far. */
export interface TcpListenerStats {
  /** Connections accepted. */
  readonly connections: number;
  /** Connections closed by the listener for a reason (all of `refusedBy`). */
  readonly refused: number;
  readonly refusedBy: Readonly<Record<TcpRefusal, number>>;
  /** Connections closed after `idleTimeoutMs` without a byte. */
  readonly idleClosed: number;
  /** Lines handed out cut, by why. */
  readonly cut: Readonly<Record<CutReason, number>>;
  /** Bytes of cut lines discarded (after the cut, up to the newline): read, never shown. */
  readonly discardedBytes: number;
}

/** Events: `message` (TcpMessage), `connection` ({address, port}), `refused` ({address, port, reason}), `idle` ({address, port}), `error` (Error). */
export interface TcpListener extends EventEmitter {
  /** `'bound' | 'closing' | 'closed'`. */
  readonly state: 'bound' | 'closing' | 'closed';
  /** A snapshot of the counters. */
  readonly stats: TcpListenerStats;
  address(): { address: string; port: number; family: AddressFamily };
  /** Stops reading from every connection (output blocked); {@link resume} undoes it. */
  pause(): boolean;
  resume(): boolean;
  /** Hands out every unfinished line (`endedBy: 'close'`), then closes the server and every connection. */
  close(): Promise<void>;
}

/** `::ffff:127.0.0.1` -> `127.0.0.1`, so TCP shows the same sender as UDP. */
function unmap(address: string): { address: string; family: AddressFamily } {
  if (address.startsWith('::ffff:') && address.includes('.')) return { address: address.slice(7), family: 'IPv4' };
  return { address, family: address.includes(':') ? 'IPv6' : 'IPv4' };
}

/** The largest sealed frame a keyed TCP listener reads (a length prefix above it ends the connection). */
export const MAX_SEALED_FRAME = 70_000;

/** The longest line a TCP listener takes as one message by default; longer ones are shown cut. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/**
 * Binds a TCP server and emits each received line as a `message`.
 * @example
 * const l = await listenTcp({ port: 0, maxConnections: 100 });
 * l.on('message', (m) => console.log(m.data.toString(), m.address, m.port));
 */
export async function listenTcp(options: TcpListenOptions): Promise<TcpListener> {
  const maxConnections = validateInteger(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, { name: 'maxConnections', min: 1, max: 1_000_000 });
  const maxBufferedBytes = validateInteger(options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED, { name: 'maxBufferedBytes', min: 65_536 });
  const idleTimeoutMs = validateInteger(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, { name: 'idleTimeoutMs', max: 2 ** 31 - 1 });
  const maxLineBytes = validateInteger(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, { name: 'maxLineBytes', min: 1 });
  const allowed = options.allow ? createAddressFilter(options.allow) : undefined;
  const opener = options.key === undefined ? undefined : (await loadSealing(options.key)).opener;
  const lines = new LineBudget({ maxBufferedBytes });
  const open = new Map<Socket, TcpConnection>();
  const emitter = new EventEmitter() as TcpListener & { state: TcpListener['state'] };
  const counts = { connections: 0, idleClosed: 0 };
  const refusedBy: Record<TcpRefusal, number> = { 'not-allowed': 0, 'max-connections': 0, 'not-sealed': 0, 'frame-too-large': 0 };
  let paused = false;

  const refuse = (socket: Socket, address: string, port: number, reason: TcpRefusal): void => {
    refusedBy[reason]++;
    socket.destroy();
    emitter.emit('refused', { address, port, reason });
  };

  const server: Server = createServer({ noDelay: true }, (socket) => {
    const peer = unmap(socket.remoteAddress ?? '');
    const port = socket.remotePort ?? 0;
    socket.on('error', () => undefined); // a reset by the peer ends that connection only
    if (allowed && !allowed(peer.address)) return refuse(socket, peer.address, port, 'not-allowed');
    if (open.size >= maxConnections) return refuse(socket, peer.address, port, 'max-connections');
    counts.connections++;
    const connection = new TcpConnection({
      socket,
      ...peer,
      port,
      ...(opener !== undefined ? { opener } : {}),
      maxLineBytes,
      maxSealedFrameBytes: MAX_SEALED_FRAME,
      lines,
      onMessage: (m: TcpMessage) => emitter.emit('message', m),
      onRefuse: (reason) => refuse(socket, peer.address, port, reason),
    });
    open.set(socket, connection);
    if (paused) socket.pause();
    emitter.emit('connection', { address: peer.address, port });
    if (idleTimeoutMs > 0) {
      socket.setTimeout(idleTimeoutMs);
      socket.on('timeout', () => {
        // Paused by us (output blocked), it is not the peer that is silent: wait again.
        if (paused) return void socket.setTimeout(idleTimeoutMs);
        counts.idleClosed++;
        emitter.emit('idle', { address: peer.address, port });
        connection.finish('idle');
        socket.destroy();
      });
    }
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      connection.finish('peer');
      open.delete(socket);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      const errno = errnoOf(err);
      const where = formatHostPort(options.address ?? '*', options.port);
      reject(new UdpkitError('UDPKIT_BIND_FAILED', `cannot listen on ${where}/tcp: ${describeErrno(errno)}`, { syscall: 'listen', errno, port: options.port, cause: err, ...(options.address !== undefined ? { address: options.address } : {}) }));
    });
    server.listen({ port: options.port, ...(options.address !== undefined ? { host: options.address } : {}) }, () => resolve());
  });
  server.on('error', (err) => emitter.emit('error', err));
  emitter.state = 'bound';

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      emitter.state = 'closing';
      server.close(() => {
        emitter.state = 'closed';
        resolve();
      });
      for (const [socket, connection] of open) {
        connection.finish('close');
        socket.destroy();
      }
    });
    return closing;
  };
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  Object.defineProperty(emitter, 'stats', {
    get: (): TcpListenerStats => ({
      ...counts,
      refused: Object.values(refusedBy).reduce((a, b) => a + b, 0),
      refusedBy: { ...refusedBy },
      cut: { ...lines.cuts },
      discardedBytes: lines.discardedBytes,
    }),
  });
  return Object.assign(emitter, {
    address: () => {
      const a = server.address() as { address: string; port: number; family: string };
      return { address: a.address, port: a.port, family: (a.family === 'IPv6' || a.family === '6' ? 'IPv6' : 'IPv4') as AddressFamily };
    },
    pause: () => {
      paused = true;
      for (const s of open.keys()) s.pause();
      return true;
    },
    resume: () => {
      paused = false;
      for (const s of open.keys()) s.resume();
      return true;
    },
    close,
  });
}
