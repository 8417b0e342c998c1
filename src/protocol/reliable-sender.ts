/**
 * The sending side of reliable delivery (docs/protocol.md, "Reliable delivery"), sans-I/O:
 * payloads, ACK datagrams and `now` (ms) in; DATA datagrams, the next deadline and events out.
 * Frames in ./reliable-frames.ts: DATA = header | session 8 | seq u32 | payload.
 *
 * Driving it (the handle/poll/nextDeadline scheme of docs/ARCHITECTURE.md):
 * {@link ReliableSender.push} while {@link ReliableSender.canPush}; then, and after every
 * {@link ReliableSender.handleDatagram} (an ACK), {@link ReliableSender.handleRefused} or timer,
 * call {@link ReliableSender.pollTransmit} and send what it returns, take
 * {@link ReliableSender.pollEvents}, and arm one timer for {@link ReliableSender.nextDeadline}.
 * {@link ReliableSender.finish} when there is no more input.
 *
 * Longer than most files (about 290 lines) for a reason: one state machine (window, timers,
 * selective acknowledgements, fast retransmit, backoff) whose every input touches the same
 * in-flight table; the frames, RTT estimate and timer heap already stand alone beside it.
 */
import { UdpkitError, UdpkitRangeError } from '../errors.js';
import { validateInteger } from '../validate.js';
import { MAX_SEQ, decodeReliableFrame, encodeData, maxReliablePayload, SESSION_ID_LENGTH } from './reliable-frames.js';
import { RttEstimator } from './rtt-estimator.js';
import { exactBytes } from './seal-key.js';
import { TimerHeap, type Timer } from './timer-heap.js';

/** Options of a {@link ReliableSender}; times in ms. */
export interface ReliableSenderOptions {
  /** 8 random bytes, new for every sender: a restarted sender must not reuse its id. */
  readonly sessionId: Uint8Array;
  /** Most messages from the oldest unacknowledged one to the newest pushed. Default 64. */
  readonly window?: number;
  /** Retransmission timeout before any RTT sample. Default 200. */
  readonly initialRtoMs?: number;
  /** Default 50. */
  readonly minRtoMs?: number;
  /** Cap of the backoff. Default 2000. */
  readonly maxRtoMs?: number;
  /** Give up when nothing new has been acknowledged for this long. Default 10 000. */
  readonly ackTimeoutMs?: number;
}

/** `'open'` takes pushes; `'finishing'` waits for the last ACKs; `'done'` and `'failed'` are final. */
export type ReliableSenderState = 'open' | 'finishing' | 'done' | 'failed';

/** What happened to messages, by sequence number (the value {@link ReliableSender.push} returned). */
export type ReliableSenderEvent =
  /** The receiver has delivered it (cumulatively acknowledged), in seq order. */
  | { readonly type: 'acked'; readonly seq: number }
  /** Every message not yet acked, given up: no new ACK for `ackTimeoutMs`, or ICMP refused. */
  | { readonly type: 'failed'; readonly seqs: readonly number[]; readonly reason: 'timeout' | 'refused' };

interface Message {
  readonly datagram: Buffer;
  /** Last transmission. */
  sentAt: number;
  /** Timeout of the last transmission: doubles at every retransmission. */
  rto: number;
  deadline: number;
  retransmitted: boolean;
  /** Selectively acknowledged: held by the receiver, not retransmitted, not yet delivered. */
  sacked: boolean;
  /** Already resent early since its last transmission (see FAST_RETRANSMIT_AFTER). */
  fast?: boolean;
}

/**
 * A message is resent at once, without waiting for its timer, when the receiver already holds
 * this many messages sent after it: it was almost surely lost (TCP's fast retransmit, with
 * selective acknowledgements). Once per transmission, so a lost resend still falls back on the
 * timer. Without it, every loss stalls the window for a whole timeout.
 */
const FAST_RETRANSMIT_AFTER = 3;

/**
 * One sender session: numbers messages from 0, keeps up to `window` unacknowledged, retransmits
 * each with exponential backoff until acknowledged. Reads no clock, no randomness.
 * @example
 * const sender = new ReliableSender({ sessionId: randomBytes(8) });
 * sender.push(Buffer.from('hello'));
 * for (const d of sender.pollTransmit(Date.now())) socket.send(d, port, host);
 */
