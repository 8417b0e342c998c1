/**
 * The receiving side of reliable delivery (docs/protocol.md, "Reliable delivery"), sans-I/O:
 * DATA datagrams, the sender's address and port and `now` (ms) in; ACKs to send back, payloads to
 * deliver (each once and in order per session) and, for every datagram not delivered, why, out.
 * Frames in ./reliable-frames.ts: ACK = header | session 8 | cumulative u32 | selective bitmap 8.
 * Sessions, their limits and who is evicted first: ./session-table.ts.
 *
 * Driving it: {@link ReliableReceiver.handleDatagram} for every datagram (a datagram that is not
 * a valid DATA frame returns `undefined`: treat it as a plain datagram); send the `ack` to that
 * peer; hand `deliver` on; count `refused`. Call {@link ReliableReceiver.handleTimeout} when the
 * {@link ReliableReceiver.nextDeadline} timer fires, and {@link ReliableReceiver.stop} when the
 * application stops taking messages.
 *
 * Accounting: every DATA datagram given to `receive` ends up delivered (once), or counted in
 * {@link ReliableReceiver.refusedBy} with a reason, or is still {@link ReliableReceiver.held}.
 */
import { validateInteger } from '../validate.js';
import { MemoryBudget } from './memory-budget.js';
import { decodeReliableFrame, encodeAck, SACK_SPAN } from './reliable-frames.js';
import { SESSION_COST, SessionTable, type ReceiverSession } from './session-table.js';

const EMPTY = Buffer.alloc(0);

/** Limits of a {@link ReliableReceiver}; times in ms. */
export interface ReliableReceiverOptions {
  /** Sessions kept at once; beyond, one is evicted (see ./session-table.ts). Default 1024. */
  readonly maxSessions?: number;
  /** Sessions kept at once from one source address; beyond, one of its own goes. Default 64. */
  readonly maxSessionsPerSource?: number;
  /** Out-of-order messages held per session, from next expected + 1 on. Default 256. */
  readonly maxBuffered?: number;
  /**
   * Memory for messages held out of order, across all sessions, at their real cost: each costs
   * its payload plus ENTRY_OVERHEAD (512 bytes), so empty ones are not free. Default 16 MiB.
   * Sessions come on top: at most maxSessions of SESSION_COST (1.5 KiB) each.
   */
  readonly maxBufferedBytes?: number;
  /** A session that sent nothing for this long is forgotten. Default 60 000; keep it well above the senders' ackTimeoutMs. */
  readonly sessionIdleMs?: number;
}

/**
 * Why a DATA datagram will never be delivered:
 * - `duplicate`: already delivered or held (acknowledged again all the same);
 * - `window`: beyond the messages a session may hold (next + maxBuffered);
 * - `memory`: the memory budget is full;
 * - `evicted`: its session was evicted to make room;
 * - `gap`: held behind a missing message, then let go (the session expired or was evicted, or
 *   the receiver stopped) before the gap was filled;
 * - `after-stop`: a new message after {@link ReliableReceiver.stop}.
 */
export type ReliableRefusal = 'duplicate' | 'window' | 'memory' | 'evicted' | 'gap' | 'after-stop';

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
  /** Why this datagram will never be delivered; `undefined` when it was delivered or is held. */
  readonly refused: ReliableRefusal | undefined;
}

/** The sender of a datagram. */
export interface ReliablePeer {
  readonly address: string;
  readonly port: number;
}

/**
 * Every sender session of a listener, in bounded memory.
 * @example
 * const receiver = new ReliableReceiver();
 * const r = receiver.handleDatagram(datagram, { address: rinfo.address, port: rinfo.port }, Date.now());
 * if (r?.ack) socket.send(r.ack, rinfo.port, rinfo.address);
 * for (const payload of r?.deliver ?? []) print(payload);
 */
export class ReliableReceiver {
  readonly #maxBuffered: number;
  readonly #budget: MemoryBudget;
  readonly #table: SessionTable;
  #held = 0;
  #stopped = false;
  /** DATA datagrams that will never be delivered, by reason. */
  readonly refusedBy: Record<ReliableRefusal, number> = { duplicate: 0, window: 0, memory: 0, evicted: 0, gap: 0, 'after-stop': 0 };

