/**
 * Many datagrams as slices of one buffer, what `Sender.writeSpans` sends with no object per
 * datagram (lines read from a file: see src/cli/line-batches.ts).
 */
import { UdpkitRangeError } from '../errors.js';

/** Datagram `i` (for `i < count`) is `bytes.subarray(starts[i], ends[i])`. */
export interface DatagramSpans {
  readonly bytes: Buffer;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly count: number;
  /**
   * Let the kernel segment runs of same-size datagrams that follow each other in `bytes` (UDP
   * GSO): each run crosses the stack once, some 2.5-3x cheaper per datagram on loopback. The
   * receivers see the same datagrams, but a capture on the sending host shows a run as one
   * packet, so only traffic meant to be fast asks for it (bench); `UDPKIT_GSO=0` turns it off.
   */
  readonly gso?: boolean;
}

/** Whether UDP GSO may be used at all: `UDPKIT_GSO=0` turns it off (read at each call). */
export function gsoAllowed(): boolean {
  return process.env['UDPKIT_GSO'] !== '0';
}

/**
 * Checks every span lies in the buffer and the arrays hold `count`; returns the largest
 * datagram's size, for the caller's size limit.
 * @example largestSpan({ bytes: Buffer.from('abc'), starts: Uint32Array.of(0, 1), ends: Uint32Array.of(1, 3), count: 2 }) // 2
 */
export function largestSpan({ bytes, starts, ends, count }: DatagramSpans): number {
  if (count > starts.length || count > ends.length) throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `count ${count} is past the end of starts or ends`);
  let largest = 0;
  for (let i = 0; i < count; i++) {
    const start = starts[i] as number;
    const end = ends[i] as number;
    if (end < start || end > bytes.length) throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `datagram ${i} is outside the buffer`);
    largest = Math.max(largest, end - start);
  }
  return largest;
}
