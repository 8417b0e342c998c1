/**
 * `udpkit/protocol`: the pure protocol cores and codecs, for advanced users who drive them over
 * their own sockets (see docs/protocol.md for every wire format). Nothing here opens a socket or
 * reads the clock: bytes and `now` go in, bytes, events and deadlines come out.
 * test/unit/exports.test.ts pins the names exported here, so a change to this list is deliberate.
 */
export { FRAME_MAGIC, FRAME_VERSION, FrameType, readFrameHeader, type FrameHeader } from './frame-header.js';
export { Sealer, SEAL_VERSION, SEAL_OVERHEAD, SealFlag, maxSealedPlaintext, type SealerOptions, type SealOptions } from './seal.js';
export { Opener, type OpenerOptions, type OpenResult } from './opener.js';
export { deriveKey } from './seal-key.js';
export { ReliableSender, type ReliableSenderOptions, type ReliableSenderEvent } from './reliable-sender.js';
export { ReliableReceiver, type ReliableReceiverOptions, type ReliableReceipt, type ReliablePeer, type ReliableRefusal } from './reliable-receiver.js';
export { encodeData, encodeAck, decodeReliableFrame, maxReliablePayload, type ReliableFrame } from './reliable-frames.js';
export { IpmsgSession, type IpmsgSessionOptions, type IpmsgSessionState, type IpmsgEvent, type IpmsgDatagram, type IpmsgEndpoint, type IpmsgPeer, type IpmsgStats, type IpmsgSendOptions, type SealedMessage } from './ipmsg-session.js';
export {
  decodeIpmsgPacket,
  encodeIpmsgPacket,
  ipmsgCommandOf,
  messageText,
  IpmsgCommand,
  IpmsgOption,
  IPMSG_PORT,
  IPMSG_MAX_PACKET,
  DEFAULT_LEGACY_ENCODING,
  type IpmsgPacket,
  type IpmsgDecoded,
  type IpmsgPacketFields,
} from './ipmsg-packet.js';
export { encodeBenchFrame, decodeBenchFrame, BenchFrameType, BenchOp, type BenchFrame } from './bench-frames.js';
export { CaptureEncoder, LINKTYPE_RAW, type CaptureEncoderOptions, type CaptureBatch, type CaptureResolution } from './capture-write.js';
export { Impairment, type Fate, type ImpairmentCounts } from './impairment.js';
export { validateImpairment, type ImpairmentOptions, type ImpairmentSettings, type Direction } from './impairment-options.js';
export { seededRandom, type Random } from './seeded-random.js';
export { EchoGuard, type EchoGuardOptions, type EchoRefusal } from './echo-guard.js';
export { LineSplitter } from './line-splitter.js';
export { CaptureDecoder, MAX_CAPTURE_RECORD, type CapturePacket, type CaptureSkipReason } from './capture-read.js';
