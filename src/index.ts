/** udpkit: UDP messaging for Node.js. Public re-exports only. */
export * from './errors.js';
export * from './types.js';
export {
  validatePort,
  validateHost,
  parseHostPort,
  parseHex,
  checkPayloadSize,
  MAX_UDP_PAYLOAD_IPV4,
  MAX_UDP_PAYLOAD_IPV6,
  type HostPort,
} from './validate.js';
export { listen, Listener, DEFAULT_PORT, type ListenOptions, type BoundAddress, type ListenerStats, type RefusalReason, type EchoStats } from './transport/listener.js';
export { EchoGuard, ECHO_PEER_LIMIT, ECHO_REPEAT_LIMIT, type EchoRefusal, type EchoGuardOptions, type EchoCandidate, type EchoBucket } from './protocol/echo-guard.js';
export { send, openSender, Sender, type SenderOptions, type SendOptions, type SenderStats, type DatagramSpans } from './transport/sender.js';
export { isMulticastAddress, validateGroups, DEFAULT_MULTICAST_TTL, type MulticastGroups } from './socket/multicast.js';
export { resolveHost, systemLookup, type ResolveOptions, type ResolvedAddress } from './socket/resolve.js';
export { directedBroadcast, isBroadcastAddress, LIMITED_BROADCAST } from './net/broadcast-address.js';
export { sanitizeBytes, sanitizeText } from './format/sanitize.js';
export { formatTextLine, formatJsonLine, formatHexDump, datagramToJson, type DatagramJson } from './format/datagram.js';
export { networkInfo, type NetworkInfo } from './net/network-info.js';
export { primaryInterface, selectPrimary, type PrimaryInterface } from './net/primary.js';
export { listInterfaces, isInterfaceUp, ipv6Scope, type NetworkInterface, type Ipv4Address, type Ipv6Address, type InterfaceState, type Ipv6Scope } from './net/interfaces.js';
export { readRoutes, parseRouteTable, parseIpv6RouteTable, defaultRoute, type Route, type Ipv4Route, type Ipv6Route, type RoutingTables } from './net/routes.js';
export { hostnameLoopbackNote, loopbackNoteFor, parseHostsFile, type HostsEntry } from './net/hosts-file.js';
export type { NetOsReaders, NetOsOptions } from './net/os-readers.js';
export { broadcast, openBroadcaster, Broadcaster, broadcastTargets, type BroadcastOptions, type BroadcastTarget, type BroadcastSent } from './transport/broadcast.js';
export { formatNetworkInfo, networkInfoJson, type InfoView } from './format/network-info.js';
export { parseCidrList, createAddressFilter } from './net/address-filter.js';
export { kernelDropsForFd, udpDropsForInode } from './net/socket-drops.js';
export { FRAME_MAGIC, FRAME_VERSION, FrameType, readFrameHeader, type FrameHeader } from './protocol/frame-header.js';
export { Sealer, SEAL_VERSION, SEAL_OVERHEAD, SealFlag, maxSealedPlaintext, type SealerOptions, type SealOptions } from './protocol/seal.js';
export { Opener, type OpenerOptions, type OpenResult } from './protocol/opener.js';
export { deriveKey } from './protocol/seal-key.js';
export { benchServer, BenchServer, DEFAULT_BENCH_PORT, type BenchServerOptions } from './transport/bench-server.js';
export { benchClient, BenchError, DEFAULT_BENCH_RATE, type BenchClientOptions, type BenchProgress } from './transport/bench-client.js';
export { benchLoopback, type BenchLoopbackOptions } from './transport/bench-loopback.js';
export type { BenchReport, BenchRtt } from './protocol/bench-report.js';
export { encodeBenchFrame, decodeBenchFrame, BenchFrameType, BenchOp, BENCH_DATA_HEADER_LENGTH, type BenchFrame } from './protocol/bench-frames.js';
export { formatBenchReport, benchReportJson } from './format/bench.js';
export { relay, Relay, type RelayOptions, type RelayStats, type RelayDirectionStats } from './transport/relay.js';
export { Impairment, decide, type Fate, type Decision, type ImpairmentCounts } from './protocol/impairment.js';
export { validateImpairment, type ImpairmentOptions, type ImpairmentSettings, type Direction } from './protocol/impairment-options.js';
export { seededRandom, type Random } from './protocol/seeded-random.js';
export { formatRelayStats, relayStatsJson } from './format/relay.js';
export { sendReliably, type ReliableSendOptions, type ReliableSendResult } from './transport/reliable-send.js';
export { ReliableSender, type ReliableSenderOptions, type ReliableSenderEvent } from './protocol/reliable-sender.js';
export { ReliableReceiver, type ReliableReceiverOptions, type ReliableReceipt, type ReliablePeer, type ReliableRefusal } from './protocol/reliable-receiver.js';
export { encodeData, encodeAck, decodeReliableFrame } from './protocol/reliable-frames.js';
export { chat, Chat, type ChatOptions, type ChatStats } from './transport/chat.js';
export { IpmsgSession, type IpmsgSessionOptions, type IpmsgSessionState, type IpmsgEvent, type IpmsgDatagram, type IpmsgEndpoint, type IpmsgPeer, type IpmsgStats } from './protocol/ipmsg-session.js';
export {
  decodeIpmsgPacket,
  encodeIpmsgPacket,
  validateLegacyEncoding,
  ipmsgCommandOf,
  entryExtra,
  parseEntryExtra,
  messageText,
  confirmedPacketNo,
  IpmsgCommand,
  IpmsgOption,
  IPMSG_PORT,
  IPMSG_MAX_PACKET,
  DEFAULT_LEGACY_ENCODING,
  type IpmsgPacket,
  type IpmsgPacketFields,
} from './protocol/ipmsg-packet.js';
export { findPeers } from './protocol/ipmsg-peers.js';
export { chatEventJson, formatChatEvent, formatPeerList, peersJson, peerJson, type ChatPeerJson } from './format/chat.js';
