/**
 * The relay's clients: one upstream socket each, so the upstream's replies can be told apart and
 * sent back to the right client. Kept in order of last activity, so the longest silent is
 * always first: the one to expire or to give way when the table is full.
 */
import type { DatagramBatch } from '../socket/batch.js';
import { listen, type Listener } from './listener.js';
import type { ResolvedAddress } from '../socket/resolve.js';

/** Receive buffer asked for per upstream socket: replies to one client. */
const SESSION_RECEIVE_BUFFER = 1024 * 1024;

const keyOf = (address: string, port: number): string => `${port} ${address}`;

/** One client of the relay. */
export interface RelaySession {
  /** The client's address as the listening socket must be given it to reply. */
  readonly clientAddress: string;
  readonly clientPort: number;
  /** Flow keys for the impairment core, one per direction. */
  readonly flows: { readonly up: number; readonly down: number };
  /** The upstream socket once bound; `undefined` if binding failed or the session closed first. */
  readonly ready: Promise<Listener | undefined>;
  /** The same socket, set as soon as it is bound: a send can then go out at once. */
  socket: Listener | undefined;
  lastActive: number;
  closed: boolean;
}

/** What {@link RelaySessions} needs to know and whom it tells. */
export interface RelaySessionsOptions {
  readonly upstream: ResolvedAddress;
  readonly idleTimeoutMs: number;
  readonly maxSessions: number;
  /**
   * Datagrams that reached a client's upstream socket (from the upstream address, any port);
   * `port` is that socket's own port.
   */
  readonly onReply: (session: RelaySession, batch: DatagramBatch, port: number) => void;
  /** A session ended (expired, replaced, failed or closed). */
  readonly onClose: (session: RelaySession) => void;
}

/**
 * The client table.
 * @example
 * const sessions = new RelaySessions({ upstream, idleTimeoutMs: 60_000, maxSessions: 256, onReply, onClose });
 * const s = sessions.get('::ffff:127.0.0.1', 40000, milliseconds());
 */
export class RelaySessions {
  readonly #byClient = new Map<string, RelaySession>();
  readonly #o: RelaySessionsOptions;
  readonly #idleMs: number;
  #opened = 0;
  /** The session touched last: already at the back of the line, so touching it again moves nothing. */
  #newest: RelaySession | undefined;

  constructor(options: RelaySessionsOptions) {
    this.#o = options;
    this.#idleMs = options.idleTimeoutMs;
  }

  /** Sessions open now. */
  get size(): number {
    return this.#byClient.size;
  }

  /** Sessions opened since the start. */
  get opened(): number {
    return this.#opened;
  }

  /** The client's session, opened if new, marked active at `now` (ms). */
  get(address: string, port: number, now: number): RelaySession {
    const newest = this.#newest;
    // A batch is mostly one client's: skip the key and the map for a run of them.
    if (newest !== undefined && !newest.closed && newest.clientPort === port && newest.clientAddress === address) {
      newest.lastActive = now;
      return newest;
    }
    const key = keyOf(address, port);
    const known = this.#byClient.get(key);
    if (known !== undefined) {
      this.touch(known, now);
      return known;
    }
    const oldest = this.#byClient.values().next().value;
    if (oldest !== undefined && this.#byClient.size >= this.#o.maxSessions) this.#close(oldest);
    const id = this.#opened++;
    const session: RelaySession = {
      clientAddress: address,
      clientPort: port,
      flows: { up: 2 * id, down: 2 * id + 1 },
      // The callbacks run after binding, when `session` exists.
      ready: this.#bind().then((l) => this.#adopt(session, l), () => this.#failed(session)),
      socket: undefined,
      lastActive: now,
      closed: false,
    };
    this.#byClient.set(key, session);
    this.#newest = session;
    return session;
  }

  /** Marks a session active at `now`: it moves to the back of the line for expiry. */
  touch(session: RelaySession, now: number): void {
    if (session.closed) return;
    session.lastActive = now;
    if (session === this.#newest) return;
    this.#newest = session;
    const key = keyOf(session.clientAddress, session.clientPort);
    if (this.#byClient.delete(key)) this.#byClient.set(key, session);
  }

  /** Closes the sessions silent for the idle timeout at `now`. */
  expire(now: number): void {
    for (const s of this.#byClient.values()) {
      if (s.lastActive + this.#idleMs > now) return;
      this.#close(s);
    }
  }

  /** When the longest silent session expires (µs), or `undefined` with none open. */
  nextExpiry(): number | undefined {
    const oldest = this.#byClient.values().next().value;
    return oldest === undefined ? undefined : oldest.lastActive + this.#idleMs;
  }

  /** Closes every session and waits for their sockets to close. */
  async closeAll(): Promise<void> {
    const all = [...this.#byClient.values()];
    for (const s of all) this.#close(s);
    await Promise.all(all.map((s) => s.ready.then((l) => l?.close())));
  }

  #bind(): Promise<Listener> {
    const { upstream } = this.#o;
    return listen({
      port: 0,
      family: upstream.family,
      allow: upstream.address.replace(/%.*$/, ''),
      receiveBufferSize: SESSION_RECEIVE_BUFFER,
      // A relay forwards bytes; it must never answer --ack traffic itself.
      reliable: false,
    });
  }

  async #adopt(session: RelaySession, socket: Listener): Promise<Listener | undefined> {
    if (session.closed) {
      await socket.close();
      return undefined;
    }
    const { port } = socket.address();
    session.socket = socket;
    socket.onBatch((b) => this.#o.onReply(session, b, port));
    socket.on('error', () => this.#close(session));
    return socket;
  }

  /** No socket (out of descriptors?): this client's datagrams fail and are counted. */
  #failed(session: RelaySession): undefined {
    this.#close(session);
    return undefined;
  }

  #close(session: RelaySession): void {
    if (session.closed) return;
    session.closed = true;
    this.#byClient.delete(keyOf(session.clientAddress, session.clientPort));
    void session.ready.then((l) => l?.close());
    this.#o.onClose(session);
  }
}
