/**
 * The shared key of sealed frames (docs/protocol.md, "Key derivation"): scrypt over the secret
 * with a fixed salt, so that both ends derive the same 32-byte key with no exchange.
 */
import { scryptSync } from 'node:crypto';
import { UdpkitRangeError, UdpkitTypeError } from '../errors.js';

/** Bytes of a ChaCha20-Poly1305 key. */
export const SEAL_KEY_LENGTH = 32;

/**
 * The fixed scrypt salt. A per-user salt would need an exchange before the first datagram; the
 * price of a fixed one is that a precomputed dictionary attack works against every udpkit user at
 * once, so only a long random secret protects you.
 */
export const SEAL_KEY_SALT = 'udpkit seal v1';

/** scrypt cost: N = 2^14, r = 8, p = 1 (16 MiB, tens of milliseconds). */
export const SEAL_SCRYPT = Object.freeze({ N: 1 << 14, r: 8, p: 1 });

/**
 * Derives the 32-byte sealing key from a shared secret. A string is NFC-normalised and encoded as
 * UTF-8 first, so the same passphrase typed on different systems gives the same key. Slow on
 * purpose (scrypt): call it once per process, not per datagram.
 * @throws `TypeError` coded `UDPKIT_INVALID_ARGUMENT` for an empty secret or one that is not a
 *   string or bytes.
 * @example
 * const key = deriveKey(process.env.UDPKIT_KEY ?? '');
 * const sealer = new Sealer(key);
 */
export function deriveKey(secret: string | Uint8Array): Buffer {
  const bytes =
    typeof secret === 'string' ? Buffer.from(secret.normalize('NFC'), 'utf8') : secret instanceof Uint8Array ? secret : undefined;
  if (bytes === undefined) {
    throw new UdpkitTypeError('UDPKIT_INVALID_ARGUMENT', 'the key secret must be a string or bytes');
  }
  if (bytes.length === 0) {
    throw new UdpkitTypeError('UDPKIT_INVALID_ARGUMENT', 'the key secret is empty');
  }
  // One process seals with one secret; remember it so several sockets cost one scrypt.
  if (lastDerived && Buffer.compare(lastDerived.secret, bytes) === 0) return Buffer.from(lastDerived.key);
  const key = scryptSync(bytes, SEAL_KEY_SALT, SEAL_KEY_LENGTH, SEAL_SCRYPT);
  lastDerived = { secret: Buffer.from(bytes), key: Buffer.from(key) };
  return key;
}

let lastDerived: { readonly secret: Buffer; readonly key: Buffer } | undefined;

/**
 * A private copy of a 32-byte key, or a coded error.
 * @example checkKey(deriveKey('correct horse battery staple')) // <Buffer ... 32 bytes>
 */
export function checkKey(key: Uint8Array): Buffer {
  return Buffer.from(exactBytes(key, SEAL_KEY_LENGTH, 'key (use deriveKey)'));
}

/**
 * `bytes` viewed as a Buffer when it has exactly `length` bytes; a coded error otherwise.
 * @example exactBytes(randomBytes(12), 12, 'nonce')
 */
export function exactBytes(bytes: Uint8Array, length: number, what: string): Buffer {
  if (!(bytes instanceof Uint8Array)) {
    throw new UdpkitTypeError('UDPKIT_INVALID_ARGUMENT', `the ${what} must be bytes`);
  }
  if (bytes.length !== length) {
    throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `the ${what} must be ${length} bytes, got ${bytes.length}`);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
