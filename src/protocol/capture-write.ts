/**
 * Capture files of received datagrams, as tcpdump and Wireshark read them. Link type raw IP
 * (LINKTYPE_RAW, 101): each packet is an IPv4 or IPv6 header, a UDP header and the payload (see
 * capture-packet.ts). Little-endian, as the files tcpdump writes on x86.
 *
 *   pcapng (default)  Section Header Block (type 0x0a0d0d0a, byte-order magic 0x1a2b3c4d, v1.0,
 *                     section length -1), one Interface Description Block (type 1, link type
 *                     101, snaplen 262144, option if_tsresol = 6 (us) or 9 (ns)), then one
 *                     Enhanced Packet Block per datagram (type 6, interface 0, timestamp high and
 *                     low 32 bits, captured = original length, data padded to 4 bytes).
 *   pcap              24-byte header (magic 0xa1b2c3d4: microseconds; v2.4; snaplen 262144;
 *                     link type 101), then per datagram seconds, microseconds, captured and
 *                     original length (4 bytes each) and the packet.
 *
 * Pure: the time of each datagram is the `receivedAt` given (ms since the epoch). See
 * docs/protocol.md, "Capture files".
 */
import { addressBytes, anyAddress, IPV4_UDP_HEADERS, IPV6_UDP_HEADERS, MAX_CAPTURED_IPV4, MAX_CAPTURED_IPV6, writeUdpPacket } from './capture-packet.js';

/** The two file formats. */
export type CaptureFormat = 'pcapng' | 'pcap';
/** pcapng timestamp units (classic pcap is always microseconds). */
export type CaptureResolution = 'us' | 'ns';

/** LINKTYPE_RAW: the packet starts with its IP header, version in the first nibble. */
export const LINKTYPE_RAW = 101;
/** What the files declare as the longest packet (tcpdump's default): every UDP datagram fits. */
export const CAPTURE_SNAPLEN = 262144;

/**
 * Received datagrams as a listener hands them over: structurally a `DatagramBatch`
 * (src/socket/batch.ts), declared here so this pure core needs nothing from the I/O layer.
 */
export interface CaptureBatch {
  readonly count: number;
  readonly data: Uint8Array;
  readonly starts: Uint32Array;
  readonly lengths: Uint32Array;
  readonly ports: Uint16Array;
  readonly senders: Uint8Array;
  readonly addresses: readonly string[];
  readonly receivedAt: number;
}

/** One end of a datagram: an address (IPv4, IPv6 or IPv4-mapped) and a port. */
export interface CaptureEndpoint {
  readonly address: string;
  readonly port: number;
}

/** How a {@link CaptureEncoder} writes. */
export interface CaptureEncoderOptions {
  readonly format?: CaptureFormat;
  /** pcapng only: timestamp units (default `'us'`). */
  readonly resolution?: CaptureResolution;
}

/** Addresses seen lately, parsed once; cleared past this many so memory stays bounded. */
const ADDRESS_CACHE = 1024;

/**
 * Encodes datagrams into capture bytes: {@link header} once at the start of the file, then
 * {@link encodeBatch} or {@link encodeDatagram} for what follows. Holds nothing but a cache of
 * parsed addresses, so the bytes can go out in any chunks.
 * @example
 * const enc = new CaptureEncoder({ format: 'pcapng' });
 * out.write(enc.header());
 * out.write(enc.encodeDatagram(Buffer.from('hi'), { address: '127.0.0.1', port: 5555 }, { address: '127.0.0.1', port: 9000 }, Date.now()));
 */
export class CaptureEncoder {
  readonly format: CaptureFormat;
  readonly resolution: CaptureResolution;
  readonly #perPacket: number;
  readonly #addresses = new Map<string, Uint8Array | null>();

  constructor(options: CaptureEncoderOptions = {}) {
    this.format = options.format ?? 'pcapng';
    this.resolution = this.format === 'pcap' ? 'us' : (options.resolution ?? 'us');
    // Record header, plus for pcapng the EPB's trailing length (padding is added per packet).
    this.#perPacket = this.format === 'pcap' ? 16 : 32;
  }

  /** The start of the file: pcap's global header, or pcapng's section and interface blocks. */
  header(): Buffer {
    if (this.format === 'pcap') {
      const h = Buffer.alloc(24);
      h.writeUInt32LE(0xa1b2c3d4, 0);
      h.writeUInt16LE(2, 4);
      h.writeUInt16LE(4, 6);
      h.writeUInt32LE(CAPTURE_SNAPLEN, 16);
      h.writeUInt32LE(LINKTYPE_RAW, 20);
      return h;
    }
    const h = Buffer.alloc(28 + 32);
    h.writeUInt32LE(0x0a0d0d0a, 0);
    h.writeUInt32LE(28, 4);
    h.writeUInt32LE(0x1a2b3c4d, 8);
    h.writeUInt16LE(1, 12);
    h.writeUInt16LE(0, 14);
    h.writeInt32LE(-1, 16); // section length unknown: 64 bits of all ones
    h.writeInt32LE(-1, 20);
    h.writeUInt32LE(28, 24);
    const idb = 28;
    h.writeUInt32LE(1, idb);
    h.writeUInt32LE(32, idb + 4);
    h.writeUInt16LE(LINKTYPE_RAW, idb + 8);
    h.writeUInt32LE(CAPTURE_SNAPLEN, idb + 12);
    h.writeUInt16LE(9, idb + 16); // if_tsresol, length 1, then 3 bytes of padding
    h.writeUInt16LE(1, idb + 18);
    h[idb + 20] = this.resolution === 'ns' ? 9 : 6;
    // idb + 24: opt_endofopt (4 zero bytes), then the block's length again.
    h.writeUInt32LE(32, idb + 28);
    return h;
  }

