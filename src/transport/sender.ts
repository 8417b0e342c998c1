/**
 * The sending side: a socket connected to one destination, so sends skip the per-datagram address
 * lookup, replies from anyone else are filtered out by the kernel, and an ICMP "port unreachable"
 * is reported instead of lost. UDP stays best effort: a refusal is counted, never thrown.
 */
import { EventEmitter } from 'node:events';
import { UdpkitError, describeErrno, errnoOf, formatHostPort, optionPhrase } from '../errors.js';
import { isBroadcastAddress } from '../net/broadcast-address.js';
import type { Datagram, Lookup, SocketState } from '../types.js';
import { UdpkitRangeError } from '../errors.js';
import type { Opener } from '../protocol/opener.js';
import { SEAL_OVERHEAD } from '../protocol/seal-layout.js';
import type { Sealer } from '../protocol/seal.js';
import { DEFAULT_PORT, MAX_UDP_PAYLOAD_IPV4, MAX_UDP_PAYLOAD_IPV6, checkPayloadSize, validateHost, validatePort } from '../validate.js';
import { bindFailure } from '../socket/bind.js';
import { sendFailure } from '../socket/send-failure.js';
import { largestSpan, type DatagramSpans } from '../socket/datagram-spans.js';
import { Reply } from '../socket/reply.js';
import { loadNative } from '../native/binding.js';
import { openNativeSendIo } from '../socket/native-send-io.js';
import { loadSealing, type Sealing } from '../socket/sealing.js';
import { endpointOf, openDgramSendIo, type ConnectFailure, type ConnectRequest, type SendIo } from '../socket/send-io.js';
import { resolveHost } from '../socket/resolve.js';
import { isMulticastAddress, multicastSendOptions } from '../socket/multicast.js';

export type { DatagramSpans } from '../socket/datagram-spans.js';

/**
 * The largest message one datagram to a destination of `family` carries, sealed or not.
 * @example maxMessageSize(4, false) // 65507
 */
export function maxMessageSize(family: 4 | 6, sealed: boolean): number {
  return (family === 4 ? MAX_UDP_PAYLOAD_IPV4 : MAX_UDP_PAYLOAD_IPV6) - (sealed ? SEAL_OVERHEAD : 0);
}

/**
 * The error for a message over {@link maxMessageSize}; `size` is undefined when it is only known
 * to be larger (a read stopped at the limit), which keeps `/dev/zero` from filling memory.
 * @example messageTooLarge(4, false, 70000).message // 'message is 70000 bytes; one UDP datagram over IPv4 carries at most 65507'
 */
export function messageTooLarge(family: 4 | 6, sealed: boolean, size: number | undefined): UdpkitRangeError {
  const limit = maxMessageSize(family, sealed);
  const is = size === undefined ? `more than ${limit}` : String(size);
  const how = sealed ? 'sealed with a key, one UDP datagram' : 'one UDP datagram';
  return new UdpkitRangeError('UDPKIT_MESSAGE_TOO_LARGE', `message is ${is} bytes; ${how} over IPv${family} carries at most ${limit}`);
}

/** How often one datagram is resent after sends fail with a refusal meant for earlier ones. */
const MAX_REFUSAL_RETRIES = 16;

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

/** Counters kept by a sender. */
export interface SenderStats {
  datagrams: number;
  bytes: number;
  /** Times the destination answered ICMP port unreachable (nobody listening there). */
  refused: number;
}

/** A socket connected to one destination. Emits `'drain'` after `write` returned false. */
export class Sender extends EventEmitter {
  #state: SocketState = 'bound';
  readonly #io: SendIo;
  readonly #highWaterMark: number;
  readonly #limitFamily: 4 | 6;
  #inFlight = 0;
  #failure: UdpkitError | undefined;
  #flushWaiters: Array<() => void> = [];
  /** A {@link writeSpans} still sending. */
  #spans: Promise<void> | undefined;
  #replyWaiter: ((d: Datagram) => void) | undefined;
  readonly stats: SenderStats = { datagrams: 0, bytes: 0, refused: 0 };
  /** The resolved destination. */
  readonly destination: { readonly address: string; readonly port: number; readonly family: 4 | 6 };

