/**
 * The IP and UDP headers a capture needs around a payload that came off a UDP socket (which
 * never sees them): synthesized, with the real addresses and ports and correct lengths and
 * checksums, so tcpdump and Wireshark show the datagram as it was on the wire. Big-endian:
 *
 *   IPv4 (20 bytes)  0x45 | tos 0 | total length | id 0 | flags+fragment 0 (DF off) | TTL 64 |
 *                    protocol 17 | header checksum | source (4) | destination (4)
 *   IPv6 (40 bytes)  0x60000000 | payload length | next header 17 | hop limit 64 |
 *                    source (16) | destination (16)
 *   UDP (8 bytes)    source port | destination port | length | checksum (RFC 768; 0xffff for 0)
 *
 * Pure: no I/O, no clock.
 */

/** Bytes of IPv4 + UDP headers, and of IPv6 + UDP headers. */
export const IPV4_UDP_HEADERS = 28;
export const IPV6_UDP_HEADERS = 48;

/** The largest payload each family's length fields can describe. */
export const MAX_CAPTURED_IPV4 = 65535 - IPV4_UDP_HEADERS;
export const MAX_CAPTURED_IPV6 = 65535 - 8;

const IPV4_ANY = new Uint8Array(4);
const IPV6_ANY = new Uint8Array(16);