  #bytes(address: string): Uint8Array | null {
    let b = this.#addresses.get(address);
    if (b === undefined) {
      if (this.#addresses.size >= ADDRESS_CACHE) this.#addresses.clear();
      b = addressBytes(address) ?? null;
      this.#addresses.set(address, b);
    }
    return b;
  }

  /** The destination for a sender of this family: `local` if it is of that family, else its wildcard. */
  #destination(local: Uint8Array | null, family: 4 | 16): Uint8Array {
    return local !== null && local.length === family ? local : anyAddress(family);
  }

  /**
   * Datagrams [from, to) of a batch, received on `local` (the listener's address and port; for a
   * wildcard bind, the wildcard of each sender's family), all stamped `batch.receivedAt`. One
   * Buffer, no object per datagram. Datagrams from a sender that is not an IP address, or too
   * long for the IP length fields, are left out; the return says how many were written.
   */
  encodeBatch(b: CaptureBatch, local: CaptureEndpoint, from = 0, to = b.count): { bytes: Buffer; written: number } {
    const localBytes = this.#bytes(local.address);
    // Senders are few per batch (an index per datagram): parse each once.
    const senders = b.addresses.map((a) => this.#bytes(a));
    let total = 0;
    for (let i = from; i < to; i++) {
      const src = senders[b.senders[i] as number] ?? null;
      const length = b.lengths[i] as number;
      if (src === null || length > (src.length === 4 ? MAX_CAPTURED_IPV4 : MAX_CAPTURED_IPV6)) continue;
      total += this.#recordLength(length + (src.length === 4 ? IPV4_UDP_HEADERS : IPV6_UDP_HEADERS));
    }
    const out = Buffer.allocUnsafe(total);
    const time = this.#timeFields(b.receivedAt);
    let at = 0;
    let written = 0;
    for (let i = from; i < to && at < total; i++) {
      const src = senders[b.senders[i] as number] ?? null;
      const length = b.lengths[i] as number;
      if (src === null || length > (src.length === 4 ? MAX_CAPTURED_IPV4 : MAX_CAPTURED_IPV6)) continue;
      const dst = this.#destination(localBytes, src.length as 4 | 16);
      at = this.#record(out, at, time, b.data, b.starts[i] as number, length, src, b.ports[i] as number, dst, local.port);
      written++;
    }
    return { bytes: out, written };
  }

  /**
   * One datagram from `from` to `to` at `atMs` (ms since the epoch, fractions kept to the
   * file's resolution), for callers that meet datagrams one at a time (a relay); `undefined`
   * when an address is not an IP address or the families differ.
   */
  encodeDatagram(payload: Uint8Array, from: CaptureEndpoint, to: CaptureEndpoint, atMs: number): Buffer | undefined {
    const src = this.#bytes(from.address);
    const dst = this.#bytes(to.address);
    if (src === null || dst === null || src.length !== dst.length) return undefined;
    if (payload.length > (src.length === 4 ? MAX_CAPTURED_IPV4 : MAX_CAPTURED_IPV6)) return undefined;
    const out = Buffer.allocUnsafe(this.#recordLength(payload.length + (src.length === 4 ? IPV4_UDP_HEADERS : IPV6_UDP_HEADERS)));
    this.#record(out, 0, this.#timeFields(atMs), payload, 0, payload.length, src, from.port, dst, to.port);
    return out;
  }

  #recordLength(packet: number): number {
    return this.#perPacket + (this.format === 'pcap' ? packet : (packet + 3) & ~3);
  }

  /** The two 32-bit time fields: pcap's seconds and microseconds, pcapng's high and low halves. */
  #timeFields(ms: number): [number, number] {
    const wholeMs = Math.floor(ms);
    if (this.format === 'pcap') {
      const us = Math.round((ms - wholeMs) * 1000) + (wholeMs % 1000) * 1000;
      const seconds = Math.floor(wholeMs / 1000) + Math.floor(us / 1e6);
      return [seconds, us % 1e6];
    }
    if (this.resolution === 'us') {
      const us = wholeMs * 1000 + Math.round((ms - wholeMs) * 1000); // < 2^53 until year 2255
      return [Math.floor(us / 2 ** 32), us % 2 ** 32];
    }
    const ns = BigInt(wholeMs) * 1_000_000n + BigInt(Math.round((ms - wholeMs) * 1e6));
    return [Number(ns >> 32n), Number(ns & 0xffffffffn)];
  }

  #record(out: Buffer, at: number, time: [number, number], data: Uint8Array, start: number, length: number, src: Uint8Array, srcPort: number, dst: Uint8Array, dstPort: number): number {
    if (this.format === 'pcap') {
      const packet = writeUdpPacket(out, at + 16, data, start, length, src, srcPort, dst, dstPort);
      out.writeUInt32LE(time[0], at);
      out.writeUInt32LE(time[1], at + 4);
      out.writeUInt32LE(packet, at + 8);
      out.writeUInt32LE(packet, at + 12);
      return at + 16 + packet;
    }
    const packet = writeUdpPacket(out, at + 28, data, start, length, src, srcPort, dst, dstPort);
    const padded = (packet + 3) & ~3;
    out.fill(0, at + 28 + packet, at + 28 + padded);
    const block = 32 + padded;
    out.writeUInt32LE(6, at);
    out.writeUInt32LE(block, at + 4);
    out.writeUInt32LE(0, at + 8);
    out.writeUInt32LE(time[0], at + 12);
    out.writeUInt32LE(time[1], at + 16);
    out.writeUInt32LE(packet, at + 20);
    out.writeUInt32LE(packet, at + 24);
    out.writeUInt32LE(block, at + 28 + padded);
    return at + block;
  }
}
