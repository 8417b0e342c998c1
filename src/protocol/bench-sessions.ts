/**
 * The bench server's state machine (docs/protocol.md, "Bench frames"), sans-I/O: frames, the
 * peer and `now` (ms, fractional) in; replies, session summaries and the next deadline (ms) out.
 * The driver (src/transport/bench-server.ts) owns the socket, the clock and one timer. Inside,
 * times are whole microseconds, the unit of the frames' send stamps that jitter compares with,
 * and of the summaries (`jitterUs`, `spanUs`) that go back on the wire.
 *
 * Call {@link BenchSessions.handleDatagram} for every datagram; {@link BenchSessions.handleTimeout}
 * at {@link BenchSessions.nextDeadline} (early is harmless); {@link BenchSessions.noteStartDrops}
 * and {@link BenchSessions.finish} when `handleDatagram` asks for the kernel's drop counter.
 *
 * Longer than most files (about 310 lines): one table of sessions whose every input (start, data,
 * result, echo, timeout) reads and changes the same session; the frames and statistics live apart
 * (bench-frames.ts, bench-stats.ts).
 */
import { randomBytes } from 'node:crypto';
import {
  decodeBenchFrame, echoReplyFor, encodeBenchFrame, formatSessionId, isBenchDataAt, isEchoRequest, u64At, type BenchDirection, type BenchResultStats,
} from './bench-frames.js';
import { BenchArrivals } from './bench-arrivals.js';
import { lossOf } from './bench-stats.js';

/** Where a frame came from. */
export interface BenchPeer {
  readonly address: string;
  readonly port: number;
}

/** Limits of a {@link BenchSessions}. */
export interface BenchSessionsOptions {
  /** Sessions kept at once; a START beyond is answered "busy". Default 128 (one -P 128 test). */
  readonly maxSessions?: number;
  /** A session silent this long (ms) is dropped; default 10 s. */
  readonly idleTimeoutMs?: number;
  /** Sequence numbers remembered exactly per session. */
  readonly windowSize?: number;
  /** Where GO cookies come from; default 64 random bits. Tests pass their own. */
  readonly cookie?: () => bigint;
}

/** What the server says about one session once it ends. */
export interface BenchSessionSummary extends BenchResultStats {
  /** The session id, 16 hex digits. */
  readonly id: string;
  readonly peer: BenchPeer;
  /** `'finished'`: the client asked for the result; `'expired'`: it went silent. */
  readonly ended: 'finished' | 'expired';
  /** The test the client announced. */
  readonly length: number;
  readonly durationMs: number;
  readonly rate: number;
  /** Datagrams the client says it sent; unknown when the session expired. */
  readonly sent: number | undefined;
  readonly lost: number | undefined;
  /** Who sent test traffic. */
  readonly direction: BenchDirection;
  /** Datagrams the server sent to the client (`--reverse`, `--bidir`); undefined for forward. */
  readonly sentToClient: number | undefined;
}

/** What the driver does with a datagram. */
export type BenchStep =
  | { readonly kind: 'none' }
  | { readonly kind: 'reply'; readonly data: Buffer }
  /** Reply, then read the kernel's drop counter and pass it to `noteStartDrops`. */
  | { readonly kind: 'started'; readonly session: bigint; readonly data: Buffer }
  /** Read the kernel's drop counter and call `finish`, which gives the reply. */
  | { readonly kind: 'finishing'; readonly session: bigint }
  /** Reply, then send the test's traffic to the peer (it returned the cookie), reporting with `noteSent`. */
  | { readonly kind: 'send'; readonly session: bigint; readonly data: Buffer; readonly length: number; readonly durationMs: number; readonly rate: number };

type SessionState = 'running' | 'finishing' | 'finished';

interface Session {
  readonly id: bigint;
  readonly peer: BenchPeer;
  readonly start: { readonly length: number; readonly durationMs: number; readonly rate: number };
  readonly direction: BenchDirection;
  /** For reverse and bidir: the GO cookie, and the server's own traffic. */
  readonly cookie: bigint | undefined;
  reverse: { state: 'waiting' | 'sending' | 'done'; sent: number };
  state: SessionState;
  readonly arrivals: BenchArrivals;
  /** Whether the final RESULT_REQUEST asked for the extended RESULT. */
  extended: boolean;
  lastActivity: number;
  dropsAtStart: number | undefined;
  sent: number | undefined;
  summary: BenchSessionSummary | undefined;
}

const NONE: BenchStep = { kind: 'none' };

/**
 * Every session of a bench server, in bounded memory.
 * @example
 * const sessions = new BenchSessions({ maxSessions: 8 });
 * const step = sessions.handle(datagram, { address: '192.0.2.1', port: 40000 }, now);
 * if (step.kind === 'reply') socket.send(step.data);
 */
