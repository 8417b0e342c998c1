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

/**
 * Writes an IPv4 or IPv6 packet carrying one UDP datagram at `out[at..]` and returns its
 * length. `src` and `dst` are {@link addressBytes} of one family (4 or 16 bytes each); the
 * payload is `payload[start .. start + length)`. The caller keeps `length` within
 * {@link MAX_CAPTURED_IPV4} or {@link MAX_CAPTURED_IPV6}.
 */
export function writeUdpPacket(
  out: Buffer,
  at: number,
  payload: Uint8Array,
  start: number,
  length: number,
  src: Uint8Array,
  srcPort: number,
  dst: Uint8Array,
  dstPort: number,
): number {
  const v4 = src.length === 4;
  const udpAt = at + (v4 ? 20 : 40);
  const udpLength = 8 + length;
  if (v4) {
    out[at] = 0x45;
    out[at + 1] = 0;
    out.writeUInt16BE(20 + udpLength, at + 2);
    out.writeUInt32BE(0, at + 4); // id 0, no flags (DF off), fragment offset 0
    out[at + 8] = 64;
    out[at + 9] = 17;
    out.writeUInt16BE(0, at + 10);
    out.set(src, at + 12);
    out.set(dst, at + 16);
    out.writeUInt16BE(foldChecksum(sumWords(out, at, at + 20)), at + 10);
  } else {
    out.writeUInt32BE(0x60000000, at);
    out.writeUInt16BE(udpLength, at + 4);
    out[at + 6] = 17;
    out[at + 7] = 64;
    out.set(src, at + 8);
    out.set(dst, at + 24);
  }
  out.writeUInt16BE(srcPort, udpAt);
  out.writeUInt16BE(dstPort, udpAt + 2);
  out.writeUInt16BE(udpLength, udpAt + 4);
  out.writeUInt16BE(0, udpAt + 6);
  // Buffer#copy makes no view object, which matters at a million datagrams a second.
  if (Buffer.isBuffer(payload)) payload.copy(out, udpAt + 8, start, start + length);
  else out.set(payload.subarray(start, start + length), udpAt + 8);
  // Pseudo-header: both addresses, protocol 17 and the UDP length (RFC 768, RFC 8200 8.1);
  // mandatory for IPv6, and computed for IPv4 as well so no tool flags the datagram.
  const pseudo = sumWords(src, 0, src.length) + sumWords(dst, 0, dst.length) + 17 + udpLength;
  const sum = foldChecksum(pseudo + sumWords(out, udpAt, udpAt + 8) + sumWords(payload, start, start + length));
  out.writeUInt16BE(sum === 0 ? 0xffff : sum, udpAt + 6);
  return udpAt + udpLength - at;
}
