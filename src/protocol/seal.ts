/**
 * Sealed frames, version 2 (docs/protocol.md, "Sealed frames"). Big-endian:
 *
 *   offset 0   magic      2   0x55 0x4B ("UK")
 *          2   version    1   2
 *          3   type       1   0x53 ("S")
 *          4   senderId   8   random per Sealer
 *         12   counter    6   uint48: 0, 1, 2... per Sealer
 *         18   timestamp  6   uint48, ms since the epoch (the `now` given to seal)
 *         24   port       2   the destination port: the frame opens only there
 *         26   flags      2   bit 0 ANSWER (an automatic answer: never answer it automatically)
 *         28   nonce     12   fresh random per datagram
 *         40   ciphertext     as long as the plaintext
 *     end-16   tag       16   Poly1305
 *
 * ChaCha20-Poly1305 under a 32-byte key, with the whole 40-byte header as additional
 * authenticated data. Version 1 (36-byte header, no port, no flags) is refused as `version`:
 * its frames opened on any port, so one captured for one listener worked on another.
 * Pure: the caller passes `now`; only the random source is impure, and injectable.
 */
import { createCipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { UdpkitRangeError } from '../errors.js';
import { MAX_UDP_PAYLOAD_IPV4, MAX_UDP_PAYLOAD_IPV6 } from '../validate.js';
import { FrameType, writeFrameHeader } from './frame-header.js';
import { checkKey, exactBytes } from './seal-key.js';
import { SEAL_HEADER_LENGTH, SEAL_OVERHEAD, SEAL_TAG_LENGTH, SEAL_VERSION } from './seal-layout.js';

export { SEAL_VERSION, SEAL_HEADER_LENGTH, SEAL_TAG_LENGTH, SEAL_OVERHEAD } from './seal-layout.js';

/** Where each header field starts, and its length in bytes (see the layout above). */
export const SealField = {
  senderId: { at: 4, length: 8 },
  counter: { at: 12, length: 6 },
  timestamp: { at: 18, length: 6 },
  port: { at: 24, length: 2 },
  flags: { at: 26, length: 2 },
  nonce: { at: 28, length: 12 },
} as const;

/**
 * Bits of the flags field. Senders leave the others 0; readers ignore them (they are
 * authenticated, so only a key holder could set them).
 */
export const SealFlag = {
  /**
   * Sent automatically in answer to a datagram (an echo, an acknowledgement). Whatever answers
   * datagrams on its own (`listen --echo`) must not answer this one: two of them would answer
   * each other for ever.
   */
  ANSWER: 0x0001,
} as const;

/** Largest counter or timestamp: both are uint48. */
export const MAX_UINT48 = 2 ** 48 - 1;
/** The node:crypto cipher name. */
export const SEAL_CIPHER = 'chacha20-poly1305';

/**
 * The largest plaintext that still fits one UDP datagram once sealed.
 * @example maxSealedPlaintext(4) // 65451 (65507 - 56)
 */
export function maxSealedPlaintext(family: 4 | 6): number {
  return (family === 4 ? MAX_UDP_PAYLOAD_IPV4 : MAX_UDP_PAYLOAD_IPV6) - SEAL_OVERHEAD;
}

/** Unused bytes of the last `randomBytes` batch: one call into OpenSSL per ~340 nonces, not one each. */
let pool = Buffer.alloc(0);
let poolAt = 0;

function pooledRandomBytes(n: number): Buffer {
  if (poolAt + n > pool.length) {
    pool = randomBytes(Math.max(n, 4096));
    poolAt = 0;
  }
  poolAt += n;
  return pool.subarray(poolAt - n, poolAt);
}

/** Options of a {@link Sealer}. */
export interface SealerOptions {
  /** Source of random bytes for the sender id and nonces (default: `crypto.randomBytes`, batched); tests pass a deterministic one. */
  readonly random?: (n: number) => Buffer;
  /** The 8-byte sender id; random by default. */
  readonly senderId?: Uint8Array;
}

/** Where a sealed datagram goes and what it is, for {@link Sealer.seal}. */
export interface SealOptions {
  /**
   * The UDP (or TCP) port the datagram is sent to. It is authenticated, and an {@link Opener}
   * refuses the frame on any other port (`misdirected`), so a frame captured on its way to one
   * listener cannot be replayed to another listener with the same key on another port.
   */
  readonly port: number;
  /** Mark it as an automatic answer ({@link SealFlag.ANSWER}); default false. */
  readonly answer?: boolean;
}

/**
 * Seals datagrams for one sender: each gets the next counter and a fresh nonce. Use one Sealer
 * per sending process (or socket); never share a sender id between two Sealers.
 * @example
 * const sealer = new Sealer(deriveKey(secret));
 * socket.send(sealer.seal(Buffer.from('hello'), Date.now(), { port }), port, host);
 */
export class Sealer {
  readonly #key: KeyObject;
  readonly #random: (n: number) => Buffer;
  readonly #senderId: Buffer;
  #counter = 0;

  /** @throws coded `TypeError`/`RangeError` (`UDPKIT_INVALID_ARGUMENT`) for a bad key or sender id. */
  constructor(key: Uint8Array, options: SealerOptions = {}) {
    this.#key = createSecretKey(checkKey(key));
    this.#random = options.random ?? pooledRandomBytes;
    const { length } = SealField.senderId;
    this.#senderId = Buffer.from(exactBytes(options.senderId ?? this.#random(length), length, 'sender id'));
  }

  /** This sealer's sender id, as hex (what {@link Opener.open} reports). */
  get senderId(): string {
    return this.#senderId.toString('hex');
  }

  /**
   * Seals one plaintext as one datagram for `to.port`, stamped with `now` (ms since the epoch,
   * e.g. `Date.now()`).
   * @throws `RangeError` coded `UDPKIT_MESSAGE_TOO_LARGE` when no UDP datagram could carry it;
   *   `UDPKIT_INVALID_ARGUMENT` for a `now` outside uint48, after 2^48 datagrams, or a port
   *   that is not 1 to 65535.
   */
  seal(plaintext: Uint8Array, now: number, to: SealOptions): Buffer {
    if (plaintext.length > maxSealedPlaintext(6)) {
      throw new UdpkitRangeError(
        'UDPKIT_MESSAGE_TOO_LARGE',
        `message is ${plaintext.length} bytes; sealed, one UDP datagram carries at most ${maxSealedPlaintext(6)}`,
      );
    }
    const timestamp = Math.floor(now);
    if (!(timestamp >= 0 && timestamp <= MAX_UINT48)) {
      throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `now must be ms since the epoch, got ${String(now)}`);
    }
    const port = to?.port;
    if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) {
      throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `the destination port must be 1 to 65535, got ${String(port)}`);
    }
    if (this.#counter > MAX_UINT48) {
      throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', 'this Sealer has used all 2^48 counters; make a new one');
    }
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + plaintext.length);
    writeFrameHeader(out, FrameType.SEALED, SEAL_VERSION);
    this.#senderId.copy(out, SealField.senderId.at);
    out.writeUIntBE(this.#counter, SealField.counter.at, 6);
    out.writeUIntBE(timestamp, SealField.timestamp.at, 6);
    out.writeUInt16BE(port, SealField.port.at);
    out.writeUInt16BE(to.answer === true ? SealFlag.ANSWER : 0, SealField.flags.at);
    const nonce = exactBytes(this.#random(SealField.nonce.length), SealField.nonce.length, 'nonce');
    nonce.copy(out, SealField.nonce.at);
    const cipher = createCipheriv(SEAL_CIPHER, this.#key, nonce, { authTagLength: SEAL_TAG_LENGTH });
    cipher.setAAD(out.subarray(0, SEAL_HEADER_LENGTH), { plaintextLength: plaintext.length });
    const body = cipher.update(plaintext);
    body.copy(out, SEAL_HEADER_LENGTH);
    cipher.final().copy(out, SEAL_HEADER_LENGTH + body.length);
    cipher.getAuthTag().copy(out, out.length - SEAL_TAG_LENGTH);
    this.#counter++;
    return out;
  }
}