  /** @internal use {@link openSender} */
  readonly #sealer: Sealer | undefined;
  readonly #opener: Opener | undefined;

  constructor(
    io: SendIo,
    destination: { address: string; port: number; family: 4 | 6 },
    highWaterMark: number,
    sealing?: Sealing,
  ) {
    super();
    this.#io = io;
    this.destination = destination;
    this.#limitFamily = destination.family;
    this.#highWaterMark = highWaterMark;
    this.#sealer = sealing?.sealer;
    this.#opener = sealing?.opener;
    io.onError((err) => {
      // On a connected socket an ICMP refusal surfaces on the next receive as ECONNREFUSED.
      if (errnoOf(err) === 'ECONNREFUSED') this.#refusedOnce();
      else this.#failure ??= this.#sendFailure(err);
    });
  }

  #listening = false;
  #messageHandler: ((d: Datagram) => void) | undefined;

  #refusedOnce(): void {
    this.stats.refused++;
    this.emit('refused');
  }

  /**
   * Hands every datagram that comes back (opened, when keyed) to `handler`, for protocols that
   * expect many replies (acknowledgements). Emits `'refused'` when the destination answers
   * ICMP port unreachable. `undefined` stops handing them over.
   */
  onMessage(handler: ((d: Datagram) => void) | undefined): void {
    this.#messageHandler = handler;
    if (handler) this.#listenForReplies();
  }

  #bytesHandler: ((bytes: Buffer, start: number, length: number) => void) | undefined;

  /**
   * Hands every reply (opened, when keyed) to `handler` as `bytes[start, start + length)`, where
   * it sits in the receive buffer: valid only during the call, and nothing is made for it. For a
   * protocol that reads a few bytes of each reply and keeps none, such as round trips, where an
   * object and a copy per reply are time on every exchange. `undefined` stops it.
   * @example sender.onMessageBytes((b, start) => void (b[start] === 0x55 && heard++));
   */
  onMessageBytes(handler: ((bytes: Buffer, start: number, length: number) => void) | undefined): void {
    this.#bytesHandler = handler;
    if (handler) this.#listenForReplies();
  }

  /** Starts taking replies, the first time they are wanted (the native socket then reads too). */
  #listenForReplies(): void {
    if (this.#listening) return;
    this.#listening = true;
    this.#io.onMessage((bytes, start, length, address, port, family) => {
      const waiter = this.#replyWaiter;
      if (!waiter && !this.#messageHandler && !this.#bytesHandler) return;
      let plain = bytes;
      let at = start;
      let size = length;
      if (this.#opener) {
        // Replies are sealed for the port they were sent to: ours.
        const opened = this.#opener.open(bytes.subarray(start, start + length), Date.now(), this.#localPort());
        if (!opened.ok) return;
        plain = opened.plaintext;
        at = 0;
        size = plain.length;
      }
      this.#bytesHandler?.(plain, at, size);
      if (!waiter && !this.#messageHandler) return;
      // The receive buffer is used again for the next replies: a Datagram has its own copy.
      const copy = Buffer.allocUnsafe(size);
      plain.copy(copy, 0, at, at + size);
      const d = new Reply(copy, endpointOf(address, port, family), Date.now());
      this.#messageHandler?.(d);
      if (!waiter) return;
      this.#replyWaiter = undefined;
      waiter(d);
    });
  }

  get state(): SocketState {
    return this.#state;
  }

  /** The largest message `write` takes: the destination family's UDP limit, less sealing. */
  get maxMessageSize(): number {
    return maxMessageSize(this.#limitFamily, this.#sealer !== undefined);
  }

  /** The error `write` throws for a message of `size` bytes (undefined: only known to be larger). */
  tooLarge(size: number | undefined): UdpkitRangeError {
    return messageTooLarge(this.#limitFamily, this.#sealer !== undefined, size);
  }

  /**
   * Gives an ICMP "port unreachable" that the kernel already holds for this socket the chance to
   * be counted in `stats.refused`, without a timer: it listens for replies and lets one poll of
   * the event loop pass. On loopback the refusal is there as soon as the send completes; from a
   * remote host it takes a round trip, which this does not wait for.
   */
  async takeRefusal(): Promise<number> {
    if (this.#state !== 'bound') return this.stats.refused;
    this.#listenForReplies();
    // The first immediate may run before the next poll phase; the second runs after it.
    await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
    return this.stats.refused;
  }

  #port: number | undefined;

  #localPort(): number {
    this.#port ??= this.#io.localAddress().port;
    return this.#port;
  }

  /** The local address and port datagrams are sent from. */
  localAddress(): { address: string; port: number } {
    return this.#io.localAddress();
  }

  /** Datagrams handed to the kernel whose send has not completed yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  #sendFailure(err: unknown): UdpkitError {
    const { address, port } = this.destination;
    return sendFailure(err, address, port, { syscall: 'send' });
  }

  /**
   * Queues one datagram. Returns false when `highWaterMark` sends are in flight: wait for
   * `'drain'` before writing more. A failure other than a refusal is kept and thrown by `flush`.
   */
  write(data: Buffer | Uint8Array): boolean {
    return this.#write(data, false);
  }

  /**
   * Like {@link write}, but when nothing written earlier still waits, the datagram goes to the
   * kernel before this returns, alone, instead of in a later turn of the event loop with the
   * others written meanwhile. For request and response (round trips), where a reply should not
   * wait for the event loop; for a burst, `write` makes fewer system calls.
   * @example sender.writeNow(request);
   */
  writeNow(data: Buffer | Uint8Array): boolean {
    return this.#write(data, true);
  }

  #write(data: Buffer | Uint8Array, now: boolean): boolean {
    if (data.length > this.maxMessageSize) throw this.tooLarge(data.length);
    if (this.#failure) return true;
    if (this.#state !== 'bound') throw new UdpkitError('UDPKIT_CLOSED', 'the sender is closed');
    const payload = this.#sealer ? this.#sealer.seal(data, Date.now(), { port: this.destination.port }) : data;
    if (!now || this.#inFlight > 0 || !this.#io.sendNow || !this.#sendNow(payload, data.length)) this.#transmit(payload, data.length, MAX_REFUSAL_RETRIES);
    return this.#inFlight < this.#highWaterMark;
  }

  /** At once, as {@link #transmit} but with no callback; false when it has to go that way. */
  #sendNow(data: Buffer | Uint8Array, size: number): boolean {
    for (let retries = MAX_REFUSAL_RETRIES; ; ) {
      try {
        if (!this.#io.sendNow!(data)) return false;
      } catch (err) {
        if (errnoOf(err) === 'ECONNREFUSED') {
          this.#refusedOnce();
          if (retries-- > 0) continue;
        }
        this.#failure ??= this.#sendFailure(err);
        return true;
      }
      this.stats.datagrams++;
      this.stats.bytes += size;
      return true;
    }
  }

  /** `size` is the message's own length, which is what the stats count (not the sealed length). */
  #transmit(data: Buffer | Uint8Array, size: number, retries: number): void {
    this.#inFlight++;
    this.#io.send(data, (err) => {
      this.#inFlight--;
      if (err) {
        if (errnoOf(err) === 'ECONNREFUSED') {
          // The refusal belonged to an earlier datagram; this one was not sent. Each retry
          // consumes one pending refusal, so a few retries always get it out.
          this.#refusedOnce();
          if (retries > 0 && this.#state === 'bound') this.#transmit(data, size, retries - 1);
          else this.#failure ??= this.#sendFailure(err);
        } else this.#failure ??= this.#sendFailure(err);
      } else {
        this.stats.datagrams++;
        this.stats.bytes += size;
      }
      if (this.#inFlight === this.#highWaterMark - 1) this.emit('drain');
      if (this.#inFlight === 0 && this.#flushWaiters.length > 0) for (const w of this.#flushWaiters.splice(0)) w();
    });
  }

  /** Resolves when every written datagram has been handed to the kernel; rejects on a failure. */
  async flush(): Promise<void> {
    await this.#idle();
    if (this.#failure) throw this.#failure;
  }

  /** Resolves when nothing written is still waiting to be sent. */
  async #idle(): Promise<void> {
    while (this.#spans) await this.#spans;
    await this.#written();
  }

  /** Resolves when every datagram given to `write` has been handed over. */
  async #written(): Promise<void> {
    while (this.#inFlight > 0) await new Promise<void>((resolve) => this.#flushWaiters.push(resolve));
  }

  /**
   * Sends every datagram of `spans`, in order, after all written before, and resolves once the
   * kernel has them (or a failure or `close` stopped them: `flush` throws the failure). `spans`
   * may be reused after that. On the native socket no object is made per datagram, which keeps a
   * sender of millions of lines at a few megabytes of heap; otherwise each goes through `write`.
   * Datagrams written meanwhile may go out among these.
   * @example
   * const bytes = Buffer.from('onetwo');
   * await sender.writeSpans({ bytes, starts: Uint32Array.of(0, 3), ends: Uint32Array.of(3, 6), count: 2 });
   */
  async writeSpans(spans: DatagramSpans): Promise<void> {
    const largest = largestSpan(spans);
    if (largest > this.maxMessageSize) throw this.tooLarge(largest);
    if (this.#state !== 'bound') throw new UdpkitError('UDPKIT_CLOSED', 'the sender is closed');
    // One at a time, in the order called; set with no await after the check.
    while (this.#spans) await this.#spans;
    const sending = this.#written().then(() => (this.#sealer || !this.#io.sendSpans ? this.#writeEach(spans) : this.#sendSpans(spans)));
    this.#spans = sending;
    try {
      await sending;
    } finally {
      if (this.#spans === sending) this.#spans = undefined;
    }
  }

  /** Sealed, or through node:dgram: one datagram at a time. */
  async #writeEach({ bytes, starts, ends, count }: DatagramSpans): Promise<void> {
    for (let i = 0; i < count && this.#state === 'bound'; i++) {
      if (!this.write(bytes.subarray(starts[i], ends[i]))) await new Promise((resolve) => this.once('drain', resolve));
    }
    await this.#written();
  }

  /** Native: one sendmmsg per 64, straight from the buffer. */
  async #sendSpans({ bytes, starts, ends, count }: DatagramSpans): Promise<void> {
    const io = this.#io as Required<SendIo>;
    let i = 0;
    let retries = MAX_REFUSAL_RETRIES;
    while (i < count && !this.#failure && this.#state === 'bound') {
      let taken: number;
      try {
        taken = io.sendSpans(bytes, starts, ends, i, count);
      } catch (err) {
        // As in #transmit: a refusal meant for an earlier datagram; this one was not sent.
        if (errnoOf(err) === 'ECONNREFUSED') {
          this.#refusedOnce();
          if (retries-- > 0) continue;
        }
        this.#failure ??= this.#sendFailure(err);
        break;
      }
      if (taken === 0) {
        await io.writable();
        continue;
      }
      retries = MAX_REFUSAL_RETRIES;
      for (let k = i; k < i + taken; k++) this.stats.bytes += (ends[k] as number) - (starts[k] as number);
      this.stats.datagrams += taken;
      i += taken;
    }
  }

  /** Sends one datagram and resolves once the kernel has it. */
  async send(data: Buffer | Uint8Array | string): Promise<void> {
    this.write(typeof data === 'string' ? Buffer.from(data) : data);
    await this.flush();
  }

  /**
   * Waits for one datagram from the destination; `undefined` after `timeoutMs`, or as soon as
   * the destination answers "port unreachable" (nobody listens there; `stats.refused` says so).
   */
  receive(timeoutMs: number): Promise<Datagram | undefined> {
    this.#listenForReplies();
    return new Promise((resolve) => {
      const give = (d: Datagram | undefined): void => {
        clearTimeout(timer);
        this.off('refused', onRefused);
        this.#replyWaiter = undefined;
        resolve(d);
      };
      const onRefused = (): void => give(undefined);
      const timer = setTimeout(() => give(undefined), timeoutMs);
      this.once('refused', onRefused);
      this.#replyWaiter = give;
    });
  }

  #closed: Promise<void> | undefined;

  /** Closes the socket after in-flight sends complete. Safe to call more than once, also at once. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    await this.flush().catch(() => undefined);
    this.#state = 'closing';
    await this.#io.close();
    this.#state = 'closed';
  }
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