export class ReliableSender {
  readonly #sessionId: Buffer;
  readonly #window: number;
  readonly #maxRtoMs: number;
  readonly #ackTimeoutMs: number;
  readonly #rtt: RttEstimator;
  /** Pushed and not yet cumulatively acknowledged, by seq: seqs `#base` to `#nextSeq - 1`. */
  readonly #messages = new Map<number, Message>();
  readonly #timers = new TimerHeap();
  #events: ReliableSenderEvent[] = [];
  #state: ReliableSenderState = 'open';
  /** Every seq below is acknowledged. */
  #base = 0;
  /** Every seq below has been sent at least once. */
  #nextSend = 0;
  #nextSeq = 0;
  /** The last new acknowledgement, or the first send while nothing was outstanding. */
  #lastProgress = 0;
  #retransmissions = 0;

  /** @throws coded `RangeError`/`TypeError` (`UDPKIT_INVALID_ARGUMENT`) for a bad option. */
  constructor(options: ReliableSenderOptions) {
    this.#sessionId = Buffer.from(exactBytes(options.sessionId, SESSION_ID_LENGTH, 'session id'));
    this.#window = validateInteger(options.window ?? 64, { name: 'window', min: 1, max: 65_536 });
    const maxRtoMs = validateInteger(options.maxRtoMs ?? 2000, { name: 'maxRtoMs', min: 1, max: 3_600_000 });
    const minRtoMs = validateInteger(options.minRtoMs ?? 50, { name: 'minRtoMs', min: 1, max: maxRtoMs });
    const initialRtoMs = validateInteger(options.initialRtoMs ?? 200, { name: 'initialRtoMs', min: minRtoMs, max: maxRtoMs });
    this.#maxRtoMs = maxRtoMs;
    this.#ackTimeoutMs = validateInteger(options.ackTimeoutMs ?? 10_000, { name: 'ackTimeoutMs', min: 1 });
    this.#rtt = new RttEstimator({ initialRtoMs, minRtoMs, maxRtoMs });
  }

  get state(): ReliableSenderState {
    return this.#state;
  }

  /** Most messages unacknowledged at once. */
  get window(): number {
    return this.#window;
  }

  /** Messages pushed and not yet acknowledged (at most `window`). */
  get unacked(): number {
    return this.#nextSeq - this.#base;
  }

  /** Retransmissions so far. */
  get retransmissions(): number {
    return this.#retransmissions;
  }

  /** The smoothed RTT (ms), once measured. */
  get rttMs(): number | undefined {
    return this.#rtt.srttMs;
  }

  /** True when {@link push} may be called: open, and fewer than `window` messages unacknowledged. */
  canPush(): boolean {
    return this.#state === 'open' && this.#nextSeq - this.#base < this.#window && this.#nextSeq <= MAX_SEQ;
  }