/** The unspecified address (0.0.0.0 or ::) of a family: 4 or 16 bytes. */
export function anyAddress(bytes: 4 | 16): Uint8Array {
  return bytes === 4 ? IPV4_ANY : IPV6_ANY;
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

function groupsOf(s: string): number[] | undefined {
  if (s === '') return [];
  const out: number[] = [];
  const parts = s.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseIpv4(p);
      if (!v4) return undefined;
      out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
    } else if (/^[0-9a-f]{1,4}$/i.test(p)) out.push(parseInt(p, 16));
    else return undefined;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | undefined {
  const zone = s.indexOf('%');
  const text = zone < 0 ? s : s.slice(0, zone);
  const gap = text.indexOf('::');
  let groups: number[] | undefined;
  if (gap < 0) groups = groupsOf(text);
  else {
    const head = groupsOf(text.slice(0, gap));
    const tail = groupsOf(text.slice(gap + 2));
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  if (!groups || groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/**
 * An address as the bytes of its IP header field: 4 for IPv4 and for IPv4-mapped IPv6
 * (`::ffff:a.b.c.d`, which is how a dual-stack socket reports an IPv4 sender, so the capture
 * shows what was on the wire), 16 for IPv6 (a `%zone` is dropped); `undefined` if it is neither.
 * @example addressBytes('::ffff:127.0.0.1') // Uint8Array [127, 0, 0, 1]
 */
export function addressBytes(address: string): Uint8Array | undefined {
  if (!address.includes(':')) return parseIpv4(address);
  const v6 = parseIpv6(address);
  if (v6 && MAPPED_PREFIX.every((b, i) => v6[i] === b)) return v6.slice(12);
  return v6;
}

/**
 * The ones'-complement sum of `buf[start..end)` as big-endian 16-bit words (an odd last byte
 * padded with zero), not yet folded: callers add the other parts, then {@link foldChecksum}.
 * Safe for any one datagram: 65535 bytes of 0xffff words stay far below 2^53.
 */
export function sumWords(buf: Uint8Array, start: number, end: number): number {
  let sum = 0;
  let i = start;
  for (const last = end - 3; i < last; i += 4) {
    sum += (((buf[i] as number) << 8) | (buf[i + 1] as number)) + (((buf[i + 2] as number) << 8) | (buf[i + 3] as number));
  }
  for (; i + 1 < end; i += 2) sum += ((buf[i] as number) << 8) | (buf[i + 1] as number);
  if (i < end) sum += (buf[i] as number) << 8;
  return sum;
}

/** Folds a sum of words to 16 bits and complements it: the Internet checksum (RFC 1071). */
export function foldChecksum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** Payloads up to this long are copied in a loop: cheaper than a call into C++ for a few bytes. */
const SHORT_COPY = 96;

/** True on little-endian hosts (all Node runs on in practice), for the word sums below. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The sum of `buf[start .. start + length)` as big-endian 16-bit words, not folded, read 32 bits
 * at a time through `words` (a Uint32Array over the same memory, starting at byte 0 of `buf`):
 * some 4 times fewer steps than {@link sumWords}, which is what lets a capturing listener keep
 * up. Words are summed in the host's byte order and the result turned around when needed
 * (RFC 1071, 2(B): the sum does not depend on byte order but for a swap).
 */
export function sumPayload(buf: Uint8Array, words: Uint32Array, start: number, length: number): number {
  const end = start + length;
  // A byte at an even offset is the low half of a host-order 16-bit word on little-endian hosts.
  const evenShift = LITTLE_ENDIAN ? 0 : 8;
  let sum = 0;
  let x = start;
  for (; x < end && (x & 3) !== 0; x++) sum += (buf[x] as number) << ((x & 1) === 0 ? evenShift : 8 - evenShift);
  const wordsEnd = end >>> 2;
  // Halves summed apart stay small integers (65535 * 16384 < 2^31), which V8 adds fastest.
  let low = 0;
  let high = 0;
  for (let w = x >>> 2; w < wordsEnd; w++) {
    const v = words[w] as number;
    low += v & 0xffff;
    high += v >>> 16;
  }
  sum += low + high;
  for (x = Math.max(x, wordsEnd << 2); x < end; x++) sum += (buf[x] as number) << ((x & 1) === 0 ? evenShift : 8 - evenShift);
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  // Host-order pairs from an even offset are big-endian pairs from `start` exactly when the
  // host is big-endian and `start` is even, or little-endian and `start` is odd.
  const swap = LITTLE_ENDIAN === ((start & 1) === 0);
  return swap ? ((sum & 0xff) << 8) | (sum >>> 8) : sum;
}

/** The sum of an address's bytes as 16-bit words (part of both checksums' inputs). */
export function addressSum(address: Uint8Array): number {
  return sumWords(address, 0, address.length);
}

/**
 * One datagram to write: the payload is `payload[start .. start + length)`; `src` and `dst` are
 * {@link addressBytes} of one family (4 or 16 bytes each) and `addresses` is
 * `addressSum(src) + addressSum(dst)`. Encoders fill one such object again for each datagram.
 */
export interface UdpPacket {
  payload: Uint8Array;
  start: number;
  length: number;
  src: Uint8Array;
  srcPort: number;
  dst: Uint8Array;
  dstPort: number;
  addresses: number;
}

/**
 * Writes an IPv4 or IPv6 packet carrying one UDP datagram at `out[at..]` and returns its
 * length. `words` is a Uint32Array over `out`'s memory from byte 0 of `out` (see
 * {@link sumPayload}). The caller keeps `length` within {@link MAX_CAPTURED_IPV4} or
 * {@link MAX_CAPTURED_IPV6}.
 */
export function writeUdpPacket(out: Buffer, words: Uint32Array, at: number, p: UdpPacket): number {
  const { payload, start, length, src, srcPort, dst, dstPort, addresses } = p;
  const v4 = src.length === 4;
  const udpAt = at + (v4 ? 20 : 40);
  const udpLength = 8 + length;
  if (v4) {
    const total = 20 + udpLength;
    // Version 4, IHL 5, TOS 0, total length, id 0, no flags (DF off), offset 0, TTL 64, UDP.
    const header = foldChecksum(0x4500 + total + 0x4011 + addresses);
    out[at] = 0x45;
    out[at + 1] = 0;
    out[at + 2] = total >>> 8;
    out[at + 3] = total & 0xff;
    out[at + 4] = 0;
    out[at + 5] = 0;
    out[at + 6] = 0;
    out[at + 7] = 0;
    out[at + 8] = 64;
    out[at + 9] = 17;
    out[at + 10] = header >>> 8;
    out[at + 11] = header & 0xff;
    for (let j = 0; j < 4; j++) {
      out[at + 12 + j] = src[j] as number;
      out[at + 16 + j] = dst[j] as number;
    }
  } else {
    out[at] = 0x60;
    out[at + 1] = 0;
    out[at + 2] = 0;
    out[at + 3] = 0;
    out[at + 4] = udpLength >>> 8;
    out[at + 5] = udpLength & 0xff;
    out[at + 6] = 17;
    out[at + 7] = 64;
    for (let j = 0; j < 16; j++) {
      out[at + 8 + j] = src[j] as number;
      out[at + 24 + j] = dst[j] as number;
    }
  }
  // Short payloads byte by byte; longer ones with Buffer#copy, which makes no view object.
  const to = udpAt + 8;
  if (length <= SHORT_COPY) for (let j = 0; j < length; j++) out[to + j] = payload[start + j] as number;
  else if (Buffer.isBuffer(payload)) payload.copy(out, to, start, start + length);
  else out.set(payload.subarray(start, start + length), to);
  // Pseudo-header (both addresses, protocol 17, the UDP length; RFC 768, RFC 8200 8.1), then the
  // UDP header (the length again) and the payload as copied. Mandatory for IPv6, and computed
  // for IPv4 as well so that no tool flags the datagram.
  const sum = foldChecksum(addresses + 17 + 2 * udpLength + srcPort + dstPort + sumPayload(out, words, udpAt + 8, length));
  const checksum = sum === 0 ? 0xffff : sum;
  out[udpAt] = srcPort >>> 8;
  out[udpAt + 1] = srcPort & 0xff;
  out[udpAt + 2] = dstPort >>> 8;
  out[udpAt + 3] = dstPort & 0xff;
  out[udpAt + 4] = udpLength >>> 8;
  out[udpAt + 5] = udpLength & 0xff;
  out[udpAt + 6] = checksum >>> 8;
  out[udpAt + 7] = checksum & 0xff;
  return udpAt + udpLength - at;
}
