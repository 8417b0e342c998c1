/**
 * How large one message may be: the destination family's UDP payload limit, less what sealing
 * adds. Shared by the sender, the broadcaster and the CLI's input readers, which check sizes
 * before a socket exists.
 */
import { UdpkitRangeError } from '../errors.js';
import { SEAL_OVERHEAD } from '../protocol/seal-layout.js';
import { MAX_UDP_PAYLOAD_IPV4, MAX_UDP_PAYLOAD_IPV6 } from '../validate.js';

/**
 * The largest message one datagram to a destination of `family` carries, sealed or not.
 * @example maxMessageSize(4, false) // 65507
 */
export function maxMessageSize(family: 4 | 6, sealed: boolean): number {
  return (family === 4 ? MAX_UDP_PAYLOAD_IPV4 : MAX_UDP_PAYLOAD_IPV6) - (sealed ? SEAL_OVERHEAD : 0);
}

/**
 * The error for a message over {@link maxMessageSize}; `size` is undefined when it is only known
 * to be larger (a read stopped at the limit), which keeps `/dev/zero` from filling memory.
 * @example messageTooLarge(4, false, 70000).message // 'message is 70000 bytes; one UDP datagram over IPv4 carries at most 65507'
 */
export function messageTooLarge(family: 4 | 6, sealed: boolean, size: number | undefined): UdpkitRangeError {
  const limit = maxMessageSize(family, sealed);
  const is = size === undefined ? `more than ${limit}` : String(size);
  const how = sealed ? 'sealed with a key, one UDP datagram' : 'one UDP datagram';
  return new UdpkitRangeError('UDPKIT_MESSAGE_TOO_LARGE', `message is ${is} bytes; ${how} over IPv${family} carries at most ${limit}`);
}
