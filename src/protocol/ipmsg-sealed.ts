/**
 * Sealed IP Messenger messages (SECRETOPT; docs/protocol.md, "Absence and sealed messages").
 * Received ones wait, unread, until opened by their local number (`/open N`); opening one sends
 * READMSG back (with READCHECKOPT when the message asked for it, and then again until ANSREADMSG
 * comes). Waiting messages are charged to a {@link MemoryBudget} (text + {@link ENTRY_OVERHEAD}
 * each): past it, a sealed message is refused, unconfirmed, so its sender learns it did not
 * arrive. Sent ones are remembered (the last {@link SENT_KEPT}) so that a READMSG is believed only
 * from the peer the message went to. Pure bookkeeping.
 */
import { MemoryBudget } from './memory-budget.js';
import type { IpmsgPeer } from './ipmsg-peers.js';

/** Bytes of sealed messages held unread at most, overhead included: about 120 of the largest (8 KB), 2,000 short ones. */
export const DEFAULT_MAX_SEALED_BYTES = 1 << 20;

/** Sealed messages we sent whose READMSG is still believed. */
const SENT_KEPT = 1024;

/** A sealed message waiting to be opened. */
export interface SealedMessage {
  /** Its local number, 1, 2, 3... in order of arrival. */
  readonly id: number;
  readonly from: IpmsgPeer;
  readonly packetNo: number;
  readonly text: string;
  readonly direct: boolean;
  /** The sender asked for READCHECKOPT: our READMSG must be confirmed with ANSREADMSG. */
  readonly readCheck: boolean;
}

/**
 * Received sealed messages, unread, and the sealed messages we sent.
 * @example
 * const box = new SealedMessages();
 * const m = box.hold({ from: peer, packetNo: 7, text: 'secret', direct: true, readCheck: true });
 * box.open(m!.id); // the message, now taken out
 */
export class SealedMessages {
  readonly #unread = new Map<number, SealedMessage>();
  readonly #budget: MemoryBudget;
  readonly #sent = new Map<string, boolean>();
  #nextId = 1;

  constructor(maxBytes: number = DEFAULT_MAX_SEALED_BYTES) {
    this.#budget = new MemoryBudget({ limit: maxBytes, name: 'maxSealedBytes' });
  }

  /** Whether a message of `text` would be held now. */
  fits(text: string): boolean {
    return this.#budget.fits(Buffer.byteLength(text));
  }

  /** Holds a received sealed message; `undefined` when it does not fit (see {@link fits}). */
  hold(m: Omit<SealedMessage, 'id'>): SealedMessage | undefined {
    if (!this.#budget.charge(Buffer.byteLength(m.text))) return undefined;
    const held = { ...m, id: this.#nextId++ };
    this.#unread.set(held.id, held);
    return held;
  }

  /** Takes message `id` out to be shown; `undefined` when there is none by that number. */
  open(id: number): SealedMessage | undefined {
    const m = this.#unread.get(id);
    if (m === undefined) return undefined;
    this.#unread.delete(id);
    this.#budget.release(Buffer.byteLength(m.text));
    return m;
  }

  /** The messages waiting, oldest first. */
  unread(): SealedMessage[] {
    return [...this.#unread.values()];
  }

  /** Notes a sealed message we sent to `peerKey` as `packetNo`. */
  sent(peerKey: string, packetNo: number): void {
    if (this.#sent.size >= SENT_KEPT) this.#sent.delete(this.#sent.keys().next().value as string);
    this.#sent.set(`${peerKey}#${packetNo}`, false);
  }

  /**
   * A READMSG for `packetNo` came from `peerKey`: `'first'` the first time, `'again'` for a
   * resent one (confirm it, do not report it twice), `'unknown'` when we sent it no such message.
   */
  read(peerKey: string, packetNo: number): 'first' | 'again' | 'unknown' {
    const id = `${peerKey}#${packetNo}`;
    const seen = this.#sent.get(id);
    if (seen === undefined) return 'unknown';
    this.#sent.set(id, true);
    return seen ? 'again' : 'first';
  }
}
