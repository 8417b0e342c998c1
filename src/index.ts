/**
 * udpkit: UDP messaging for Node.js. The user API only: what to call, its options and results,
 * and the errors it throws. Protocol cores and codecs for advanced use are in `udpkit/protocol`
 * (src/protocol/index.ts); everything else is internal and may change without notice.
 * test/unit/exports.test.ts pins the names exported here, so a change to this list is deliberate.
 */
export { UdpkitError, UdpkitRangeError, UdpkitTypeError, UsageError, isUdpkitError, isUsageError } from './errors.js';
export type { UdpkitErrorCode, UsageErrorCode, RuntimeErrorCode, ErrorPlace } from './errors.js';
export type * from './types.js';
export { MAX_UDP_PAYLOAD_IPV4, MAX_UDP_PAYLOAD_IPV6 } from './validate.js';
export { listen, Listener, DEFAULT_PORT, type ListenOptions, type BoundAddress, type ListenerStats, type RefusalReason, type EchoStats } from './transport/listener.js';
export type { EchoRefusal } from './protocol/echo-guard.js';
export { send, openSender, Sender, type SenderOptions, type SendOptions, type SenderStats, type DatagramSpans } from './transport/sender.js';
export type { MulticastGroups } from './socket/multicast.js';
export type { ResolvedAddress } from './socket/resolve.js';
export { broadcast, openBroadcaster, Broadcaster, type BroadcastOptions, type BroadcastTarget, type BroadcastSent } from './transport/broadcast.js';
export { networkInfo, type NetworkInfo } from './net/network-info.js';
export type { PrimaryInterface } from './net/primary.js';
export type { NetworkInterface, Ipv4Address, Ipv6Address, InterfaceState, Ipv6Scope } from './net/interfaces.js';
export type { Route, Ipv4Route, Ipv6Route, RoutingTables } from './net/routes.js';
export type { NetOsReaders, NetOsOptions } from './net/os-readers.js';
export { benchServer, BenchServer, DEFAULT_BENCH_PORT, type BenchServerOptions } from './transport/bench-server.js';
export { benchClient, BenchError, DEFAULT_BENCH_RATE, type BenchClientOptions, type BenchIntervalEvent, type BenchProgress } from './transport/bench-client.js';
export { benchLoopback, type BenchLoopbackOptions } from './transport/bench-loopback.js';
export type { BenchDelay, BenchLossSplit, BenchReport, BenchRtt } from './protocol/bench-report.js';
export type { BenchInterval } from './protocol/bench-intervals.js';
export type { HistogramBin } from './protocol/bench-histogram.js';
export type { BenchDirection } from './protocol/bench-frames.js';
export { CaptureWriter, type CaptureWriterOptions, type CaptureFormat, type CaptureEndpoint } from './transport/capture-writer.js';
export { relay, Relay, type RelayOptions, type RelayStats, type RelayDirectionStats } from './transport/relay.js';
export type { ImpairmentOptions, ImpairmentSettings, Direction } from './protocol/impairment-options.js';
export { sendReliably, type ReliableSendOptions, type ReliableSendResult } from './transport/reliable-send.js';
export { chat, Chat, type ChatOptions, type ChatStats } from './transport/chat.js';
export type { IpmsgEvent, IpmsgPeer, IpmsgStats, IpmsgSessionState, IpmsgSendOptions, SealedMessage } from './protocol/ipmsg-session.js';
export { readCapture, CaptureReader, type CaptureStats, type ReadCaptureOptions, type CapturePacket, type CaptureSkipReason } from './transport/read-capture.js';
