/** The runtime names of udpkit's two entry points, as released: pinned by test/unit/exports.test.ts and test/integration/pack.test.ts. */
// The public surface, pinned: adding or removing a name here is a decision about udpkit's API
// (semver), not a side effect of exporting something for a test. Internals are imported from
// their modules, never from these two entry points.
export const TOP_LEVEL = [
  'BenchError', 'BenchServer', 'Broadcaster', 'CaptureReader', 'CaptureWriter', 'Chat', 'DEFAULT_BENCH_PORT', 'DEFAULT_BENCH_RATE', 'DEFAULT_PORT',
  'Listener', 'MAX_UDP_PAYLOAD_IPV4', 'MAX_UDP_PAYLOAD_IPV6', 'Relay', 'Sender', 'UdpkitError', 'UdpkitRangeError',
  'UdpkitTypeError', 'UsageError', 'benchClient', 'benchLoopback', 'benchServer', 'broadcast', 'chat', 'isUdpkitError',
  'isUsageError', 'listen', 'networkInfo', 'openBroadcaster', 'openSender', 'readCapture', 'relay', 'send', 'sendReliably',
];

export const PROTOCOL = [
  'BenchFrameType', 'BenchOp', 'CaptureDecoder', 'CaptureEncoder', 'DEFAULT_LEGACY_ENCODING', 'EchoGuard', 'FRAME_MAGIC', 'FRAME_VERSION', 'FrameType',
  'IPMSG_MAX_PACKET', 'IPMSG_PORT', 'Impairment', 'IpmsgCommand', 'IpmsgOption', 'IpmsgSession', 'LINKTYPE_RAW', 'LineSplitter', 'MAX_CAPTURE_RECORD',
  'Opener', 'ReliableReceiver', 'ReliableSender', 'SEAL_OVERHEAD', 'SEAL_VERSION', 'SealFlag', 'Sealer',
  'decodeBenchFrame', 'decodeIpmsgPacket', 'decodeReliableFrame', 'deriveKey', 'encodeAck', 'encodeBenchFrame',
  'encodeData', 'encodeIpmsgPacket', 'ipmsgCommandOf', 'maxReliablePayload', 'maxSealedPlaintext', 'messageText',
  'readFrameHeader', 'seededRandom', 'validateImpairment',
];
