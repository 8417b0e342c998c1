import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import * as protocol from '../../src/protocol/index.js';

// The public surface, pinned: adding or removing a name here is a decision about udpkit's API
// (semver), not a side effect of exporting something for a test. Internals are imported from
// their modules, never from these two entry points.
const TOP_LEVEL = [
  'BenchError', 'BenchServer', 'Broadcaster', 'Chat', 'DEFAULT_BENCH_PORT', 'DEFAULT_BENCH_RATE', 'DEFAULT_PORT',
  'Listener', 'MAX_UDP_PAYLOAD_IPV4', 'MAX_UDP_PAYLOAD_IPV6', 'Relay', 'Sender', 'UdpkitError', 'UdpkitRangeError',
  'UdpkitTypeError', 'UsageError', 'benchClient', 'benchLoopback', 'benchServer', 'broadcast', 'chat', 'isUdpkitError',
  'isUsageError', 'listen', 'networkInfo', 'openBroadcaster', 'openSender', 'relay', 'send', 'sendReliably',
];

const PROTOCOL = [
  'BenchFrameType', 'BenchOp', 'DEFAULT_LEGACY_ENCODING', 'EchoGuard', 'FRAME_MAGIC', 'FRAME_VERSION', 'FrameType',
  'IPMSG_MAX_PACKET', 'IPMSG_PORT', 'Impairment', 'IpmsgCommand', 'IpmsgOption', 'IpmsgSession', 'LineSplitter',
  'Opener', 'ReliableReceiver', 'ReliableSender', 'SEAL_OVERHEAD', 'SEAL_VERSION', 'SealFlag', 'Sealer',
  'decodeBenchFrame', 'decodeIpmsgPacket', 'decodeReliableFrame', 'deriveKey', 'encodeAck', 'encodeBenchFrame',
  'encodeData', 'encodeIpmsgPacket', 'ipmsgCommandOf', 'maxReliablePayload', 'maxSealedPlaintext', 'messageText',
  'readFrameHeader', 'seededRandom', 'validateImpairment',
];

describe('public entry points', () => {
  it('udpkit exports exactly the user API', () => {
    expect(Object.keys(api).sort()).toEqual([...TOP_LEVEL].sort());
  });

  it('udpkit/protocol exports exactly the documented protocol cores and codecs', () => {
    expect(Object.keys(protocol).sort()).toEqual([...PROTOCOL].sort());
  });

  it('keeps internals out of both', () => {
    const internals = ['kernelDropsForFd', 'parseRouteTable', 'entryExtra', 'decide', 'formatTextLine', 'formatBenchReport', 'describeErrno', 'optionPhrase'];
    for (const name of internals) {
      expect(Object.hasOwn(api, name), `udpkit exports ${name}`).toBe(false);
      expect(Object.hasOwn(protocol, name), `udpkit/protocol exports ${name}`).toBe(false);
    }
  });

  it('the two entry points share no name', () => {
    expect(Object.keys(api).filter((name) => Object.hasOwn(protocol, name))).toEqual([]);
  });
});