  /**
   * Queues one message and returns its seq; {@link pollTransmit} sends it. Call only when
   * {@link canPush}; after an `acked` event it may be true again.
   * @throws `UdpkitError` coded `UDPKIT_CLOSED` after `finish()` or a failure; `RangeError`
   *   coded `UDPKIT_INVALID_ARGUMENT` when the window is full, `UDPKIT_MESSAGE_TOO_LARGE` when
   *   no datagram could carry it.
   */
  push(payload: Uint8Array): number {
    if (this.#state !== 'open') throw new UdpkitError('UDPKIT_CLOSED', `the reliable session is ${this.#state}`);
    if (!this.canPush()) throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', 'the send window is full: wait for canPush()');
    if (payload.length > maxReliablePayload(6)) {
      throw new UdpkitRangeError('UDPKIT_MESSAGE_TOO_LARGE', `message is ${payload.length} bytes; at most ${maxReliablePayload(6)}`);
    }
    const seq = this.#nextSeq++;
    const datagram = encodeData(this.#sessionId, seq, payload);
    this.#messages.set(seq, { datagram, sentAt: 0, rto: 0, deadline: 0, retransmitted: false, sacked: false });
    return seq;
  }

  /** No more pushes: the state becomes `'done'` once everything pushed is acknowledged. */
  finish(): void {
    if (this.#state !== 'open') return;
    this.#state = this.#base === this.#nextSeq ? 'done' : 'finishing';
  }

  /**
   * The datagrams to send now: retransmissions due, then messages never sent. Call after push,
   * receive, refused, and when the {@link nextDeadline} timer fires (early is harmless).
   * Fails the session (event) when nothing new was acknowledged for `ackTimeoutMs`.
   */
  pollTransmit(now: number): Buffer[] {
    if (this.#state === 'done' || this.#state === 'failed') return [];
    if (this.#base < this.#nextSend && now >= this.#lastProgress + this.#ackTimeoutMs) {
      this.#fail('timeout');
      return [];
    }
    const out: Buffer[] = [];
    for (let t = this.#liveTimer(); t !== undefined && t.at <= now; t = this.#liveTimer()) {
      this.#timers.pop();
      const m = this.#messages.get(t.id) as Message;
      m.retransmitted = true;
      m.rto = Math.min(2 * m.rto, this.#maxRtoMs);
      this.#transmit(t.id, m, now, out);
      this.#retransmissions++;
    }
    for (; this.#nextSend < this.#nextSeq; this.#nextSend++) {
      if (this.#base === this.#nextSend) this.#lastProgress = now;
      const m = this.#messages.get(this.#nextSend) as Message;
      m.rto = this.#rtt.rtoMs;
      this.#transmit(this.#nextSend, m, now, out);
    }
    return out;
  }

  /**
   * Takes a datagram from the receiver; returns false when it is not an ACK of this session
   * (ignored). An ACK that claims a message never sent is ignored whole. Call `poll` after.
   */
  handleDatagram(datagram: Uint8Array, now: number): boolean {
    const ack = decodeReliableFrame(datagram);
    if (ack?.kind !== 'ack' || !this.#sessionId.equals(ack.sessionId)) return false;
    if (this.#state === 'done' || this.#state === 'failed') return true;
    if (ack.cumulative > this.#nextSend || (ack.selective.at(-1) ?? -1) >= this.#nextSend) return true;
    let sample: Message | undefined;
    const take = (m: Message): void => {
      if (!m.retransmitted && !m.sacked && (sample === undefined || m.sentAt > sample.sentAt)) sample = m;
    };
    const before = this.#base;
    for (; this.#base < ack.cumulative; this.#base++) {
      take(this.#messages.get(this.#base) as Message);
      this.#messages.delete(this.#base);
      this.#events.push({ type: 'acked', seq: this.#base });
    }
    let progressed = this.#base > before;
    for (const seq of ack.selective) {
      const m = this.#messages.get(seq);
      if (m === undefined || m.sacked) continue;
      take(m);
      m.sacked = true;
      progressed = true;
    }
    if (progressed) this.#lastProgress = now;
    if (sample !== undefined) this.#rtt.sample(now - sample.sentAt);
    const highest = ack.selective.at(-1);
    if (highest !== undefined) {
      for (let seq = this.#base; seq < highest - FAST_RETRANSMIT_AFTER + 1; seq++) {
        const m = this.#messages.get(seq);
        if (m === undefined || m.sacked || m.fast || seq >= this.#nextSend) continue;
        m.fast = true;
        m.deadline = now;
        this.#timers.push(now, seq);
      }
    }
    if (this.#state === 'finishing' && this.#base === this.#nextSeq) this.#state = 'done';
    if (this.#timers.size > 2 * this.#messages.size + 64) this.#compactTimers();
    return true;
  }

  /** The OS reported the peer's port unreachable (ICMP): fail every unacknowledged message now. */
  handleRefused(): void {
    if (this.#state === 'open' || this.#state === 'finishing') this.#fail('refused');
  }

  /**
   * When {@link pollTransmit} must run next at the latest (absolute ms): a retransmission or the ACK
   * timeout; 0 when pushed messages wait to be sent; `undefined` when nothing is pending.
   */
  nextDeadline(): number | undefined {
    if (this.#state === 'done' || this.#state === 'failed') return undefined;
    if (this.#nextSend < this.#nextSeq) return 0;
    if (this.#base === this.#nextSend) return undefined;
    return Math.min(this.#liveTimer()?.at ?? Infinity, this.#lastProgress + this.#ackTimeoutMs);
  }

  /** Events since the last call, oldest first. Call after `receive`, `poll` and `refused`. */
  pollEvents(): ReliableSenderEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  #transmit(seq: number, m: Message, now: number, out: Buffer[]): void {
    if (m.fast && m.deadline !== now) m.fast = false;
    m.sentAt = now;
    m.deadline = now + m.rto;
    this.#timers.push(m.deadline, seq);
    out.push(m.datagram);
  }

  /** The earliest timer still meant, dropping those of acknowledged or since-resent messages. */
  #liveTimer(): Timer | undefined {
    for (let t = this.#timers.peek(); t !== undefined; t = this.#timers.peek()) {
      const m = this.#messages.get(t.id);
      if (m !== undefined && !m.sacked && m.deadline === t.at) return t;
      this.#timers.pop();
    }
    return undefined;
  }

  #compactTimers(): void {
    this.#timers.clear();
    for (const [seq, m] of this.#messages) if (!m.sacked && seq < this.#nextSend) this.#timers.push(m.deadline, seq);
  }

  #fail(reason: 'timeout' | 'refused'): void {
    const seqs = Array.from({ length: this.#nextSeq - this.#base }, (_, i) => this.#base + i);
    this.#events.push({ type: 'failed', seqs, reason });
    this.#messages.clear();
    this.#timers.clear();
    this.#state = 'failed';
  }
}
