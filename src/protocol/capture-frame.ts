/**
 * One captured frame to one UDP datagram, for reading captures (capture-read.ts).
 *
 *   link layer   Ethernet (1; 802.1Q/802.1ad tags 0x8100, 0x88a8, 0x9100 skipped), Linux
 *                cooked SLL (113, protocol at byte 14) and SLL2 (276, protocol at byte 0),
 *                raw IP (101, 12, 14, 228, 229), BSD null/loopback (0, 108: a 4-byte address
 *                family in either byte order; 2 = IPv4, 24/28/30 = IPv6 on the BSDs and macOS)
 *   IPv4         options skipped (IHL); a fragment (MF set or offset > 0) is skipped
 *   IPv6         hop-by-hop, routing, destination options, AH skipped; a fragment header with
 *                offset > 0 or M set is skipped (an atomic fragment is read through)
 *   UDP          8-byte header; the payload is what its length field says
 *
 * Anything else is a skip with a reason, never an error: a capture of a busy link is mostly
 * other traffic. Fragments are counted, not reassembled: reassembly would hold partial
 * datagrams in memory for an unbounded time of the capture, and replaying a fragmented
 * datagram sends a datagram the original sender's kernel would have had to fragment again.
 */
import type { Endpoint } from '../types.js';

/** Why a frame of a capture gave no UDP datagram. */
export type CaptureSkipReason =
  /** A link type this reader does not decode (its number is not kept). */
  | 'link-type'
  /** Not IPv4 or IPv6 (ARP, LLDP...). */
  | 'not-ip'
  /** IP, but not UDP (TCP, ICMP...). */
  | 'not-udp'
  /** One piece of a fragmented IP datagram (not reassembled). */
  | 'fragment'
  /** Cut by the capture's snap length before the end of the UDP payload. */
  | 'truncated'
  /** Headers that contradict themselves (IHL under 20, UDP length under 8...). */
  | 'malformed';

/**
 * Where the UDP datagram of a frame lies in the buffer, filled in by {@link udpOfFrame} (one
 * object reused for every frame: no allocation per packet on the replay's fast path).
 */
export interface FrameUdp {
  v6: boolean;
  /** Offsets of the source and destination addresses (4 or 16 bytes). */
  source: number;
  destination: number;
  sourcePort: number;
  destinationPort: number;
  /** The payload is `bytes[start, end)`. */
  start: number;
  end: number;
}

/** A {@link FrameUdp} to reuse. */
export function frameUdp(): FrameUdp {
  return { v6: false, source: 0, destination: 0, sourcePort: 0, destinationPort: 0, start: 0, end: 0 };
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);
const IPPROTO_UDP = 17;
/** Bounds the walk through IPv6 extension headers: a real packet has a few. */
const MAX_EXTENSION_HEADERS = 16;

/** Where the IP header starts in the frame `b[s, e)` of link type `link`, or why there is none. */
function ipStart(link: number, b: Buffer, s: number, e: number): number | CaptureSkipReason {
  switch (link) {
    case 1: {
      if (e - s < 14) return 'truncated';
      let type = b.readUInt16BE(s + 12);
      let at = s + 14;
      while (VLAN_TAGS.has(type)) {
        if (e < at + 4) return 'truncated';
        type = b.readUInt16BE(at + 2);
        at += 4;
      }
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? at : 'not-ip';
    }
    case 113: {
      if (e - s < 16) return 'truncated';
      const type = b.readUInt16BE(s + 14);
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? s + 16 : 'not-ip';
    }
    case 276: {
      if (e - s < 20) return 'truncated';
      const type = b.readUInt16BE(s);
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? s + 20 : 'not-ip';
    }
    case 12:
    case 14:
    case 101:
    case 228:
    case 229:
      return s;
    case 0:
    case 108: {
      if (e - s < 4) return 'truncated';
      // Written in the capturing machine's byte order (null) or network order (loop): a
      // family is small, so the order that reads it small is the right one.
      const le = b.readUInt32LE(s);
      const family = le <= 0xffff ? le : b.readUInt32BE(s);
      return family === 2 || family === 24 || family === 28 || family === 30 ? s + 4 : 'not-ip';
    }
    default:
      return 'link-type';
  }
}

