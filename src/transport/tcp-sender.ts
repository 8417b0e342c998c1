/**
 * A TCP sender for udpkit's TCP mode: connects (failing loudly when nobody listens), writes each
 * message as a line, or with a key as a length-prefixed sealed frame, then closes.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { errnoOf, type UdpkitError } from '../errors.js';
import { sendFailure } from '../socket/send-failure.js';
import { encodeLengthPrefixed } from '../protocol/length-prefix.js';
import type { Sealer } from '../protocol/seal.js';
import { loadSealing } from '../socket/sealing.js';

/** Options of {@link connectTcp}. */
export interface TcpSendOptions {
  readonly host: string;
  readonly port: number;
  /** Shared secret: send length-prefixed sealed frames instead of text lines. */
  readonly key?: string;
  readonly signal?: AbortSignal;
}

/** An open TCP connection to a udpkit listener. */
export interface TcpSender {
  /** The peer's address, as connected. */
  readonly remoteAddress: string;
  readonly stats: { messages: number; bytes: number };
  /** Queues one message; false when the caller should wait for `drained()`. */
  write(message: Uint8Array): boolean;
  drained(): Promise<void>;
  /** Sends everything queued, closes, and resolves when the peer has it all (FIN acknowledged). */
  end(): Promise<void>;
  destroy(): void;
}

function failure(err: unknown, host: string, port: number, doing: string): UdpkitError {
  const errno = errnoOf(err);
  const why =
    errno === 'ECONNREFUSED'
      ? 'connection refused (nobody is listening)'
      : errno === 'EPIPE' || errno === 'ECONNRESET'
        ? "the listener closed the connection (is this address in its allow list, and is the key the same on both sides?)"
        : undefined;
  return sendFailure(err, host, port, { syscall: 'connect', transport: 'tcp', doing, ...(why !== undefined ? { why } : {}) });
}

/**
 * Connects to `host:port`.
 * @throws (rejects) `UdpkitError` coded `UDPKIT_SEND_FAILED`, e.g. "cannot connect to
 *   127.0.0.1:5000/tcp: connection refused (nobody is listening)".
 * @example
 * const s = await connectTcp({ host: '127.0.0.1', port: 5000 });
 * s.write(Buffer.from('hello')); await s.end();
 */
export async function connectTcp(options: TcpSendOptions): Promise<TcpSender> {
  const { host, port } = options;
  const sealer: Sealer | undefined = options.key === undefined ? undefined : (await loadSealing(options.key)).sealer;
  const socket: Socket = connect({ host, port, noDelay: false });
  try {
    await once(socket, 'connect', options.signal ? { signal: options.signal } : {});
  } catch (err) {
    socket.destroy();
    throw failure(err, socket.remoteAddress ?? host, port, 'cannot connect to');
  }
  const remoteAddress = socket.remoteAddress ?? host;
  let error: UdpkitError | undefined;
  socket.on('error', (err) => (error ??= failure(err, remoteAddress, port, 'sending to')));
  const stats = { messages: 0, bytes: 0 };
  const NL = Buffer.from('\n');
  return {
    remoteAddress,
    stats,
    write(message) {
      if (error) throw error;
      stats.messages++;
      stats.bytes += message.length;
      // Sealed for the TCP port connected to: a frame opens only on the listener it was meant for.
      if (sealer) return socket.write(encodeLengthPrefixed(sealer.seal(message, Date.now(), { port })));
      socket.write(message);
      return socket.write(NL);
    },
    async drained() {
      if (error) throw error;
      // `once` rejects on 'error'; the 'error' listener above has already recorded it.
      await Promise.race([once(socket, 'drain'), once(socket, 'close')]).catch(() => undefined);
      if (error) throw error;
    },
    async end() {
      if (error) throw error;
      const closed = once(socket, 'close');
      socket.end();
      // The listener answers our FIN with its own; waiting for it means the data got there.
      socket.resume();
      await closed.catch(() => undefined);
      if (error) throw error;
    },
    destroy() {
      socket.destroy();
    },
  };
}
