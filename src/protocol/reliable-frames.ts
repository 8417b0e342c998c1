/**
 * Reliable-delivery frames, version 1 (docs/protocol.md, "Reliable delivery"). Big-endian:
 *
 *   DATA  type 0x44 'D'  session 8 @4, seq u32 @12, payload @16
 *   ACK   type 0x41 'A'  session 8 @4, cumulative u32 @12, selective bitmap 8 @16; 24 bytes
 *
 * `cumulative`: every seq below it was accepted. Bitmap bit i (most significant bit of byte
 * 16 first) stands for seq cumulative + 1 + i. Pure encode/decode; decode never throws.
 */
import { UdpkitRangeError } from '../errors.js';
import { MAX_UDP_PAYLOAD_IPV4, MAX_UDP_PAYLOAD_IPV6 } from '../validate.js';
import { FRAME_VERSION, FrameType, readFrameHeader, writeFrameHeader } from './frame-header.js';
import { exactBytes } from './seal-key.js';

/** Bytes of a session id. */
export const SESSION_ID_LENGTH = 8;
/** Bytes a DATA frame adds to its payload. */
export const RELIABLE_DATA_OVERHEAD = 16;
/** Bytes of an ACK frame, always. */
export const RELIABLE_ACK_LENGTH = 24;
/** Sequence numbers one ACK's bitmap covers after its cumulative point. */
export const SACK_SPAN = 64;
/** Largest sequence number: a session carries at most 2^32 - 1 messages, so `cumulative` fits a u32. */
export const MAX_SEQ = 0xfffffffe;

/** One decoded frame. `sessionId` and `payload` are views of the decoded bytes, not copies. */
export type ReliableFrame =
  | { readonly kind: 'data'; readonly sessionId: Buffer; readonly seq: number; readonly payload: Buffer }
  | {
      readonly kind: 'ack';
      readonly sessionId: Buffer;
      readonly cumulative: number;
      /** Sequence numbers above `cumulative` accepted out of order, ascending. */
      readonly selective: readonly number[];
    };

/**
 * The largest message a DATA frame carries in one UDP datagram (before any sealing).
 * @example maxReliablePayload(4) // 65491
 */
export function maxReliablePayload(family: 4 | 6): number {
  return (family === 4 ? MAX_UDP_PAYLOAD_IPV4 : MAX_UDP_PAYLOAD_IPV6) - RELIABLE_DATA_OVERHEAD;
}

function checkSeq(seq: number, max: number, what: string): void {
  if (!(Number.isInteger(seq) && seq >= 0 && seq <= max)) {
    throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `${what} must be a whole number from 0 to ${max}, got ${seq}`);
  }
}

function frame(type: FrameType, length: number, sessionId: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(length);
  writeFrameHeader(buf, type);
  exactBytes(sessionId, SESSION_ID_LENGTH, 'session id').copy(buf, 4);
  return buf;
}

/**
 * Encodes a DATA frame.
 * @throws `RangeError` coded `UDPKIT_INVALID_ARGUMENT` for a seq above {@link MAX_SEQ} or a
 *   session id that is not 8 bytes.
 * @example encodeData(sessionId, 0, Buffer.from('hello')).length // 21
 */
export function encodeData(sessionId: Uint8Array, seq: number, payload: Uint8Array): Buffer {
  checkSeq(seq, MAX_SEQ, 'seq');
  const buf = frame(FrameType.DATA, RELIABLE_DATA_OVERHEAD + payload.length, sessionId);
  buf.writeUInt32BE(seq, 12);
  buf.set(payload, RELIABLE_DATA_OVERHEAD);
  return buf;
}

/**
 * Encodes an ACK frame. `selective` lists seqs from cumulative + 1 to cumulative + 64.
 * @throws `RangeError` coded `UDPKIT_INVALID_ARGUMENT` for a seq outside those bounds.
 * @example encodeAck(sessionId, 3, [5, 6]) // everything below 3 accepted, and 5 and 6
 */
export function encodeAck(sessionId: Uint8Array, cumulative: number, selective: Iterable<number>): Buffer {
  checkSeq(cumulative, MAX_SEQ + 1, 'cumulative');
  const buf = frame(FrameType.ACK, RELIABLE_ACK_LENGTH, sessionId);
  buf.writeUInt32BE(cumulative, 12);
  buf.fill(0, 16);
  for (const seq of selective) {
    const i = seq - cumulative - 1;
    if (!(Number.isInteger(i) && i >= 0 && i < SACK_SPAN && seq <= MAX_SEQ)) {
      throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `selective seq ${seq} is outside ${cumulative + 1}..${cumulative + SACK_SPAN}`);
    }
    buf[16 + (i >> 3)] = (buf[16 + (i >> 3)] as number) | (0x80 >> (i & 7));
  }
  return buf;
}

/**
 * Decodes a DATA or ACK frame, or `undefined` for anything else: a plain datagram, another
 * udpkit frame, an unknown version, a wrong size, seq 0xffffffff, or a bitmap bit beyond
 * {@link MAX_SEQ}. Never throws.
 * @example decodeReliableFrame(Buffer.from('hello')) // undefined
 */
export function decodeReliableFrame(bytes: Uint8Array): ReliableFrame | undefined {
  const header = readFrameHeader(bytes);
  if (header === undefined || header.version !== FRAME_VERSION) return undefined;
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (header.type === FrameType.DATA && buf.length >= RELIABLE_DATA_OVERHEAD) {
    const seq = buf.readUInt32BE(12);
    if (seq > MAX_SEQ) return undefined;
    return { kind: 'data', sessionId: buf.subarray(4, 12), seq, payload: buf.subarray(RELIABLE_DATA_OVERHEAD) };
  }
  if (header.type !== FrameType.ACK || buf.length !== RELIABLE_ACK_LENGTH) return undefined;
  const cumulative = buf.readUInt32BE(12);
  const selective: number[] = [];
  for (let byte = 0; byte < SACK_SPAN / 8; byte++) {
    const bits = buf[16 + byte] as number;
    if (bits === 0) continue;
    for (let bit = 0; bit < 8; bit++) if ((bits & (0x80 >> bit)) !== 0) selective.push(cumulative + 1 + byte * 8 + bit);
  }
  if (selective.length > 0 && (selective.at(-1) as number) > MAX_SEQ) return undefined;
  return { kind: 'ack', sessionId: buf.subarray(4, 12), cumulative, selective };
}
