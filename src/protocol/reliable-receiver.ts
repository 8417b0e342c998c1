/**
 * The receiving side of reliable delivery (docs/protocol.md, "Reliable delivery"), sans-I/O:
 * DATA datagrams, the peer and `now` (ms) in; ACKs to send back and payloads to deliver, each
 * once and in order per session, out. Frames in ./reliable-frames.ts: ACK = header | session 8 |
 * cumulative u32 | selective bitmap 8.
 *
 * Driving it: {@link ReliableReceiver.receive} for every datagram (a non-DATA one returns
 * `undefined`: treat it as something else); send the `ack` to that peer; hand `deliver` on.
 * Call {@link ReliableReceiver.expire} when the {@link ReliableReceiver.nextDeadline} timer fires.
 */
import { validateInteger } from '../validate.js';
import { decodeReliableFrame, encodeAck, SACK_SPAN } from './reliable-frames.js';

/** Limits of a {@link ReliableReceiver}; times in ms. */
export interface ReliableReceiverOptions {
  /** Sessions kept at once; beyond, the idlest is forgotten. Default 1024. */
  readonly maxSessions?: number;
  /** Out-of-order messages held per session, from next expected + 1 on. Default 256. */
  readonly maxBuffered?: number;
  /** Payload bytes held out of order across all sessions. Default 16 MiB. */
  readonly maxBufferedBytes?: number;
  /** A session that sent nothing for this long is forgotten. Default 60 000; keep it well above the senders' ackTimeoutMs. */
  readonly sessionIdleMs?: number;
}

/** What to do with one DATA datagram. */
export interface ReliableReceipt {
  /** Names the (peer, session): within one batch the driver may send only the last `ack` per key. */
  readonly key: string;
  /** The ACK to send back to the peer; absent when the message was not accepted. */
  readonly ack: Buffer | undefined;
  /**
   * Payloads now deliverable, in order, each exactly once. Valid as long as the datagram given
   * to `receive` is: the one just received is a view of it, held-back ones are copies.
   */
  readonly deliver: Buffer[];
}

interface Session {
  readonly sessionId: Buffer;
  /** Every seq below was delivered. */
  next: number;
  /** Accepted out of order, by seq: all within next + 1 .. next + maxBuffered. */
  readonly held: Map<number, Buffer>;
  lastActivity: number;
}

/**
 * Every sender session of a listener, in bounded memory.
 * @example
 * const receiver = new ReliableReceiver();
 * const r = receiver.receive(datagram, `${rinfo.address}:${rinfo.port}`, Date.now());
 * if (r?.ack) socket.send(r.ack, rinfo.port, rinfo.address);
 * for (const payload of r?.deliver ?? []) print(payload);
 */
export class ReliableReceiver {
  readonly #maxSessions: number;
  readonly #maxBuffered: number;
  readonly #maxBufferedBytes: number;
  readonly #idleMs: number;
  /** In order of last activity: the first is the idlest. */
  readonly #sessions = new Map<string, Session>();
  /** Sessions forgotten to make room, by key, with when: refused until sessionIdleMs later. */
  readonly #evicted = new Map<string, number>();
  #bufferedBytes = 0;
  /** DATA already delivered, received again (and acknowledged again). */
  duplicates = 0;
  /** DATA not accepted: beyond the buffer, out of memory budget, or of a forgotten session. */
  dropped = 0;

  /** @throws `RangeError` coded `UDPKIT_INVALID_ARGUMENT` for a bad option. */
  constructor(options: ReliableReceiverOptions = {}) {
    this.#maxSessions = validateInteger(options.maxSessions ?? 1024, { name: 'maxSessions', min: 1, max: 1 << 20 });
    this.#maxBuffered = validateInteger(options.maxBuffered ?? 256, { name: 'maxBuffered', min: 0, max: 1 << 16 });
    this.#maxBufferedBytes = validateInteger(options.maxBufferedBytes ?? 16 << 20, { name: 'maxBufferedBytes' });
    this.#idleMs = validateInteger(options.sessionIdleMs ?? 60_000, { name: 'sessionIdleMs', min: 1 });
  }

