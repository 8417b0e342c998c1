/**
 * The sending side's entry points: {@link openSender} resolves a destination and opens a socket
 * connected to it (the {@link Sender} class lives in sender-socket.ts), and {@link send} sends one
 * message, reliably with `ack`. UDP stays best effort: a refusal is counted, never thrown.
 */
import { UdpkitError, describeErrno, errnoOf, formatHostPort, optionPhrase } from '../errors.js';
import { isBroadcastAddress } from '../net/broadcast-address.js';
import type { Lookup } from '../types.js';
import { DEFAULT_PORT, checkPayloadSize, validateHost, validatePort } from '../validate.js';
import { bindFailure } from '../socket/bind.js';
import { sendFailure } from '../socket/send-failure.js';
import { loadNative } from '../native/binding.js';
import { openNativeSendIo } from '../socket/native-send-io.js';
import { loadSealing } from '../socket/sealing.js';
import { openDgramSendIo, type ConnectFailure, type ConnectRequest, type SendIo } from '../socket/send-io.js';
import { resolveHost } from '../socket/resolve.js';
import { isMulticastAddress, multicastSendOptions } from '../socket/multicast.js';
import { Sender, type SenderStats } from './sender-socket.js';

export type { DatagramSpans } from '../socket/datagram-spans.js';
export { Sender, type SenderStats } from './sender-socket.js';
export { maxMessageSize, messageTooLarge } from './message-size.js';

/** Options of {@link openSender} and {@link send}. */
export interface SenderOptions {
  /** Destination host name or IP address (IPv6 may carry `%scope`). */
  readonly host: string;
  /** Destination port; default 5000. */
  readonly port?: number;
  /** Resolve to this family only; 0 (default) prefers IPv4. */
  readonly family?: 0 | 4 | 6;
  /** Set SO_BROADCAST; by default it is set when the destination is a broadcast address. */
  readonly broadcast?: boolean;
  /** Local address to send from (its interface carries the datagrams). */
  readonly localAddress?: string;
  /** Local port to send from; default an ephemeral one. */
  readonly localPort?: number;
  /** Datagrams handed to the kernel but not yet confirmed before `write` returns false. */
  readonly highWaterMark?: number;
  /** A shared secret: seal every datagram with it (see docs/protocol.md) and open replies. */
  readonly key?: string | Uint8Array;
  /** Name resolver; tests inject one so no DNS query leaves the machine. */
  readonly lookup?: Lookup;
  /** Name lookup time limit in milliseconds (default 5000). */
  readonly resolveTimeoutMs?: number;
  /** Closes the sender when aborted. */
  readonly signal?: AbortSignal;
  /** To a multicast group: the TTL (hop limit), 0 to 255; default 1, the local link only. */
  readonly ttl?: number;
  /** To a multicast group: the interface to send out of, a name (`eth0`) or one of its addresses. */
  readonly multicastInterface?: string;
  /** To a multicast group: also deliver to listeners on this machine; default true. */
  readonly multicastLoopback?: boolean;
}

/**
 * Resolves the destination and opens a socket connected to it.
 * @example
 * const sender = await openSender({ host: '127.0.0.1', port: 5000 });
 * for (const line of ['a', 'b']) if (!sender.write(Buffer.from(line))) await once(sender, 'drain');
 * await sender.close();
 */
export async function openSender(options: SenderOptions): Promise<Sender> {
  const host = validateHost(options.host);
  const port = validatePort(options.port ?? DEFAULT_PORT);
  const sealing = options.key === undefined ? undefined : await loadSealing(options.key);
  const target = await resolveHost(host, {
    family: options.family ?? 0,
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(options.resolveTimeoutMs !== undefined ? { timeoutMs: options.resolveTimeoutMs } : {}),
  });
  const broadcast = options.broadcast ?? (target.family === 4 && isBroadcastAddress(target.address));
  const multicast = isMulticastAddress(target.address) ? await multicastSendOptions(options, target.family) : undefined;
  const request: ConnectRequest = {
    address: target.address,
    port,
    family: target.family,
    broadcast,
    ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    ...(options.localPort !== undefined ? { localPort: options.localPort } : {}),
    ...(multicast ? { multicast } : {}),
  };
  let io: SendIo;
  try {
    // The native addon sets no multicast options: groups always go through node:dgram.
    const native = multicast ? undefined : loadNative();
    io = native ? openNativeSendIo(native, request) : await openDgramSendIo(request);
  } catch (err) {
    const { step, cause } = err as ConnectFailure;
    if (step === 'bind') throw bindFailure(cause, options.localAddress ?? (target.family === 6 ? '::' : '0.0.0.0'), options.localPort ?? 0);
    const needsBroadcast = errnoOf(cause) === 'EACCES' && !broadcast;
    throw sendFailure(cause, target.address, port, {
      syscall: 'connect',
      ...(needsBroadcast ? { why: `${describeErrno('EACCES')} (a broadcast address needs ${optionPhrase('broadcast')})`, option: 'broadcast' } : {}),
    });
  }
  const sender = new Sender(
    io,
    { address: target.address, port, family: target.family },
    options.highWaterMark ?? 256,
    sealing,
  );
  options.signal?.addEventListener('abort', () => void sender.close(), { once: true });
  return sender;
}

/** Options of {@link send}: a sender's, plus reliable delivery. */
export interface SendOptions extends SenderOptions {
  /**
   * Resend until the listener acknowledges it (see docs/protocol.md, "Reliable delivery"); the
   * promise then resolves, or rejects coded `UDPKIT_UNCONFIRMED`.
   */
  readonly ack?: boolean;
  /** With `ack`: give up after this long without an acknowledgement (ms, default 10000). */
  readonly ackTimeoutMs?: number;
}

/**
 * Sends one datagram and closes. Resolves when the kernel has taken it (like any UDP send this
 * says nothing about arrival), or, with `ack: true`, when the listener has acknowledged it.
 * @example
 * await send('hello', { host: '127.0.0.1', port: 5000 });
 * await send('hello, surely', { host: '127.0.0.1', port: 5000, ack: true });
 */
export async function send(message: Buffer | Uint8Array | string, options: SendOptions): Promise<SenderStats> {
  const data = typeof message === 'string' ? Buffer.from(message) : message;
  checkPayloadSize(data.length, 6);
  const sender = await openSender(options);
  try {
    if (options.ack) {
      const { sendReliably } = await import('./reliable-send.js');
      const result = await sendReliably(sender, [[Buffer.from(data)]], {
        ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      });
      if (result.unconfirmed > 0) {
        const { address, port } = sender.destination;
        const why =
          result.failure === 'refused' ? 'nobody is listening there (port unreachable)' : result.failure === 'aborted' ? 'stopped (aborted) before an acknowledgement came' : 'no acknowledgement came';
        throw new UdpkitError('UDPKIT_UNCONFIRMED', `message to ${formatHostPort(address, port)}/udp not confirmed: ${why}`, { address, port });
      }
    } else await sender.send(data);
  } finally {
    await sender.close();
  }
  return { ...sender.stats };
}
