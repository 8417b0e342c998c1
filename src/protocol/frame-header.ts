/**
 * The header every udpkit frame starts with (docs/protocol.md, "Common frame header"):
 *
 *   offset 0  magic    2 bytes  0x55 0x4B ("UK")
 *   offset 2  version  1 byte   layout version of this frame type (1 today)
 *   offset 3  type     1 byte   FrameType
 *
 * A datagram that does not start with the magic is not a udpkit frame: a plain datagram.
 */

/** The two magic bytes 0x55 0x4B ("UK"), read as one big-endian 16-bit number. */
export const FRAME_MAGIC = 0x554b;

/** The layout version udpkit writes today. A reader refuses versions it does not know. */
export const FRAME_VERSION = 1;

/** Bytes in the common header: magic (2), version (1), type (1). */
export const FRAME_HEADER_LENGTH = 4;

/**
 * Frame types, the byte at offset 3. Values are ASCII capitals so a hex dump reads them.
 * @example FrameType.SEALED // 0x53, "S"
 */
export const FrameType = {
  /** A datagram sealed with a shared key (`--key`): "S". */
  SEALED: 0x53,
  /** `udpkit bench` test traffic: "B". */
  BENCH_DATA: 0x42,
  /** `udpkit bench` control messages: "C". */
  BENCH_CONTROL: 0x43,
  /** Reliable delivery (`--ack`): a sequence-numbered message, "D". */
  DATA: 0x44,
  /** Reliable delivery (`--ack`): a cumulative and selective acknowledgement, "A". */
  ACK: 0x41,
} as const;

/** One of the known frame type bytes. */
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** What the common header says. `type` is any byte: a reader decides whether it knows it. */
export interface FrameHeader {
  readonly version: number;
  readonly type: number;
}

/**
 * True when `buf` starts with the udpkit magic, however short it is otherwise.
 * @example hasFrameMagic(Buffer.from('UK')) // true
 */
export function hasFrameMagic(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === FRAME_MAGIC >> 8 && buf[1] === (FRAME_MAGIC & 0xff);
}

/**
 * Reads the common header, or `undefined` when `buf` is not a udpkit frame (no magic, or too
 * short to hold the header).
 * @example readFrameHeader(Buffer.from([0x55, 0x4b, 1, 0x53])) // { version: 1, type: 0x53 }
 */
export function readFrameHeader(buf: Uint8Array): FrameHeader | undefined {
  if (buf.length < FRAME_HEADER_LENGTH || !hasFrameMagic(buf)) return undefined;
  return { version: buf[2] as number, type: buf[3] as number };
}

/**
 * Writes the common header at the start of `buf` (which must hold at least 4 bytes).
 * @example writeFrameHeader(Buffer.alloc(36), FrameType.SEALED)
 */
export function writeFrameHeader(buf: Uint8Array, type: FrameType, version: number = FRAME_VERSION): void {
  buf[0] = FRAME_MAGIC >> 8;
  buf[1] = FRAME_MAGIC & 0xff;
  buf[2] = version;
  buf[3] = type;
}
