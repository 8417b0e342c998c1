/**
 * The sender sessions a ReliableReceiver keeps (docs/protocol.md, "Listener"), in bounded memory,
 * and who goes when a new session needs room. Sans-I/O: `now` in ms, passed in.
 *
 * Room is made in this order:
 *  1. sessions idle for `sessionIdleMs` (they would expire anyway);
 *  2. when the new session's source address already has `maxSessionsPerSource`, one of that
 *     source's own sessions: a single address cannot push out anyone else's;
 *  3. otherwise (all `maxSessions` taken) a session on probation (fewer than
 *     {@link ESTABLISHED_AFTER} messages delivered) before an established one.
 * Within each group the session whose last progress (a message delivered in order) is oldest
 * goes first; holding messages behind a gap or resending duplicates is activity, not progress. So
 * a flood of forged one-frame sessions, or of sessions that only hold, evicts its own kind, and a
 * sender that keeps delivering is the last to go. Keys of evicted sessions are remembered (up to
 * {@link EVICTION_MARKS} x maxSessions of them, each for idleMs), so a retransmission cannot
 * start one again at seq 0 and deliver it twice.
 *
 * Memory: sessions are bounded by count (each costs {@link SESSION_COST}); the messages they hold
 * are charged to the receiver's MemoryBudget, released here when a session goes. A full budget
 * never evicts anyone: held messages are refused instead (their senders resend them), so a flood
 * of held messages cannot push out a sender, whose in-order messages need no memory at all.
 */
import type { MemoryBudget } from './memory-budget.js';

/**
 * Messages a session must have delivered before it outranks newcomers. One forged frame (seq 0)
 * per session is the cheapest flood; a real sender's first window (64 by default) passes this at
 * once. A sender of only a few lines stays on probation, evictable by a flood of new sessions.
 */
export const ESTABLISHED_AFTER = 4;

/**
 * Bytes one session costs besides the messages it holds: the record, its key (~45 characters),
 * the copied session id, its empty Map of held messages, and its slots in the table's Maps and
 * its source's Set. Measured on Node 20 (x64): RSS grew by 940-1,180 bytes a
 * session over 100,000 to 262,144 sessions; rounded up so estimates err safe. maxSessions (1024)
 * times this is the sessions' share of a listener's memory: 1.5 MiB.
 */
export const SESSION_COST = 1536;

/**
 * Evicted keys remembered, per session slot. A flood of new sessions evicts one per frame; with
 * room for four times as many marks as sessions, a real session evicted in it is still
 * remembered after 3,000 more evictions. A mark costs about 150 bytes (its key and Map slot).
 */
export const EVICTION_MARKS = 4;

/** One sender session. */
export interface ReceiverSession {
  /** `address:port session-id`: what one sender session is known by. */
  readonly key: string;
  /** The source address alone: what per-source limits count. */
  readonly source: string;
  readonly sessionId: Buffer;
  /** Every seq below was delivered. */
  next: number;
  /** Accepted out of order, by seq. */
  readonly held: Map<number, Buffer>;
  lastActivity: number;
  /** When a message was last delivered in order (or the session started). */
  lastProgress: number;
  /** Messages delivered in order so far. */
  delivered: number;
}

/** Limits of a {@link SessionTable}; times in ms. */
export interface SessionTableOptions {
  readonly maxSessions: number;
  readonly maxSessionsPerSource: number;
  readonly idleMs: number;
  /** Where held messages are charged: released here when their session goes. */
  readonly budget: MemoryBudget;
  /** Told how many held messages were let go with a session (expired, evicted or cleared). */
  readonly onLost: (messages: number) => void;
}

/**
 * Sessions by key, with the eviction order above.
 * @example
 * const table = new SessionTable({ maxSessions: 1024, maxSessionsPerSource: 64, idleMs: 60_000, budget, onLost });
 * const s = table.get(key) ?? table.open(key, '192.0.2.1', sessionId, now);
 */
export class SessionTable {
  readonly #o: SessionTableOptions;
  /** In order of last activity: the first is the idlest (expiry). */
  readonly #byActivity = new Map<string, ReceiverSession>();
  /** In order of last progress, each: the first of probation goes first. */
  readonly #probation = new Map<string, ReceiverSession>();
  readonly #established = new Map<string, ReceiverSession>();
  readonly #bySource = new Map<string, Set<ReceiverSession>>();
  /** Keys of sessions evicted, with when: their DATA is refused until idleMs later. */
  readonly #evicted = new Map<string, number>();
  /** Sessions forgotten to make room. */
  evictions = 0;

  constructor(options: SessionTableOptions) {
    this.#o = options;
  }

  /** Sessions kept now. */
  get size(): number {
    return this.#byActivity.size;
  }