/**
 * Finds the UDP datagram in the frame `b[s, e)` of link type `link` and fills `out` with where it
 * lies; returns why there is none instead. Reads only inside the frame: a length field pointing
 * past it is a skip, never a throw.
 * @example const out = frameUdp(); udpOfFrame(101, b, 0, b.length, out) // undefined, out.start === 28
 */
export function udpOfFrame(link: number, b: Buffer, s: number, e: number, out: FrameUdp): CaptureSkipReason | undefined {
  const at = ipStart(link, b, s, e);
  if (typeof at === 'string') return at;
  if (e < at + 1) return 'truncated';
  const version = (b[at] as number) >> 4;
  let udp: number;
  let ipEnd: number;
  let v6: boolean;
  if (version === 4) {
    if (e < at + 20) return 'truncated';
    const ihl = ((b[at] as number) & 0x0f) * 4;
    const total = b.readUInt16BE(at + 2);
    if (ihl < 20 || (total !== 0 && total < ihl)) return 'malformed';
    if ((b.readUInt16BE(at + 6) & 0x3fff) !== 0) return 'fragment';
    if (b[at + 9] !== IPPROTO_UDP) return 'not-udp';
    udp = at + ihl;
    // A total of 0 is what TCP segmentation offload leaves in some captures: trust the frame.
    ipEnd = total === 0 ? e : at + total;
    v6 = false;
  } else if (version === 6) {
    if (e < at + 40) return 'truncated';
    const payload = b.readUInt16BE(at + 4);
    ipEnd = payload === 0 ? e : at + 40 + payload;
    const walked = skipExtensions(b, e, at + 40, b[at + 6] as number);
    if (typeof walked === 'string') return walked;
    udp = walked;
    v6 = true;
  } else return 'malformed';
  if (e < udp + 8) return 'truncated';
  const length = b.readUInt16BE(udp + 4);
  if (length < 8 || udp + length > ipEnd) return 'malformed';
  if (udp + length > e) return 'truncated';
  out.v6 = v6;
  out.source = v6 ? at + 8 : at + 12;
  out.destination = v6 ? at + 24 : at + 16;
  out.sourcePort = b.readUInt16BE(udp);
  out.destinationPort = b.readUInt16BE(udp + 2);
  out.start = udp + 8;
  out.end = udp + length;
  return undefined;
}

/** The endpoint at address offset `at` (IPv6 when `v6`) and `port`. */
export function endpointAt(b: Buffer, at: number, v6: boolean, port: number): Endpoint {
  return v6 ? { address: ipv6Text(b, at), port, family: 'IPv6' } : { address: ipv4Text(b, at), port, family: 'IPv4' };
}

/** Walks IPv6 extension headers from `at` (next header `next`) to the UDP header, within `e`. */
function skipExtensions(b: Buffer, e: number, at: number, next: number): number | CaptureSkipReason {
  for (let i = 0; i <= MAX_EXTENSION_HEADERS; i++) {
    if (next === IPPROTO_UDP) return at;
    if (e < at + 8) return next === 0 || next === 43 || next === 44 || next === 51 || next === 60 ? 'truncated' : 'not-udp';
    const following = b[at] as number;
    if (next === 0 || next === 43 || next === 60) at += ((b[at + 1] as number) + 1) * 8;
    else if (next === 51) at += ((b[at + 1] as number) + 2) * 4;
    else if (next === 44) {
      // Offset (13 bits) and M (bit 0): an atomic fragment (both zero) is a whole datagram.
      if ((b.readUInt16BE(at + 2) & 0xfff9) !== 0) return 'fragment';
      at += 8;
    } else return 'not-udp';
    next = following;
  }
  return 'malformed';
}

// Captures repeat a few addresses millions of times: one string per address, not per packet.
const v4Cache = new Map<number, string>();
const CACHE_LIMIT = 4096;

function ipv4Text(b: Buffer, at: number): string {
  const key = b.readUInt32BE(at);
  let text = v4Cache.get(key);
  if (text === undefined) {
    text = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
    if (v4Cache.size >= CACHE_LIMIT) v4Cache.clear();
    v4Cache.set(key, text);
  }
  return text;
}

/** RFC 5952 text: lower-case hex, the longest run of two or more zero groups as `::`. */
export function ipv6Text(b: Uint8Array, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((b[at + 2 * i] as number) << 8) | (b[at + 2 * i + 1] as number));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
