/**
 * Bench frames (docs/protocol.md, "Bench frames"): the test traffic and control messages of
 * `udpkit bench`. Pure encode/decode; every number is big-endian. After the common header:
 *
 *   DATA     type 0x42 'B'  session u64 @4, seq u64 @12, sentAt µs u64 @20, zero padding to -l
 *   CONTROL  type 0x43 'C'  op u8 @4, flags u8 @5, reserved u16 @6, session u64 @8, body @16
 *
 * Control ops: START, START_ACK, RESULT_REQUEST, RESULT, ECHO_REQUEST, ECHO_REPLY, GO,
 * SENT_REQUEST, SENT. A reply is never larger than the request that caused it, so a server
 * cannot be used to amplify a flood.
 * RESULT_REQUEST and RESULT with flag EXTENDED (0x02) are 96 bytes and carry one-way delay
 * variation as well; a server older than that flag ignores such a request, and the client then
 * asks again without it.
 *
 * START with flag REVERSE (0x04) or BIDIR (0x08) asks the server to send test traffic too; its
 * START_ACK is then 28 bytes, with a cookie the client returns in GO before the server sends a
 * thing (no traffic toward an address that did not prove it receives). SENT_REQUEST / SENT
 * (28 bytes each) ask and tell how many the server sent.
 *
 * Longer than most files (about 400 lines) for a reason: it is one wire format, and its encoder,
 * decoder and in-place fast paths (stamping, echo checks) share the private offsets and limits
 * above; split, the two halves of one layout would live in two files and drift apart.
 */
import { FRAME_MAGIC, FRAME_VERSION, FrameType, readFrameHeader, writeFrameHeader } from './frame-header.js';
import type { ReceiverCounts } from './bench-stats.js';

/** Frame type bytes of bench frames (see {@link FrameType}). */
export const BenchFrameType = {
  /** Test traffic: "B". */
  DATA: FrameType.BENCH_DATA,
  /** Control messages: "C". */
  CONTROL: FrameType.BENCH_CONTROL,
} as const;

/** Control operations, the byte at offset 4 of a control frame. */
export const BenchOp = {
  START: 1,
  START_ACK: 2,
  RESULT_REQUEST: 3,
  RESULT: 4,
  ECHO_REQUEST: 5,
  ECHO_REPLY: 6,
  GO: 7,
  SENT_REQUEST: 8,
  SENT: 9,
} as const;

/** Who sends test traffic: the client (default), the server (`--reverse`), or both (`--bidir`). */
export type BenchDirection = 'forward' | 'reverse' | 'bidir';

/** Bytes before a data frame's padding: the smallest test datagram (`-l`). */
export const BENCH_DATA_HEADER_LENGTH = 28;
/** Largest test datagram a START may announce. */
export const BENCH_MAX_LENGTH = 65535;
const CONTROL_HEADER = 16;
const START_LENGTH = 28;
const START_ACK_LENGTH = 20;
/** START_ACK with a cookie (reverse and bidir sessions), GO, SENT_REQUEST and SENT. */
const COOKIE_LENGTH = 28;
const FLAG_REVERSE = 0x04;
const FLAG_BIDIR = 0x08;
/** RESULT, and RESULT_REQUEST padded to it (no amplification). */
const RESULT_LENGTH = 72;
/** RESULT with the delay variation fields, and the RESULT_REQUEST padded to it. */
const RESULT_EXTENDED_LENGTH = 96;
const ECHO_MIN_LENGTH = 32;
const FLAG_FINAL = 0x01;
const FLAG_EXTENDED = 0x02;
/** Two 32-bit halves of all ones: "unknown" in an optional u64 field. */
const UNKNOWN_HI = 0xffffffff;
const TWO_32 = 2 ** 32;
/** High half of the largest safe integer: a u64 above 2^53 - 1 is malformed. */
const SAFE_HI = 2 ** 21;

/** Counts a server reports for one session, as carried by a RESULT frame. */
export interface BenchResultStats extends ReceiverCounts {
  /** Drops the kernel counted on the server's socket during the session, if it could read them. */
  readonly kernelDrops: number | undefined;
  /** One-way delay variation so far (see `DelayVariation`); only in an extended RESULT. */
  readonly delay?: DelayTotals | undefined;
}

/** Running totals of one-way delay variation, in µs: differences of two give an interval's mean. */
export interface DelayTotals {
  readonly sumUs: number;
  readonly count: number;
  readonly maxUs: number;
}

