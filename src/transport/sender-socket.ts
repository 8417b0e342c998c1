/**
 * The socket that openSender (sender.ts) opens: a UDP socket connected to one destination, so sends
 * skip the per-datagram address lookup, replies from anyone else are filtered out by the kernel,
 * and an ICMP "port unreachable" is reported instead of lost. UDP stays best effort: a refusal is
 * counted, never thrown.
 *
 * Longer than most files (about 360 lines) for a reason: it is one class whose methods share the
 * socket's private state (in-flight count, failure, refusal retries, the reply waiter); the
 * three ways to write (write, writeNow, writeSpans) and the reply side each need all of it, and a
 * split would have to expose that state. What could stand alone has moved out: sizes to
 * message-size.ts, opening to sender.ts, the I/O to socket/send-io.ts and socket/native-send-io.ts.
 */
import { EventEmitter } from 'node:events';
import { UdpkitError, describeErrno, errnoOf, formatHostPort, type UdpkitRangeError } from '../errors.js';
import { sendFailure } from '../socket/send-failure.js';
import type { Datagram, SocketState } from '../types.js';
import type { Opener } from '../protocol/opener.js';
import type { Sealer } from '../protocol/seal.js';
import { gsoAllowed, largestSpan, type DatagramSpans } from '../socket/datagram-spans.js';
import { Reply } from '../socket/reply.js';
import type { Sealing } from '../socket/sealing.js';
import { endpointOf, type SendIo } from '../socket/send-io.js';
import { maxMessageSize, messageTooLarge } from './message-size.js';
import { CloseOnce } from './close-once.js';

/** How often one datagram is resent after sends fail with a refusal meant for earlier ones. */
const MAX_REFUSAL_RETRIES = 16;

/** Counters kept by a sender. */
export interface SenderStats {
  datagrams: number;
  bytes: number;
  /** Times the destination answered ICMP port unreachable (nobody listening there). */
  refused: number;
}

/** A socket connected to one destination. Emits `'drain'` after `write` returned false. */
export class Sender extends EventEmitter {
  readonly #closer = new CloseOnce();
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

  /** @internal use openSender (sender.ts) */
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

  /**
   * Asks for a receive buffer of `bytes` (SO_RCVBUF; the kernel caps it at net.core.rmem_max),
   * for a sender that takes many replies at once: `udpkit bench --reverse` receives a whole test.
   * @example sender.setReceiveBufferSize(8 * 1024 * 1024)
   */
  setReceiveBufferSize(bytes: number): void {
    this.#io.setReceiveBufferSize(bytes);
  }

  /**
   * How many replies the kernel dropped on this socket because its buffer was full (Linux), or
   * `undefined` where that cannot be read.
   * @example const before = await sender.kernelDrops();
   */
  kernelDrops(): Promise<number | undefined> {
    return this.#state === 'bound' ? this.#io.kernelDrops().catch(() => undefined) : Promise.resolve(undefined);
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
  async #sendSpans({ bytes, starts, ends, count, gso = false }: DatagramSpans): Promise<void> {
    const io = this.#io as Required<SendIo>;
    const segment = gso && gsoAllowed();
    let i = 0;
    let retries = MAX_REFUSAL_RETRIES;
    while (i < count && !this.#failure && this.#state === 'bound') {
      let taken: number;
      try {
        taken = io.sendSpans(bytes, starts, ends, i, count, segment);
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

  /** Closes the socket after in-flight sends complete. Safe to call more than once, also at once. */
  close(): Promise<void> {
    return this.#closer.run(async () => {
      await this.flush().catch(() => undefined);
      this.#state = 'closing';
      await this.#io.close();
      this.#state = 'closed';
    });
  }
}