  /** @throws `RangeError` coded `UDPKIT_INVALID_ARGUMENT` for a bad option. */
  constructor(options: ReliableReceiverOptions = {}) {
    const maxSessions = validateInteger(options.maxSessions ?? 1024, { name: 'maxSessions', min: 1, max: 1 << 20 });
    this.#maxBuffered = validateInteger(options.maxBuffered ?? 256, { name: 'maxBuffered', min: 0, max: 1 << 16 });
    this.#budget = new MemoryBudget({ limit: options.maxBufferedBytes ?? 16 << 20, name: 'maxBufferedBytes' });
    this.#table = new SessionTable({
      maxSessions,
      maxSessionsPerSource: validateInteger(options.maxSessionsPerSource ?? 64, { name: 'maxSessionsPerSource', min: 1, max: 1 << 20 }),
      idleMs: validateInteger(options.sessionIdleMs ?? 60_000, { name: 'sessionIdleMs', min: 1 }),
      budget: this.#budget,
      onLost: (n) => {
        this.#held -= n;
        this.refusedBy.gap += n;
      },
    });
  }

  /** Sessions kept now. */
  get size(): number {
    return this.#table.size;
  }

  /** Messages held out of order now (each will be delivered, or counted as `gap`). */
  get held(): number {
    return this.#held;
  }

  /** Memory taken now by held messages (payload plus overhead) and by sessions. */
  get usedBytes(): number {
    return this.#budget.used + this.#table.size * SESSION_COST;
  }

  /** Sessions evicted so far to make room for others (their senders time out). */
  get evictions(): number {
    return this.#table.evictions;
  }

  /**
   * Takes one datagram from `from` received at `now`. Returns `undefined` when it is not a valid
   * DATA frame (too short, another type or version, seq 0xFFFFFFFF): a plain datagram. Never
   * throws on any bytes. After {@link stop}, only messages already delivered are acknowledged
   * again (a sender whose last acknowledgement was lost can still finish); nothing new is
   * accepted, acknowledged or delivered.
   */
  handleDatagram(datagram: Uint8Array, from: ReliablePeer, now: number): ReliableReceipt | undefined {
    const frame = decodeReliableFrame(datagram);
    if (frame?.kind !== 'data') return undefined;
    const key = `${from.address}:${from.port} ${frame.sessionId.toString('hex')}`;
    let session = this.#table.get(key);
    if (session === undefined) {
      if (this.#stopped) return this.#refuse(key, 'after-stop');
      if (this.#table.wasEvicted(key)) return this.#refuse(key, 'evicted');
      if (frame.seq > this.#maxBuffered) return this.#refuse(key, 'window');
      session = this.#table.open(key, from.address, frame.sessionId, now);
    }
    this.#table.touch(session, now);
    const { seq, payload } = frame;
    if (seq < session.next || session.held.has(seq)) return this.#refuse(key, 'duplicate', this.#ack(session));
    if (this.#stopped) return this.#refuse(key, 'after-stop');
    if (seq > session.next) {
      if (seq - session.next > this.#maxBuffered) return this.#refuse(key, 'window');
      if (!this.#budget.charge(payload.length)) return this.#refuse(key, 'memory');
      // A copy, as the datagram's buffer is reused; one shared empty buffer for empty messages,
      // which would otherwise each cost an ArrayBuffer of their own.
      session.held.set(seq, payload.length === 0 ? EMPTY : Buffer.from(payload));
      this.#held++;
      return { key, ack: this.#ack(session), deliver: [], refused: undefined };
    }
    const deliver = [payload];
    for (let held = session.held.get(++session.next); held !== undefined; held = session.held.get(++session.next)) {
      session.held.delete(session.next);
      this.#budget.release(held.length);
      this.#held--;
      deliver.push(held);
    }
    this.#table.progress(session, deliver.length, now);
    return { key, ack: this.#ack(session), deliver, refused: undefined };
  }

  /**
   * Stops accepting: messages held for a gap are let go (counted as `gap`: they can no longer
   * be delivered in order), and from now on nothing new is accepted. Sessions stay, to
   * acknowledge retransmissions of what was delivered, until they expire.
   */
  stop(): void {
    this.#stopped = true;
    this.#table.dropHeld();
  }

  /** Forgets sessions idle for `sessionIdleMs` by `now`. Call at {@link nextDeadline}; early is harmless. */
  handleTimeout(now: number): void {
    this.#table.expire(now);
  }

  /** When {@link handleTimeout} has something to forget (absolute ms), or `undefined` with nothing kept. */
  nextDeadline(): number | undefined {
    return this.#table.nextDeadline();
  }

  /** The ACK of a session's state now: cumulative point, and what it holds beyond. */
  #ack(s: ReceiverSession): Buffer {
    const selective: number[] = [];
    if (s.held.size > 0) for (let seq = s.next + 1; seq <= s.next + SACK_SPAN; seq++) if (s.held.has(seq)) selective.push(seq);
    return encodeAck(s.sessionId, s.next, selective);
  }

  #refuse(key: string, reason: ReliableRefusal, ack?: Buffer): ReliableReceipt {
    this.refusedBy[reason]++;
    return { key, ack, deliver: [], refused: reason };
  }
}