/** One decoded bench frame. Session ids are random 64-bit numbers chosen by the client. */
export type BenchFrame =
  | { readonly kind: 'data'; readonly session: bigint; readonly seq: number; readonly sentAt: number; readonly length: number }
  | { readonly kind: 'start'; readonly session: bigint; readonly length: number; readonly durationMs: number; readonly rate: number; readonly direction?: BenchDirection }
  | { readonly kind: 'start-ack'; readonly session: bigint; readonly status: 'accepted' | 'busy'; readonly cookie?: bigint }
  | { readonly kind: 'go'; readonly session: bigint; readonly cookie: bigint }
  | { readonly kind: 'sent-request'; readonly session: bigint }
  | { readonly kind: 'sent'; readonly session: bigint; readonly final: boolean; readonly sent: number }
  | { readonly kind: 'result-request'; readonly session: bigint; readonly final: boolean; readonly sent: number; readonly extended?: boolean }
  | { readonly kind: 'result'; readonly session: bigint; readonly final: boolean; readonly stats: BenchResultStats }
  | BenchEcho<'echo-request'>
  | BenchEcho<'echo-reply'>;

/** An echo request, or its reply: the same bytes with another op. `length` is the datagram's. */
interface BenchEcho<K extends 'echo-request' | 'echo-reply'> {
  readonly kind: K;
  readonly session: bigint;
  readonly seq: number;
  readonly sentAt: number;
  readonly length: number;
}

const OP_OF = {
  start: BenchOp.START,
  'start-ack': BenchOp.START_ACK,
  'result-request': BenchOp.RESULT_REQUEST,
  result: BenchOp.RESULT,
  'echo-request': BenchOp.ECHO_REQUEST,
  'echo-reply': BenchOp.ECHO_REPLY,
  go: BenchOp.GO,
  'sent-request': BenchOp.SENT_REQUEST,
  sent: BenchOp.SENT,
} as const;

function writeU64(buf: Buffer, offset: number, n: number | undefined): void {
  buf.writeUInt32BE(n === undefined ? UNKNOWN_HI : Math.floor(n / TWO_32), offset);
  buf.writeUInt32BE(n === undefined ? UNKNOWN_HI : n % TWO_32, offset + 4);
}

/** A u64 as a safe integer; `null` for all ones (unknown); NaN when above 2^53 - 1. */
function readU64(buf: Buffer, offset: number): number | null {
  const hi = buf.readUInt32BE(offset);
  const lo = buf.readUInt32BE(offset + 4);
  if (hi === UNKNOWN_HI && lo === UNKNOWN_HI) return null;
  return hi < SAFE_HI ? hi * TWO_32 + lo : NaN;
}

function frameBuffer(type: FrameType, length: number): Buffer {
  const buf = Buffer.alloc(length);
  writeFrameHeader(buf, type);
  return buf;
}

/**
 * Encodes one frame. `length` of data and echo frames is the whole datagram, zero-padded.
 * @example
 * encodeBenchFrame({ kind: 'data', session: 1n, seq: 0, sentAt: 1_700_000_000_000_000, length: 64 }).length // 64
 */
