/**
 * The sizes of a sealed frame (layout in seal.ts and docs/protocol.md), apart from the sealing
 * code: a plain `udpkit send` needs the overhead to size its messages, and importing seal.ts
 * (node:crypto) for one number cost it 2-3 ms of start-up (measured). seal.ts re-exports these.
 */

/** The sealed-frame layout version this code writes and reads (1 is refused: see seal.ts). */
export const SEAL_VERSION = 2;
/** Bytes of the sealed header (also the additional authenticated data). */
export const SEAL_HEADER_LENGTH = 40;
/** Bytes of the Poly1305 tag at the end. */
export const SEAL_TAG_LENGTH = 16;
/** Bytes a sealed datagram adds to its plaintext: header (40) + tag (16). */
export const SEAL_OVERHEAD = SEAL_HEADER_LENGTH + SEAL_TAG_LENGTH;