  /** The session known by `key`, if kept. */
  get(key: string): ReceiverSession | undefined {
    return this.#byActivity.get(key);
  }

  /** Every session, idlest first. */
  sessions(): IterableIterator<ReceiverSession> {
    return this.#byActivity.values();
  }

  /** True while `key` was evicted less than idleMs ago. */
  wasEvicted(key: string): boolean {
    return this.#evicted.has(key);
  }

  /** Starts a session, making room first (see the file comment). */
  open(key: string, source: string, sessionId: Uint8Array, now: number): ReceiverSession {
    this.#makeRoom(source, now);
    const s: ReceiverSession = { key, source, sessionId: Buffer.from(sessionId), next: 0, held: new Map(), lastActivity: now, lastProgress: now, delivered: 0 };
    this.#byActivity.set(key, s);
    this.#probation.set(key, s);
    let mine = this.#bySource.get(source);
    if (mine === undefined) this.#bySource.set(source, (mine = new Set()));
    mine.add(s);
    return s;
  }

  /** Notes a datagram of `s` at `now`: it is the least idle now. */
  touch(s: ReceiverSession, now: number): void {
    s.lastActivity = now;
    this.#byActivity.delete(s.key);
    this.#byActivity.set(s.key, s);
  }

  /** Notes `count` messages of `s` delivered in order at `now`. */
  progress(s: ReceiverSession, count: number, now: number): void {
    s.delivered += count;
    s.lastProgress = now;
    this.#probation.delete(s.key);
    this.#established.delete(s.key);
    (s.delivered >= ESTABLISHED_AFTER ? this.#established : this.#probation).set(s.key, s);
  }

  /** Forgets sessions idle for idleMs by `now`, and eviction marks as old. */
  expire(now: number): void {
    for (const s of this.#byActivity.values()) {
      if (now - s.lastActivity < this.#o.idleMs) break;
      this.#forget(s);
    }
    for (const [key, at] of this.#evicted) {
      if (now - at < this.#o.idleMs) break;
      this.#evicted.delete(key);
    }
  }

  /** When {@link expire} has something to forget (absolute ms), or `undefined`. */
  nextDeadline(): number | undefined {
    const idlest = this.#byActivity.values().next();
    const evicted = this.#evicted.values().next();
    const at = Math.min(idlest.done === true ? Infinity : idlest.value.lastActivity, evicted.done === true ? Infinity : evicted.value);
    return at === Infinity ? undefined : at + this.#o.idleMs;
  }

  /** Lets go of every held message (a receiver that stops), keeping the sessions. */
  dropHeld(): void {
    for (const s of this.#byActivity.values()) this.#dropHeld(s);
  }

  #makeRoom(source: string, now: number): void {
    this.expire(now);
    const mine = this.#bySource.get(source);
    if (mine !== undefined && mine.size >= this.#o.maxSessionsPerSource) this.#evict(leastValuable(mine), now);
    if (this.#byActivity.size < this.#o.maxSessions) return;
    const victim = first(this.#probation) ?? first(this.#established);
    if (victim !== undefined) this.#evict(victim, now);
  }

  #evict(s: ReceiverSession, now: number): void {
    this.#forget(s);
    this.evictions++;
    if (this.#evicted.size >= EVICTION_MARKS * this.#o.maxSessions) this.#evicted.delete(this.#evicted.keys().next().value as string);
    this.#evicted.set(s.key, now);
  }

  #forget(s: ReceiverSession): void {
    this.#dropHeld(s);
    this.#byActivity.delete(s.key);
    this.#probation.delete(s.key);
    this.#established.delete(s.key);
    const mine = this.#bySource.get(s.source);
    mine?.delete(s);
    if (mine?.size === 0) this.#bySource.delete(s.source);
  }

  #dropHeld(s: ReceiverSession): void {
    if (s.held.size === 0) return;
    for (const payload of s.held.values()) this.#o.budget.release(payload.length);
    this.#o.onLost(s.held.size);
    s.held.clear();
  }
}

function first(m: Map<string, ReceiverSession>): ReceiverSession | undefined {
  return m.values().next().value;
}

/** Of one source's sessions, the first to go: on probation before established, then oldest progress. */
function leastValuable(sessions: Set<ReceiverSession>): ReceiverSession {
  let victim: ReceiverSession | undefined;
  for (const s of sessions) {
    if (victim === undefined) victim = s;
    else {
      const a = s.delivered >= ESTABLISHED_AFTER;
      const b = victim.delivered >= ESTABLISHED_AFTER;
      if ((a === b && s.lastProgress < victim.lastProgress) || (!a && b)) victim = s;
    }
  }
  return victim as ReceiverSession;
}
