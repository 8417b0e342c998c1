/**
 * Opening sealed frames (layout in ./seal.ts and docs/protocol.md, "Sealed frames"): checks, in
 * this order, the common header, the Poly1305 tag, the destination port, the timestamp bounds
 * and the replay window. Pure: the caller passes the bytes, `now` and the port they came in on.
 */
import { createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { validateInteger } from '../validate.js';
import { FrameType, hasFrameMagic, readFrameHeader } from './frame-header.js';
import { ReplayGuard } from './replay-window.js';
import { MAX_UINT48, SEAL_CIPHER, SEAL_HEADER_LENGTH, SEAL_OVERHEAD, SEAL_TAG_LENGTH, SEAL_VERSION, SealField, SealFlag } from './seal.js';
import { checkKey } from './seal-key.js';

/** Why a datagram was refused. */
export type RefusalReason =
  /** Not a udpkit frame at all. */
  | 'plain'
  /** udpkit magic, but too short or not a sealed frame (another udpkit frame type included). */
  | 'malformed'
  /** A sealed-frame version this code does not know (version 1 included: it had no port). */
  | 'version'
  /** Authentication failed: another key, or any byte changed. */
  | 'forged'
  /** Authentic, but sealed for another destination port: replayed or sent here by mistake. */
  | 'misdirected'
  /** Timestamp older than `maxAgeMs` or further ahead than `maxFutureMs`. */
  | 'stale'
  /** This (sender, counter) was accepted before, or is older than the window. */
  | 'replayed';

/** What {@link Opener.open} makes of a datagram. */
export type OpenResult =
  | {
      readonly ok: true;
      readonly plaintext: Buffer;
      /** The sender id, 16 hex digits. Anyone with the key can claim any id. */
      readonly senderId: string;
      readonly counter: number;
      /** The sender's clock when sealing, ms since the epoch. */
      readonly timestamp: number;
      /** Sealed as an automatic answer (an echo, an ACK): never answer it automatically. */
      readonly answer: boolean;
    }
  | { readonly ok: false; readonly reason: RefusalReason };

/** Options of an {@link Opener}. */
export interface OpenerOptions {
  /** Oldest timestamp accepted, in ms before `now`. Default 60 000. */
  readonly maxAgeMs?: number;
  /** Furthest timestamp accepted, in ms after `now` (clock skew). Default 60 000. */
  readonly maxFutureMs?: number;
  /** Most senders whose replay windows are kept at once. Default 4096. */
  readonly maxSenders?: number;
  /** Counters remembered per sender below its highest. Default 1024. */
  readonly windowSize?: number;
}

const REFUSED = Object.fromEntries(
  (['plain', 'malformed', 'version', 'forged', 'misdirected', 'stale', 'replayed'] as const).map((reason) => [
    reason,
    Object.freeze({ ok: false, reason }),
  ]),
) as Readonly<Record<RefusalReason, OpenResult>>;

/**
 * Opens sealed datagrams for a listener and refuses plain, malformed, forged, misdirected, stale
 * and replayed ones. Authentication comes first, so nothing a forger sends changes any state.
 * Never throws on any bytes.
 * @example
 * const opener = new Opener(deriveKey(secret));
 * const r = opener.open(datagram, Date.now(), listener.address().port);
 * if (r.ok) handle(r.plaintext); else countRefused(r.reason);
 */
export class Opener {
  readonly #key: KeyObject;
  readonly #maxAgeMs: number;
  readonly #maxFutureMs: number;
  readonly #guard: ReplayGuard;

  /** @throws coded `TypeError`/`RangeError` (`UDPKIT_INVALID_ARGUMENT`) for a bad key or option. */
  constructor(key: Uint8Array, options: OpenerOptions = {}) {
    this.#key = createSecretKey(checkKey(key));
    this.#maxAgeMs = validateInteger(options.maxAgeMs ?? 60_000, { name: 'maxAgeMs', max: MAX_UINT48 });
    this.#maxFutureMs = validateInteger(options.maxFutureMs ?? 60_000, { name: 'maxFutureMs', max: MAX_UINT48 });
    this.#guard = new ReplayGuard({
      maxAgeMs: this.#maxAgeMs,
      maxSenders: validateInteger(options.maxSenders ?? 4096, { name: 'maxSenders', min: 1, max: 1 << 20 }),
      windowSize: validateInteger(options.windowSize ?? 1024, { name: 'windowSize', min: 1, max: 1 << 16 }),
    });
  }

  /** How many senders' replay windows are held (at most `maxSenders`). */
  get senderCount(): number {
    return this.#guard.size;
  }

  /**
   * Opens one received datagram. `now` is the receive time in ms since the epoch; `port` the
   * local port it arrived on (a listener's bound port, a sender's own port for replies), which
   * must be the port it was sealed for.
   */
  open(datagram: Uint8Array, now: number, port: number): OpenResult {
    const buf = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
    const header = readFrameHeader(buf);
    if (header === undefined) return hasFrameMagic(buf) ? REFUSED.malformed : REFUSED.plain;
    // Other frame types (a plain `send --ack` DATA frame) are not a sealed frame of another version.
    if (header.type !== FrameType.SEALED) return REFUSED.malformed;
    if (header.version !== SEAL_VERSION) return REFUSED.version;
    if (buf.length < SEAL_OVERHEAD) return REFUSED.malformed;
    const plaintext = this.#decrypt(buf);
    if (plaintext === undefined) return REFUSED.forged;
    if (buf.readUInt16BE(SealField.port.at) !== port) return REFUSED.misdirected;
    const timestamp = buf.readUIntBE(SealField.timestamp.at, 6);
    // Written so that a NaN `now` refuses rather than accepts.
    if (!(timestamp >= now - this.#maxAgeMs && timestamp <= now + this.#maxFutureMs)) return REFUSED.stale;
    const senderId = buf.toString('hex', SealField.senderId.at, SealField.senderId.at + SealField.senderId.length);
    const counter = buf.readUIntBE(SealField.counter.at, 6);
    if (!this.#guard.accept(senderId, counter, timestamp, now)) return REFUSED.replayed;
    const answer = (buf.readUInt16BE(SealField.flags.at) & SealFlag.ANSWER) !== 0;
    return { ok: true, plaintext, senderId, counter, timestamp, answer };
  }

  /** The plaintext, or `undefined` when the tag does not verify. */
  #decrypt(buf: Buffer): Buffer | undefined {
    const tagAt = buf.length - SEAL_TAG_LENGTH;
    try {
      const nonce = buf.subarray(SealField.nonce.at, SEAL_HEADER_LENGTH);
      const decipher = createDecipheriv(SEAL_CIPHER, this.#key, nonce, { authTagLength: SEAL_TAG_LENGTH });
      decipher.setAAD(buf.subarray(0, SEAL_HEADER_LENGTH), { plaintextLength: tagAt - SEAL_HEADER_LENGTH });
      decipher.setAuthTag(buf.subarray(tagAt));
      const head = decipher.update(buf.subarray(SEAL_HEADER_LENGTH, tagAt));
      const tail = decipher.final();
      return tail.length === 0 ? head : Buffer.concat([head, tail]);
    } catch {
      return undefined;
    }
  }
}
