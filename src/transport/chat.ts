/**
 * `udpkit chat`'s engine: runs the sans-I/O {@link IpmsgSession} over one listening socket
 * (port 2425 by default, IPv4, SO_BROADCAST on) and one timer. Entries and exits go to the
 * directed broadcast address of every up IPv4 interface, and to any peers named in
 * `announceTo`. With a `key`, every packet is sealed: only udpkit peers with the same key
 * understand each other, and plain IP Messenger clients no longer do.
 *
 * Longer than most files (about 340 lines): every user action (messages, sealed messages,
 * absence, version questions, file offers) is a small method that hands the session's datagrams
 * to the one socket and timer kept here; the file transfer itself lives in chat-files.ts.
 */
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { UdpkitError, UdpkitRangeError } from '../errors.js';
import { listInterfaces, type NetworkInterface } from '../net/interfaces.js';
import { IPMSG_PORT } from '../protocol/ipmsg-packet.js';
import { findPeers } from '../protocol/ipmsg-peers.js';
import {
  IpmsgSession,
  type IpmsgDatagram,
  type IpmsgEndpoint,
  type IpmsgEvent,
  type IpmsgPeer,
  type IpmsgSendOptions,
  type IpmsgSessionOptions,
  type IpmsgStats,
  type SealedMessage,
} from '../protocol/ipmsg-session.js';
import type { DatagramBatch } from '../socket/batch.js';
import { listen, type BoundAddress, type Listener } from './listener.js';
import type { SocketState } from '../types.js';
import { validatePort } from '../validate.js';
import { chatAnnouncement } from './chat-announce.js';
import { encodeAttachments } from '../protocol/ipmsg-attach.js';
import type { OutgoingOffer } from '../protocol/ipmsg-files.js';
import { ChatFiles, type ChatFilesOptions } from './chat-files.js';
import { milliseconds } from './clock.js';
import { CloseOnce } from './close-once.js';

/** Options of {@link chat}. Times in ms, as in {@link IpmsgSessionOptions}. */
export interface ChatOptions
  extends Pick<
    IpmsgSessionOptions,
    | 'group'
    | 'legacyEncoding'
    | 'probeAfterMs'
    | 'probeIntervalMs'
    | 'dropAfterMs'
    | 'retransmitMs'
    | 'maxRetransmits'
    | 'maxPeers'
    | 'maxPeersPerAddress'
    | 'answerLimit'
    | 'version'
    | 'maxSealedBytes'
  > {
  /** The name others see. */
  readonly nickname: string;
  /** UDP port to listen on, 0 for any; default 2425. Broadcasts go to this port (2425 for 0). */
  readonly port?: number;
  /** The user name in every packet; default the login name. */
  readonly user?: string;
  /** The host name in every packet; default `os.hostname()`. */
  readonly host?: string;
  /** Announce to every local network's broadcast address; default true. */
  readonly broadcast?: boolean;
  /** Also announce to these (unicast: peers on other networks, or tests on loopback). */
  readonly announceTo?: readonly IpmsgEndpoint[];
  /** The interfaces to broadcast on; default {@link listInterfaces}() (tests pass fixtures). */
  readonly interfaces?: readonly NetworkInterface[];
  /** A shared secret: seal every packet. Breaks interoperation with IP Messenger clients. */
  readonly key?: string | Uint8Array;
  /** Says goodbye and closes when aborted. */
  readonly signal?: AbortSignal;
  /** File transfer limits; `false`: no TCP server, no files (always so with a `key`: TCP is not sealed). */
  readonly files?: Omit<ChatFilesOptions, 'port' | 'user' | 'host'> | false;
}

/** Counters of a {@link Chat}: the session's, sends the OS refused, datagrams the key refused. */
export interface ChatStats extends IpmsgStats {
  sendFailed: number;
  /** Datagrams refused before reaching the session: not sealed with the key (see `key`). */
  refused: number;
}