  /** Sessions kept now. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Payload bytes held out of order now. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /**
   * Takes one datagram from `peer` (an opaque key such as `"192.0.2.1:5555"`) received at `now`.
   * Returns `undefined` when it is not a DATA frame. Never throws on any bytes. With
   * `acceptNew: false` (a receiver that has stopped delivering but lingers) only messages already
   * accepted are acknowledged again; nothing new is accepted, acknowledged or delivered.
   */
  receive(datagram: Uint8Array, peer: string, now: number, { acceptNew = true }: { readonly acceptNew?: boolean } = {}): ReliableReceipt | undefined {
    const frame = decodeReliableFrame(datagram);
    if (frame?.kind !== 'data') return undefined;
    const key = `${peer} ${frame.sessionId.toString('hex')}`;
    let session = this.#sessions.get(key);
    if (!acceptNew && (session === undefined || (frame.seq >= session.next && !session.held.has(frame.seq)))) return this.#drop(key);
    if (session === undefined && (this.#evicted.has(key) || frame.seq > this.#maxBuffered)) return this.#drop(key);
    if (session === undefined) {
      this.#makeRoom(now);
      session = { sessionId: Buffer.from(frame.sessionId), next: 0, held: new Map(), lastActivity: now };
    } else {
      this.#sessions.delete(key);
    }
    this.#sessions.set(key, session);
    session.lastActivity = now;
    const { seq, payload } = frame;
    if (seq < session.next || session.held.has(seq)) {
      this.duplicates++;
      return { key, ack: this.#ack(session), deliver: [] };
    }
    if (seq > session.next) {
      if (seq - session.next > this.#maxBuffered || this.#bufferedBytes + payload.length > this.#maxBufferedBytes) return this.#drop(key);
      session.held.set(seq, Buffer.from(payload));
      this.#bufferedBytes += payload.length;
      return { key, ack: this.#ack(session), deliver: [] };
    }
    const deliver = [payload];
    for (let held = session.held.get(++session.next); held !== undefined; held = session.held.get(++session.next)) {
      session.held.delete(session.next);
      this.#bufferedBytes -= held.length;
      deliver.push(held);
    }
    return { key, ack: this.#ack(session), deliver };
  }

  /** Forgets sessions idle for `sessionIdleMs` by `now`. Call at {@link nextDeadline}; early is harmless. */
  expire(now: number): void {
    for (const [key, s] of this.#sessions) {
      if (now - s.lastActivity < this.#idleMs) break;
      this.#forget(key, s);
    }
    for (const [key, at] of this.#evicted) {
      if (now - at < this.#idleMs) break;
      this.#evicted.delete(key);
    }
  }

  /** When {@link expire} has something to forget (absolute ms), or `undefined` with nothing kept. */
  nextDeadline(): number | undefined {
    const idlest = this.#sessions.values().next();
    const evicted = this.#evicted.values().next();
    const at = Math.min(idlest.done === true ? Infinity : idlest.value.lastActivity, evicted.done === true ? Infinity : evicted.value);
    return at === Infinity ? undefined : at + this.#idleMs;
  }

  /** The ACK of a session's state now: cumulative point, and what it holds beyond. */
  #ack(s: Session): Buffer {
    const selective: number[] = [];
    if (s.held.size > 0) for (let seq = s.next + 1; seq <= s.next + SACK_SPAN; seq++) if (s.held.has(seq)) selective.push(seq);
    return encodeAck(s.sessionId, s.next, selective);
  }

  #drop(key: string): ReliableReceipt {
    this.dropped++;
    return { key, ack: undefined, deliver: [] };
  }

  /**
   * Before adding a session: forgets the idle ones, then, if still full, the idlest. That one is
   * remembered as evicted, so its retransmissions cannot start it again and be delivered twice.
   */
  #makeRoom(now: number): void {
    if (this.#sessions.size < this.#maxSessions) return;
    this.expire(now);
    if (this.#sessions.size < this.#maxSessions) return;
    const idlest = this.#sessions.entries().next();
    if (idlest.done === true) return;
    const [key, session] = idlest.value;
    this.#forget(key, session);
    if (this.#evicted.size >= this.#maxSessions) this.#evicted.delete(this.#evicted.keys().next().value as string);
    this.#evicted.set(key, now);
  }

  #forget(key: string, s: Session): void {
    this.#sessions.delete(key);
    for (const payload of s.held.values()) this.#bufferedBytes -= payload.length;
  }
}