export function encodeBenchFrame(frame: BenchFrame): Buffer {
  if (frame.kind === 'data') {
    const buf = frameBuffer(BenchFrameType.DATA, frame.length);
    buf.writeBigUInt64BE(frame.session, 4);
    stampBenchData(buf, frame.seq, frame.sentAt);
    return buf;
  }
  const size = frame.kind === 'start' ? START_LENGTH
    : frame.kind === 'start-ack' ? (frame.cookie === undefined ? START_ACK_LENGTH : COOKIE_LENGTH)
    : frame.kind === 'go' || frame.kind === 'sent-request' || frame.kind === 'sent' ? COOKIE_LENGTH
    : frame.kind === 'result' ? (frame.stats.delay ? RESULT_EXTENDED_LENGTH : RESULT_LENGTH)
    : frame.kind === 'result-request' ? (frame.extended === true ? RESULT_EXTENDED_LENGTH : RESULT_LENGTH)
    : Math.max(ECHO_MIN_LENGTH, frame.length);
  const buf = frameBuffer(BenchFrameType.CONTROL, size);
  buf[4] = OP_OF[frame.kind];
  buf.writeBigUInt64BE(frame.session, 8);
  switch (frame.kind) {
    case 'start':
      buf[5] = frame.direction === 'reverse' ? FLAG_REVERSE : frame.direction === 'bidir' ? FLAG_BIDIR : 0;
      buf.writeUInt32BE(frame.length, 16);
      buf.writeUInt32BE(frame.durationMs, 20);
      buf.writeUInt32BE(frame.rate, 24);
      break;
    case 'start-ack':
      buf[16] = frame.status === 'accepted' ? 0 : 1;
      if (frame.cookie !== undefined) buf.writeBigUInt64BE(frame.cookie, 20);
      break;
    case 'go':
      buf.writeBigUInt64BE(frame.cookie, 16);
      break;
    case 'sent-request':
      break;
    case 'sent':
      buf[5] = frame.final ? FLAG_FINAL : 0;
      writeU64(buf, 16, frame.sent);
      break;
    case 'result-request':
      buf[5] = (frame.final ? FLAG_FINAL : 0) | (frame.extended === true ? FLAG_EXTENDED : 0);
      writeU64(buf, 16, frame.sent);
      break;
    case 'result': {
      const s = frame.stats;
      buf[5] = (frame.final ? FLAG_FINAL : 0) | (s.delay ? FLAG_EXTENDED : 0);
      const d = s.delay;
      [s.received, s.duplicates, s.outOfOrder, s.late, Math.round(s.jitterUs * 1000), s.spanUs, s.kernelDrops, ...(d ? [d.sumUs, d.count, d.maxUs] : [])]
        .forEach((n, i) => writeU64(buf, 16 + 8 * i, n));
      break;
    }
    default:
      writeU64(buf, 16, frame.seq);
      writeU64(buf, 24, frame.sentAt);
  }
  return buf;
}

/**
 * Rewrites the sequence number and timestamp of an encoded data frame in place: the sender's
 * fast path copies one template per datagram instead of encoding it again.
 * `at` is where the frame starts in `buf` (many frames in one buffer: the bench client's spans).
 * @example stampBenchData(frame, 41, nowUs)
 */
export function stampBenchData(buf: Buffer, seq: number, sentAt: number, at = 0): void {
  writeU64(buf, at + 12, seq);
  writeU64(buf, at + 20, sentAt);
}

/**
 * Rewrites the sequence number and timestamp of an encoded echo request in place, as
 * {@link stampBenchData} does for data frames.
 * @example stampBenchEcho(request, 7, nowUs)
 */
export function stampBenchEcho(buf: Buffer, seq: number, sentAt: number): void {
  writeU64(buf, 16, seq);
  writeU64(buf, 24, sentAt);
}

/** True when this version's header of a frame of `type` is at `buf[start]` (4 bytes there). */
function isHeaderAt(buf: Uint8Array, start: number, type: number): boolean {
  return buf[start] === FRAME_MAGIC >> 8 && buf[start + 1] === (FRAME_MAGIC & 0xff) && buf[start + 2] === FRAME_VERSION && buf[start + 3] === type;
}

/**
 * True when `buf[start, start + length)` is an echo frame with op `op` that
 * {@link decodeBenchFrame} accepts. Reads bytes in place and makes nothing: a round trip does
 * this once per echo on each side.
 */
function isEchoAt(buf: Uint8Array, start: number, length: number, op: number): boolean {
  return (
    length >= ECHO_MIN_LENGTH &&
    isHeaderAt(buf, start, BenchFrameType.CONTROL) &&
    buf[start + 4] === op &&
    buf[start + 5] === 0 &&
    buf[start + 6] === 0 &&
    buf[start + 7] === 0 &&
    // seq and sentAt are u64s below 2^53 (which also rules out all ones, "unknown"): the high
    // halves are below 2^21, so their first byte is 0 and the second below 0x20.
    buf[start + 16] === 0 &&
    (buf[start + 17] as number) < 0x20 &&
    buf[start + 24] === 0 &&
    (buf[start + 25] as number) < 0x20
  );
}

/**
 * True when `bytes` is an echo request {@link decodeBenchFrame} would accept: what a server
 * checks first, to answer it without decoding it into an object.
 * @example isEchoRequest(encodeBenchFrame({ kind: 'echo-request', session: 1n, seq: 0, sentAt: 5, length: 64 })) // true
 */