type EventOf<T extends IpmsgEvent['type']> = Extract<IpmsgEvent, { type: T }>;

/** A name usable as an IPMsg user or host field: no colon, no NUL. */
const fieldSafe = (s: string): string => s.replace(/[:\0]/g, '_') || 'udpkit';

function loginName(): string {
  try {
    return fieldSafe(os.userInfo().username);
  } catch {
    return 'udpkit';
  }
}

/**
 * A running chat participant. Emits each {@link IpmsgEvent} under its type (`'join'`,
 * `'leave'`, `'message'`, `'delivered'`, `'undelivered'`, `'sealed'`, `'read'`, `'absence'`,
 * `'info'`), plus `'error'` and `'close'`.
 */
export class Chat extends EventEmitter {
  readonly #closer = new CloseOnce();
  #state: SocketState = 'bound';
  readonly #listener: Listener;
  readonly #session: IpmsgSession;
  #timer: NodeJS.Timeout | undefined;
  #timerAt: number | undefined;
  #sendFailed = 0;
  /** Where entries and exits go. */
  readonly targets: readonly IpmsgEndpoint[];
  /** Files and folders both ways (its own events), or `undefined` when off (see `files`). */
  readonly files: ChatFiles | undefined;

  /** True for a peer that the entries and exits sent to {@link targets} reach. */
  readonly #reach: (peer: IpmsgEndpoint) => boolean;