export class BenchSessions {
  readonly #sessions = new Map<bigint, Session>();
  readonly #maxSessions: number;
  readonly #idleTimeoutUs: number;
  readonly #windowSize: number | undefined;
  readonly #cookie: () => bigint;
  /**
   * The running session the last data frame counted by {@link handle} belonged to, with its
   * id's two u32 halves: what {@link takeData} compares a frame with instead of making a BigInt
   * and looking it up.
   */
  #last: { readonly hi: number; readonly lo: number; readonly session: Session } | undefined;
  /** Datagrams that were no bench frame, or belonged to no session of theirs. */
  ignored = 0;

  constructor(options: BenchSessionsOptions = {}) {
    this.#maxSessions = options.maxSessions ?? 128;
    this.#idleTimeoutUs = (options.idleTimeoutMs ?? 10_000) * 1000;
    this.#windowSize = options.windowSize;
    this.#cookie = options.cookie ?? (() => randomBytes(8).readBigUInt64BE());
  }

  /** Sessions kept now, finished ones waiting out their idle timeout included. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Takes one datagram from `peer`, received at `nowMs`. */
  handleDatagram(bytes: Uint8Array, peer: BenchPeer, nowMs: number): BenchStep {
    // Checked in place before anything is decoded: an echo's round trip includes this.
    if (isEchoRequest(bytes)) return { kind: 'reply', data: echoReplyFor(bytes) };
    const frame = decodeBenchFrame(bytes);
    if (frame === undefined) return this.#ignore();
    const now = Math.round(nowMs * 1000);
    if (frame.kind === 'start') {
      const known = this.#sessions.get(frame.session);
      if (known === undefined && this.#sessions.size < this.#maxSessions) {
        const opened = this.#open(frame, peer, now);
        this.#sessions.set(frame.session, opened);
        return { kind: 'started', session: frame.session, data: this.#ack(frame.session, 'accepted', opened.cookie) };
      }
      const mine = known !== undefined && samePeer(known.peer, peer);
      if (mine) known.lastActivity = now;
      return { kind: 'reply', data: this.#ack(frame.session, mine ? 'accepted' : 'busy', mine ? known.cookie : undefined) };
    }
    const session = this.#sessions.get(frame.session);
    if (session === undefined || !samePeer(session.peer, peer)) return this.#ignore();
    session.lastActivity = now;
    if (frame.kind === 'go') {
      if (session.cookie === undefined || frame.cookie !== session.cookie) return this.#ignore();
      const data = this.#ack(session.id, 'accepted', session.cookie);
      if (session.reverse.state !== 'waiting') return { kind: 'reply', data };
      session.reverse.state = 'sending';
      return { kind: 'send', session: session.id, data, ...session.start };
    }
    if (frame.kind === 'sent-request') {
      if (session.cookie === undefined) return this.#ignore();
      const { sent, state } = session.reverse;
      return { kind: 'reply', data: encodeBenchFrame({ kind: 'sent', session: session.id, final: state === 'done', sent }) };
    }
    if (frame.kind === 'data') {
      if (session.state !== 'running') return NONE;
      this.#last = { hi: Number(frame.session >> 32n), lo: Number(frame.session & 0xffffffffn), session };
      countData(session, frame.seq, frame.sentAt, now);
      return NONE;
    }
    if (frame.kind !== 'result-request') return this.#ignore();
    const extended = frame.extended === true;
    if (!frame.final) {
      if (session.summary) return { kind: 'reply', data: this.#result(session, session.summary, true, extended) };
      return { kind: 'reply', data: this.#result(session, { ...this.#counts(session), kernelDrops: undefined }, false, extended) };
    }
    if (session.state === 'finished' && session.summary) return { kind: 'reply', data: this.#result(session, session.summary, true, extended) };
    session.extended = extended;
    if (session.state === 'finishing') return NONE;
    session.state = 'finishing';
    session.sent = frame.sent;
    return { kind: 'finishing', session: session.id };
  }

  /**
   * Counts the data frame at `buf[start, start + length)` (a receive batch) from `address` and
   * `port`, received at `nowMs`, as {@link handleDatagram} would, without decoding it into an
   * object: when it belongs to the session the last one did, which is running and is that
   * peer's. Returns false, having done nothing, for anything else: pass that to `handleDatagram`.
   */
  takeData(buf: Buffer, start: number, length: number, address: string, port: number, nowMs: number): boolean {
    const last = this.#last;
    if (last === undefined || !isBenchDataAt(buf, start, length)) return false;
    if (buf.readUInt32BE(start + 4) !== last.hi || buf.readUInt32BE(start + 8) !== last.lo) return false;
    const session = last.session;
    if (session.state !== 'running' || session.peer.port !== port || session.peer.address !== address) return false;
    const now = Math.round(nowMs * 1000);
    session.lastActivity = now;
    countData(session, u64At(buf, start + 12), u64At(buf, start + 20), now);
    return true;
  }

  /** Records how many datagrams the server has sent in `session` so far, and whether it is done. */
  noteSent(session: bigint, sent: number, done: boolean): void {
    const s = this.#sessions.get(session);
    if (s === undefined || s.reverse.state === 'waiting') return;
    s.reverse = { state: done ? 'done' : 'sending', sent };
  }

  /** Whether the client of `session` was heard within the last `ms` before `nowMs`: the server stops sending to a silent one. */
  heardWithin(session: bigint, ms: number, nowMs: number): boolean {
    const s = this.#sessions.get(session);
    return s !== undefined && Math.round(nowMs * 1000) - s.lastActivity < ms * 1000;
  }

  /** Records the kernel's drop counter as it was when `session` started. */
  noteStartDrops(session: bigint, drops: number | undefined): void {
    const s = this.#sessions.get(session);
    if (s && s.dropsAtStart === undefined) s.dropsAtStart = drops;
  }

  /**
   * Ends a session that `handleDatagram` reported as `'finishing'`, with the kernel's drop counter now.
   * Returns the RESULT to send and the summary, or `undefined` if the session is gone.
   */
  finish(session: bigint, drops: number | undefined): { data: Buffer; summary: BenchSessionSummary } | undefined {
    const s = this.#sessions.get(session);
    if (s === undefined || s.state !== 'finishing') return undefined;
    const kernelDrops = drops === undefined || s.dropsAtStart === undefined ? undefined : Math.max(0, drops - s.dropsAtStart);
    s.summary = this.#summarize(s, 'finished', kernelDrops);
    s.state = 'finished';
    return { data: this.#result(s, s.summary, true, s.extended), summary: s.summary };
  }

  /** Drops sessions idle since before `nowMs - idleTimeout`; returns those that never finished. */
  handleTimeout(nowMs: number): BenchSessionSummary[] {
    const now = Math.round(nowMs * 1000);
    const expired: BenchSessionSummary[] = [];
    for (const [id, s] of this.#sessions) {
      if (now - s.lastActivity < this.#idleTimeoutUs) continue;
      this.#sessions.delete(id);
      if (this.#last?.session === s) this.#last = undefined;
      if (s.state !== 'finished') expired.push(this.#summarize(s, 'expired', undefined));
    }
    return expired;
  }

  /** When {@link handleTimeout} should next run (ms), or `undefined` with no sessions. */
  nextDeadline(): number | undefined {
    let oldest = Infinity;
    for (const s of this.#sessions.values()) oldest = Math.min(oldest, s.lastActivity);
    return oldest === Infinity ? undefined : (oldest + this.#idleTimeoutUs) / 1000;
  }

  #ignore(): BenchStep {
    this.ignored++;
    return NONE;
  }

  #open(start: Session['start'] & { session: bigint; direction?: BenchDirection }, peer: BenchPeer, now: number): Session {
    const direction = start.direction ?? 'forward';
    return {
      id: start.session,
      peer: { address: peer.address, port: peer.port },
      start: { length: start.length, durationMs: start.durationMs, rate: start.rate },
      direction,
      cookie: direction === 'forward' ? undefined : this.#cookie(),
      reverse: { state: 'waiting', sent: 0 },
      state: 'running',
      arrivals: new BenchArrivals(this.#windowSize),
      extended: false,
      lastActivity: now,
      dropsAtStart: undefined,
      sent: undefined,
      summary: undefined,
    };
  }

  #ack(session: bigint, status: 'accepted' | 'busy', cookie?: bigint): Buffer {
    return encodeBenchFrame({ kind: 'start-ack', session, status, ...(cookie !== undefined ? { cookie } : {}) });
  }

  #counts(s: Session): BenchResultStats {
    return s.arrivals.counts(undefined);
  }

  /** An extended RESULT (delay variation included) only for a request that asked for one. */
  #result(s: Session, stats: BenchResultStats, final: boolean, extended: boolean): Buffer {
    return encodeBenchFrame({ kind: 'result', session: s.id, final, stats: extended ? stats : { ...stats, delay: undefined } });
  }

  #summarize(s: Session, ended: 'finished' | 'expired', kernelDrops: number | undefined): BenchSessionSummary {
    const counts = this.#counts(s);
    return {
      id: formatSessionId(s.id),
      peer: s.peer,
      ended,
      ...s.start,
      sent: s.sent,
      lost: s.sent === undefined ? undefined : lossOf(s.sent, counts.received).lost,
      ...counts,
      kernelDrops,
      direction: s.direction,
      sentToClient: s.direction === 'forward' ? undefined : s.reverse.sent,
    };
  }
}

/** One data frame of a running session. */
function countData(session: Session, seq: number, sentAt: number, now: number): void {
  session.arrivals.record(seq, sentAt, now);
}

function samePeer(a: BenchPeer, b: BenchPeer): boolean {
  return a.port === b.port && a.address === b.address;
}
