/**
 * IP Messenger messages waiting for their receipt: a SENDMSG sent with SENDCHECKOPT is sent
 * again every `retransmitMs` until the peer's RECVMSG names its packet number, at most
 * `maxRetransmits` times; one retransmission interval after the last, it is given up. Pure.
 */
import type { IpmsgPeer } from './ipmsg-peers.js';

/** Retransmission settings, in ms. */
export interface IpmsgRetransmit {
  readonly retransmitMs: number;
  readonly maxRetransmits: number;
}

/** A message in flight. */
export interface PendingMessage {
  readonly packetNo: number;
  /** Whom it went to, as known when it was sent. */
  readonly peer: IpmsgPeer;
  readonly data: Buffer;
  /** Retransmissions so far. */
  retransmits: number;
  nextAt: number;
}

/**
 * Messages awaiting RECVMSG, by packet number.
 * @example
 * const outbox = new IpmsgOutbox({ retransmitMs: 1000, maxRetransmits: 5 });
 * outbox.add({ packetNo: 7, peer, data }, now);
 * outbox.due(now + 1000).resend; // [the message]
 * outbox.confirm(peer.key, 7);    // its RECVMSG came
 */
export class IpmsgOutbox {
  readonly #pending = new Map<number, PendingMessage>();
  readonly #settings: IpmsgRetransmit;

  constructor(settings: IpmsgRetransmit) {
    this.#settings = settings;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Tracks a message just sent for the first time at `now`. */
  add(message: Omit<PendingMessage, 'retransmits' | 'nextAt'>, now: number): void {
    this.#pending.set(message.packetNo, { ...message, retransmits: 0, nextAt: now + this.#settings.retransmitMs });
  }

  /** Takes the message `packetNo` out when `peerKey` is whom it went to (its receipt came). */
  confirm(peerKey: string, packetNo: number): PendingMessage | undefined {
    const m = this.#pending.get(packetNo);
    if (m === undefined || m.peer.key !== peerKey) return undefined;
    this.#pending.delete(packetNo);
    return m;
  }

  /** Takes out every message to `peerKey` (it left), or every message when no key is given. */
  abandon(peerKey?: string): PendingMessage[] {
    const out: PendingMessage[] = [];
    for (const m of this.#pending.values()) {
      if (peerKey === undefined || m.peer.key === peerKey) {
        this.#pending.delete(m.packetNo);
        out.push(m);
      }
    }
    return out;
  }

  /** The messages to send again now, and those given up (taken out). */
  due(now: number): { resend: PendingMessage[]; failed: PendingMessage[] } {
    const resend: PendingMessage[] = [];
    const failed: PendingMessage[] = [];
    const { retransmitMs, maxRetransmits } = this.#settings;
    for (const m of this.#pending.values()) {
      if (m.nextAt > now) continue;
      if (m.retransmits >= maxRetransmits) {
        this.#pending.delete(m.packetNo);
        failed.push(m);
        continue;
      }
      m.retransmits++;
      // From the due time, not `now`: a late timer does not stretch the schedule.
      m.nextAt = Math.max(m.nextAt + retransmitMs, now + 1);
      resend.push(m);
    }
    return { resend, failed };
  }

  /** When {@link due} has something to do next. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const m of this.#pending.values()) if (next === undefined || m.nextAt < next) next = m.nextAt;
    return next;
  }
}