  /** @internal use {@link chat} */
  constructor(listener: Listener, session: IpmsgSession, targets: readonly IpmsgEndpoint[], reach: (peer: IpmsgEndpoint) => boolean, files?: ChatFiles) {
    super();
    this.files = files;
    this.#listener = listener;
    this.#session = session;
    this.targets = targets;
    this.#reach = reach;
    listener.onBatch((b) => this.#onBatch(b));
    listener.on('error', (err: Error) => this.emit('error', err));
    this.#flush(session.start(now()));
  }

  override on<T extends IpmsgEvent['type']>(event: T, listener: (e: EventOf<T>) => void): this;
  override on(event: 'error', listener: (err: Error) => void): this;
  override on(event: 'close', listener: () => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  /** The address and port it listens on. */
  address(): BoundAddress {
    return this.#listener.address();
  }

  get state(): SocketState {
    return this.#state;
  }

  /** Known peers, in the order they joined. */
  peers(): IpmsgPeer[] {
    return this.#session.peers();
  }

  /** Peers called `who`: by nickname (exact, else ignoring case), else by address or address:port. */
  find(who: string): IpmsgPeer[] {
    return findPeers(this.#session.peers(), who);
  }

  /** Messages sent to chosen peers whose receipt has not come yet nor been given up. */
  get pending(): number {
    return this.#session.pending;
  }

  get stats(): ChatStats {
    return { ...this.#session.stats, sendFailed: this.#sendFailed, refused: this.#listener.stats.refused };
  }

  /**
   * Datagrams the kernel dropped because the receive buffer was full (`undefined` where that
   * cannot be read): with {@link stats}, it accounts for every datagram sent to this chat. Read
   * it before {@link close}.
   */
  kernelDrops(): Promise<number | undefined> {
    return this.#listener.kernelDrops();
  }

  /**
   * Sends `text` to each of `to`, with receipts (`'delivered'` or `'undelivered'` follows for
   * each), or to every known peer with `'all'`, without. Returns how many peers it went to.
   * @throws `UDPKIT_MESSAGE_TOO_LARGE`, `UDPKIT_INVALID_ARGUMENT` (NUL in text), `UDPKIT_CLOSED`.
   */
  send(text: string, to: readonly IpmsgPeer[] | 'all', options: IpmsgSendOptions = {}): number {
    this.#checkBound();
    const out = this.#session.send(text, to, now(), options);
    this.#flush(out);
    return out.length;
  }

  /**
   * Shows the sealed message `id` (a `'message'` event with `sealed: true`) and tells its sender
   * it was opened. @throws `UDPKIT_INVALID_ARGUMENT` for a number with no unopened message.
   */
  open(id: number): void {
    this.#checkBound();
    this.#flush(this.#session.open(id, now()));
  }

  /** Sealed messages not opened yet, oldest first. */
  unopened(): SealedMessage[] {
    return this.#session.unopened();
  }

  /** Our absence text, or `undefined` when present. */
  get absence(): string | undefined {
    return this.#session.absence;
  }

  /**
   * Goes away (`text`, or a default when empty: messages to us alone get it as an automatic
   * answer) or comes back (`undefined`), and tells everyone.
   */
  setAbsence(text: string | undefined): void {
    this.#checkBound();
    this.#flush(this.#session.setAbsence(text, now(), this.#unreached()));
  }

  /** Asks `peer` for its version or absence text; an `'info'` event follows if it answers. */
  ask(peer: IpmsgPeer, kind: 'version' | 'absence'): void {
    this.#checkBound();
    this.#flush(this.#session.ask(peer, kind));
  }

  #checkBound(): void {
    if (this.#state !== 'bound') throw new UdpkitError('UDPKIT_CLOSED', 'the chat has ended');
  }

  /** Peers that announcements to {@link targets} do not reach. */
  #unreached(): IpmsgPeer[] {
    return this.#session.peers().filter((p) => !this.#reach(p));
  }

  /**
   * Offers the files and folders at `paths` to `to` (its `offered` event follows on
   * {@link files}); they are served to its address until fetched or cancelled.
   * @throws `UDPKIT_INVALID_ARGUMENT` (a link, a special file, files are off), `UDPKIT_IO_FAILED`, `UDPKIT_CLOSED`.
   */
  async sendFiles(to: IpmsgPeer, paths: readonly string[], text = ''): Promise<OutgoingOffer> {
    if (this.files === undefined) throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', 'file transfer is off (with a key: TCP is not sealed)');
    const prepared = await this.files.prepare(paths);
    if (this.#state !== 'bound') throw new UdpkitError('UDPKIT_CLOSED', 'the chat has ended');
    const { packetNo, datagrams } = this.#session.sendFiles(text, to, encodeAttachments(prepared), now());
    const offer = this.files.record(to, packetNo, prepared);
    void this.#flush(datagrams);
    return offer;
  }

  /** Withdraws our offer `id`, or declines an offer to us (RELEASEFILES to its sender). False if unknown. */
  cancelFiles(id: number): boolean {
    const o = this.files?.table.cancel(id);
    if (o === undefined) return false;
    if ('port' in o && this.#state === 'bound') void this.#flush(this.#session.releaseFiles(o, o.packetNo));
    return true;
  }

  #onBatch(b: DatagramBatch): void {
    const t = now();
    const out: IpmsgDatagram[] = [];
    for (let i = 0; i < b.count; i++) {
      const start = b.starts[i] as number;
      const from = { address: b.addresses[b.senders[i] as number] as string, port: b.ports[i] as number };
      out.push(...this.#session.handleDatagram(b.data.subarray(start, start + (b.lengths[i] as number)), from, t));
    }
    this.#flush(out);
  }

  /** Sends, emits what happened, and arms the one timer for the next deadline. */
  #flush(out: readonly IpmsgDatagram[]): Promise<void> {
    const sent = Promise.all(out.map((d) => this.#listener.sendTo(d.data, d.port, d.address).catch(() => void this.#sendFailed++))).then(() => undefined);
    for (const e of this.#session.pollEvents()) {
      if (e.type === 'offer') this.files?.offered(e.from, e.packetNo, e.files);
      else if (e.type === 'release') this.files?.released(e.from, e.packetNo);
      else this.emit(e.type, e);
    }
    const next = this.#session.nextDeadline();
    if (this.#state !== 'bound' || next === undefined || (this.#timerAt !== undefined && this.#timerAt <= next)) return sent;
    clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timerAt = undefined;
      if (this.#state === 'bound') void this.#flush(this.#session.handleTimeout(now()));
    }, Math.max(0, next - now()));
    this.#timer.unref();
    return sent;
  }

  /** Says goodbye (BR_EXIT to every target) and closes the socket. Safe to call more than once: every call waits for the one close. */
  close(): Promise<void> {
    return this.#closer.run(async () => {
      this.#state = 'closing';
      clearTimeout(this.#timer);
      this.#listener.onBatch(undefined);
      await this.#flush(this.#session.quit(now(), this.#unreached()));
      await this.files?.close();
      await this.#listener.close();
      this.#state = 'closed';
      this.emit('close');
    });
  }
}

const now = milliseconds;

/** Tries for port 0: the kernel's free UDP port may be a TCP port in use (an outgoing connection's, say). */
const EPHEMERAL_ATTEMPTS = 20;

/**
 * Binds the UDP port and, unless files are off, TCP on the same number (IP Messenger's rule).
 * With port 0 a UDP port whose TCP twin is taken is given back and another one tried.
 */
async function bindChat(
  options: ChatOptions,
  port: number,
  fileOptions: Pick<ChatFilesOptions, 'user' | 'host'> & Partial<ChatFilesOptions>,
): Promise<{ listener: Listener; files: ChatFiles | undefined }> {
  for (let attempt = 1; ; attempt++) {
    const listener = await listen({ port, family: 4, reliable: false, broadcast: true, ...(options.key !== undefined ? { key: options.key } : {}) });
    if (options.files === false || options.key !== undefined) return { listener, files: undefined };
    try {
      return { listener, files: await ChatFiles.listen({ ...fileOptions, ...options.files, port: listener.address().port }) };
    } catch (err) {
      await listener.close();
      if (port !== 0 || attempt >= EPHEMERAL_ATTEMPTS || !(err instanceof UdpkitError) || err.code !== 'UDPKIT_BIND_FAILED') throw err;
    }
  }
}

/**
 * Joins the IP Messenger network: binds the port, announces itself, and keeps the peer table.
 * Resolves once bound and announced.
 * @example
 * const c = await chat({ nickname: 'Alice' });
 * c.on('message', (m) => console.log(`${m.from.name}: ${m.text}`));
 * c.on('join', ({ peer }) => c.send('hi!', [peer]));
 * // ...
 * await c.close();
 */
export async function chat(options: ChatOptions): Promise<Chat> {
  const port = validatePort(options.port ?? IPMSG_PORT, { allowZero: true });
  options.signal?.throwIfAborted();
  const interfaces = options.broadcast === false ? undefined : (options.interfaces ?? (await listInterfaces()));
  const { targets, reach } = chatAnnouncement(options, port || IPMSG_PORT, interfaces);
  const { nickname, group, legacyEncoding, probeAfterMs, probeIntervalMs, dropAfterMs, retransmitMs, maxRetransmits, maxPeers, maxPeersPerAddress, answerLimit, version, maxSealedBytes } = options;
  const [user, host] = [fieldSafe(options.user ?? loginName()), fieldSafe(options.host ?? os.hostname())];
  const session = new IpmsgSession({
    ...{ nickname, group, legacyEncoding, probeAfterMs, probeIntervalMs, dropAfterMs, retransmitMs, maxRetransmits, maxPeers, maxPeersPerAddress, answerLimit, version, maxSealedBytes },
    user,
    host,
    broadcast: targets,
    firstPacketNo: ((Math.floor(Date.now() / 1000) + randomInt(1 << 20)) % 0x7fffffff) + 1,
  });
  const { listener, files } = await bindChat(options, port, { ...(legacyEncoding !== undefined ? { legacyEncoding } : {}), user, host });
  const c = new Chat(listener, session, targets, reach, files);
  const signal = options.signal;
  if (signal?.aborted) await c.close();
  else signal?.addEventListener('abort', () => void c.close(), { once: true });
  return c;
}