export function isEchoRequest(bytes: Uint8Array): boolean {
  return isEchoAt(bytes, 0, bytes.length, BenchOp.ECHO_REQUEST);
}

/**
 * The sequence number of the echo reply at `buf[start, start + length)` if it belongs to the
 * session whose id is `sessionHi * 2^32 + sessionLo`, else -1. For a client's round-trip loop,
 * which reads each reply in the receive buffer itself.
 * @example echoReplySeq(reply, 0, reply.length, 0, 1) // 7, for the reply to seq 7 of session 1n
 */
export function echoReplySeq(buf: Buffer, start: number, length: number, sessionHi: number, sessionLo: number): number {
  if (!isEchoAt(buf, start, length, BenchOp.ECHO_REPLY) || buf.readUInt32BE(start + 8) !== sessionHi || buf.readUInt32BE(start + 12) !== sessionLo) return -1;
  return buf.readUInt32BE(start + 16) * TWO_32 + buf.readUInt32BE(start + 20);
}

/**
 * True when `buf[start, start + length)` is a data frame {@link decodeBenchFrame} would accept:
 * for a server that counts data frames where they were received, with no object made for each.
 * The session id's halves are the u32s at `start + 4` and `start + 8`; {@link u64At} reads the
 * sequence number (`start + 12`) and the send time (`start + 20`).
 * @example isBenchDataAt(frame, 0, frame.length) // true for encodeBenchFrame({ kind: 'data', ... })
 */
export function isBenchDataAt(buf: Buffer, start: number, length: number): boolean {
  return (
    length >= BENCH_DATA_HEADER_LENGTH &&
    isHeaderAt(buf, start, BenchFrameType.DATA) &&
    // What readU64 takes as a number: neither "unknown" (all ones) nor above 2^53 - 1.
    buf.readUInt32BE(start + 12) < SAFE_HI &&
    buf.readUInt32BE(start + 20) < SAFE_HI
  );
}

/**
 * The u64 at `offset` as a number, for fields {@link isBenchDataAt} has checked are safe.
 * @example u64At(frame, 12) // the sequence number of a data frame
 */
export function u64At(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}

/** The fields every control op has; `undefined` when they break a rule. */
function decodeControl(buf: Buffer): BenchFrame | undefined {
  if (buf.length < CONTROL_HEADER || buf.readUInt16BE(6) !== 0) return undefined;
  const op = buf[4];
  const flags = buf[5] as number;
  const session = buf.readBigUInt64BE(8);
  const isResult = op === BenchOp.RESULT || op === BenchOp.RESULT_REQUEST;
  const allowed = isResult ? FLAG_FINAL | FLAG_EXTENDED : op === BenchOp.START ? FLAG_REVERSE | FLAG_BIDIR : op === BenchOp.SENT ? FLAG_FINAL : 0;
  if ((flags & ~allowed) !== 0 || flags === (FLAG_REVERSE | FLAG_BIDIR)) return undefined;
  const final = (flags & FLAG_FINAL) !== 0;
  const extended = (flags & FLAG_EXTENDED) !== 0;
  const resultLength = extended ? RESULT_EXTENDED_LENGTH : RESULT_LENGTH;
  switch (op) {
    case BenchOp.START: {
      if (buf.length !== START_LENGTH) return undefined;
      const length = buf.readUInt32BE(16);
      if (length < BENCH_DATA_HEADER_LENGTH || length > BENCH_MAX_LENGTH) return undefined;
      const direction: BenchDirection = flags === FLAG_REVERSE ? 'reverse' : flags === FLAG_BIDIR ? 'bidir' : 'forward';
      return { kind: 'start', session, length, durationMs: buf.readUInt32BE(20), rate: buf.readUInt32BE(24), ...(flags !== 0 ? { direction } : {}) };
    }
    case BenchOp.START_ACK: {
      const status = buf[16];
      if ((buf.length !== START_ACK_LENGTH && buf.length !== COOKIE_LENGTH) || (status !== 0 && status !== 1) || buf.readUIntBE(17, 3) !== 0) return undefined;
      const cookie = buf.length === COOKIE_LENGTH ? { cookie: buf.readBigUInt64BE(20) } : {};
      return { kind: 'start-ack', session, status: status === 0 ? 'accepted' : 'busy', ...cookie };
    }
    case BenchOp.GO:
      return buf.length === COOKIE_LENGTH && buf.readUInt32BE(24) === 0 ? { kind: 'go', session, cookie: buf.readBigUInt64BE(16) } : undefined;
    case BenchOp.SENT_REQUEST:
      return buf.length === COOKIE_LENGTH && buf.subarray(16).every((b) => b === 0) ? { kind: 'sent-request', session } : undefined;
    case BenchOp.SENT: {
      const sent = buf.length === COOKIE_LENGTH && buf.readUInt32BE(24) === 0 ? readU64(buf, 16) : NaN;
      return sent === null || Number.isNaN(sent) ? undefined : { kind: 'sent', session, final, sent };
    }
    case BenchOp.RESULT_REQUEST: {
      const sent = buf.length === resultLength ? readU64(buf, 16) : NaN;
      if (sent === null || Number.isNaN(sent)) return undefined;
      return { kind: 'result-request', session, final, sent, ...(extended ? { extended } : {}) };
    }
    case BenchOp.RESULT: {
      if (buf.length !== resultLength) return undefined;
      const n = Array.from({ length: (resultLength - CONTROL_HEADER) / 8 }, (_, i) => readU64(buf, 16 + 8 * i));
      // Only the kernel's drop count (7th) may be unknown.
      if (n.some((v, i) => Number.isNaN(v) || (v === null && i !== 6))) return undefined;
      const [received, duplicates, outOfOrder, late, jitterNs, spanUs, drops, sumUs, count, maxUs] = n as number[];
      const stats = {
        received, duplicates, outOfOrder, late, jitterUs: (jitterNs as number) / 1000, spanUs, kernelDrops: drops ?? undefined,
        ...(extended ? { delay: { sumUs, count, maxUs } } : {}),
      };
      return { kind: 'result', session, final, stats: stats as BenchResultStats };
    }
    case BenchOp.ECHO_REQUEST:
    case BenchOp.ECHO_REPLY: {
      if (buf.length < ECHO_MIN_LENGTH) return undefined;
      const seq = readU64(buf, 16);
      const sentAt = readU64(buf, 24);
      if (seq === null || sentAt === null || Number.isNaN(seq) || Number.isNaN(sentAt)) return undefined;
      const kind = op === BenchOp.ECHO_REQUEST ? 'echo-request' : 'echo-reply';
      return { kind, session, seq, sentAt, length: buf.length };
    }
    default:
      return undefined;
  }
}

