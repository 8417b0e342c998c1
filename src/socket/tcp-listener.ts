/**
 * A TCP listener for udpkit's TCP mode: many connections at once, each split into lines (or,
 * with a key, into length-prefixed sealed frames), with the same allow-list as UDP.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { UdpkitError, describeErrno, errnoOf, formatHostPort } from '../errors.js';
import { createAddressFilter } from '../net/address-filter.js';
import { LengthPrefixReader } from '../protocol/length-prefix.js';
import { LineSplitter } from '../protocol/line-splitter.js';
import type { AddressFamily } from '../types.js';
import { loadSealing } from './sealing.js';

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
  readonly signal?: AbortSignal;
}

/** One message (line or opened frame) received on a connection. */
export interface TcpMessage {
  readonly data: Buffer;
  readonly address: string;
  readonly port: number;
  readonly family: AddressFamily;
  readonly receivedAt: number;
  /** The line was longer than the limit and `data` is its beginning. */
  readonly cut: boolean;
  /** The peer closed the connection before the line's newline. */
  readonly partial: boolean;
}

/** Why a connection was closed by the listener. */
export type TcpRefusal = 'not-allowed' | 'not-sealed' | 'frame-too-large';

/** Events: `message` (TcpMessage), `connection` ({address, port}), `refused` ({address, port, reason}), `error` (Error). */
export interface TcpListener extends EventEmitter {
  /** `'bound' | 'closing' | 'closed'`. */
  readonly state: 'bound' | 'closing' | 'closed';
  readonly stats: { connections: number; refused: number };
  address(): { address: string; port: number; family: AddressFamily };
  /** Stops reading from every connection (output blocked); {@link resume} undoes it. */
  pause(): boolean;
  resume(): boolean;
  /** Closes the server and every connection. */
  close(): Promise<void>;
}

/** `::ffff:127.0.0.1` -> `127.0.0.1`, so TCP shows the same sender as UDP. */
function unmap(address: string): { address: string; family: AddressFamily } {
  if (address.startsWith('::ffff:') && address.includes('.')) return { address: address.slice(7), family: 'IPv4' };
  return { address, family: address.includes(':') ? 'IPv6' : 'IPv4' };
}

const MAX_SEALED_FRAME = 70_000;

/**
 * Binds a TCP server and emits each received line as a `message`.
 * @example
 * const l = await listenTcp({ port: 0 });
 * l.on('message', (m) => console.log(m.data.toString(), m.address, m.port));
 */
export async function listenTcp(options: TcpListenOptions): Promise<TcpListener> {
  const allowed = options.allow ? createAddressFilter(options.allow) : undefined;
  const opener = options.key === undefined ? undefined : (await loadSealing(options.key)).opener;
  const sockets = new Set<Socket>();
  const emitter = new EventEmitter() as TcpListener & { state: TcpListener['state'] };
  const stats = { connections: 0, refused: 0 };
  let paused = false;

  const server: Server = createServer({ noDelay: true }, (socket) => {
    const peer = unmap(socket.remoteAddress ?? '');
    const port = socket.remotePort ?? 0;
    if (allowed && !allowed(peer.address)) {
      stats.refused++;
      socket.destroy();
      emitter.emit('refused', { address: peer.address, port, reason: 'not-allowed' });
      return;
    }
    stats.connections++;
    sockets.add(socket);
    if (paused) socket.pause();
    emitter.emit('connection', { address: peer.address, port });
    const emit = (data: Buffer, cut: boolean, partial: boolean): void => {
      emitter.emit('message', { data, ...peer, port, receivedAt: Date.now(), cut, partial } satisfies TcpMessage);
    };
    const refuse = (reason: TcpRefusal): void => {
      stats.refused++;
      socket.destroy();
      emitter.emit('refused', { address: peer.address, port, reason });
    };
    if (opener) {
      const reader = new LengthPrefixReader(MAX_SEALED_FRAME);
      socket.on('data', (chunk: Buffer) => {
        const r = reader.push(chunk);
        for (const frame of r.frames) {
          if (socket.destroyed) return;
          const opened = opener.open(frame, Date.now(), socket.localPort ?? 0);
          if (!opened.ok) return refuse('not-sealed');
          emit(opened.plaintext, false, false);
        }
        if (r.tooLarge) refuse('frame-too-large');
      });
    } else {
      const splitter = new LineSplitter(options.maxLineBytes !== undefined ? { maxLineBytes: options.maxLineBytes } : {});
      socket.on('data', (chunk: Buffer) => {
        for (const line of splitter.push(chunk)) {
          if (socket.destroyed) return;
          emit(line.data, line.cut, false);
        }
      });
      socket.on('end', () => {
        const rest = splitter.end();
        if (rest) emit(rest.data, rest.cut, true);
      });
    }
    socket.on('end', () => socket.end());
    socket.on('error', () => undefined); // a reset by the peer ends that connection only
    socket.on('close', () => sockets.delete(socket));
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
      for (const s of sockets) s.destroy();
    });
    return closing;
  };
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  return Object.assign(emitter, {
    stats,
    address: () => {
      const a = server.address() as { address: string; port: number; family: string };
      return { address: a.address, port: a.port, family: (a.family === 'IPv6' || a.family === '6' ? 'IPv6' : 'IPv4') as AddressFamily };
    },
    pause: () => {
      paused = true;
      for (const s of sockets) s.pause();
      return true;
    },
    resume: () => {
      paused = false;
      for (const s of sockets) s.resume();
      return true;
    },
    close,
  });
}