/**
 * Decodes a bench frame, or `undefined` for anything else: another udpkit frame, a plain
 * datagram, an unknown version or op, a wrong size. Never throws.
 * @example decodeBenchFrame(Buffer.from('hello')) // undefined
 */
export function decodeBenchFrame(bytes: Uint8Array): BenchFrame | undefined {
  const header = readFrameHeader(bytes);
  if (header === undefined || header.version !== FRAME_VERSION) return undefined;
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (header.type === BenchFrameType.CONTROL) return decodeControl(buf);
  if (header.type !== BenchFrameType.DATA || buf.length < BENCH_DATA_HEADER_LENGTH) return undefined;
  const seq = readU64(buf, 12);
  const sentAt = readU64(buf, 20);
  if (seq === null || sentAt === null || Number.isNaN(seq) || Number.isNaN(sentAt)) return undefined;
  return { kind: 'data', session: buf.readBigUInt64BE(4), seq, sentAt, length: buf.length };
}

/**
 * The answer an echo request gets: the same bytes with the op turned into ECHO_REPLY.
 * @example echoReplyFor(requestBytes)[4] // BenchOp.ECHO_REPLY
 */
export function echoReplyFor(request: Uint8Array): Buffer {
  const reply = Buffer.from(request);
  reply[4] = BenchOp.ECHO_REPLY;
  return reply;
}

/**
 * Turns an echo request into its reply where it lies (the op byte) and returns true; returns
 * false, leaving the bytes alone, for anything else. For a server that answers from its receive
 * buffer: no copy per echo.
 * @example if (answerEchoInPlace(view)) socket.send(view);
 */
export function answerEchoInPlace(bytes: Uint8Array): boolean {
  if (!isEchoRequest(bytes)) return false;
  bytes[4] = BenchOp.ECHO_REPLY;
  return true;
}

/**
 * A session id as 16 hex digits, the way reports show it.
 * @example formatSessionId(0xabn) // '00000000000000ab'
 */
export function formatSessionId(session: bigint): string {
  return session.toString(16).padStart(16, '0');
}
