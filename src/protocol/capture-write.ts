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
 *
 * Longer than most files (about 340 lines): both formats, the batch and one-datagram paths and
 * the addon's hook share one record layout and time arithmetic; the IP and UDP headers live apart
 * in capture-packet.ts.
 */
import { addressBytes, addressSum, anyAddress, IPV4_UDP_HEADERS, IPV6_UDP_HEADERS, MAX_CAPTURED_IPV4, MAX_CAPTURED_IPV6, writeUdpPacket, type UdpPacket } from './capture-packet.js';

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
  /** `receivedAt` to the microsecond, used when given (ms since the epoch, with the fraction). */
  readonly preciseAt?: number;
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

/**
 * The native addon's batch encoder (`NativeEncodeCapture` in src/native/binding.ts), declared
 * here so this pure core needs nothing from the I/O layer: it writes the same bytes as
 * {@link CaptureEncoder.encodeBatchInto}'s own loop, some times faster.
 */
export type CaptureNativeEncode = (
  pcapng: boolean,
  data: Uint8Array,
  starts: Uint32Array,
  lengths: Uint32Array,
  ports: Uint16Array,
  senders: Uint8Array,
  hosts: Uint8Array,
  from: number,
  to: number,
  localPort: number,
  out: Uint8Array,
  state: Uint32Array,
) => void;

/** Bytes per sender in the native encoder's `hosts`: length, 3 spare, source, destination. */
const HOST_STRIDE = 36;

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
  /** The datagram being written, refilled for each one (no object per datagram). */
  readonly #packet: UdpPacket = { payload: new Uint8Array(0), start: 0, length: 0, src: new Uint8Array(4), srcPort: 0, dst: new Uint8Array(4), dstPort: 0, addresses: 0 };

  readonly #native: CaptureNativeEncode | undefined;
  /** The native encoder's per-sender addresses and its in/out numbers, reused for every batch. */
  #hosts = new Uint8Array(HOST_STRIDE * 8);
  readonly #state = new Uint32Array(4);

  /** `native`, when given (the addon's `encodeCapture`), encodes batches; this file's code is its fallback. */
  constructor(options: CaptureEncoderOptions = {}, native?: CaptureNativeEncode) {
    this.#native = native;
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
   * wildcard bind, the wildcard of each sender's family), all stamped `batch.preciseAt` (or `receivedAt`). One
   * Buffer, no object per datagram. Datagrams from a sender that is not an IP address, or too
   * long for the IP length fields, are left out; the return says how many were written.
   */
  encodeBatch(b: CaptureBatch, local: CaptureEndpoint, from = 0, to = b.count): { bytes: Buffer; written: number } {
    const { out, words } = captureBuffer(this.batchLength(b, from, to));
    const { written } = this.encodeBatchInto(b, local, from, to, out, words, 0);
    return { bytes: out, written };
  }

  /** The bytes {@link encodeBatch} writes for datagrams [from, to) of a batch. */
  batchLength(b: CaptureBatch, from = 0, to = b.count): number {
    const senders = b.addresses.map((a) => this.#bytes(a));
    let total = 0;
    for (let i = from; i < to; i++) {
      const src = senders[b.senders[i] as number] ?? null;
      const length = b.lengths[i] as number;
      if (src === null || length > (src.length === 4 ? MAX_CAPTURED_IPV4 : MAX_CAPTURED_IPV6)) continue;
      total += this.#recordLength(length + (src.length === 4 ? IPV4_UDP_HEADERS : IPV6_UDP_HEADERS));
    }
    return total;
  }

  /**
   * {@link encodeBatch} into `out` from byte `at` (room for {@link batchLength} bytes), so that a
   * writer can reuse one buffer once its contents are written. `words` is a Uint32Array over
   * `out`'s memory from byte 0 of `out` (see {@link captureBuffer}). Returns where it ended.
   */
  encodeBatchInto(b: CaptureBatch, local: CaptureEndpoint, from: number, to: number, out: Buffer, words: Uint32Array, at: number): { end: number; written: number } {
    const localBytes = this.#bytes(local.address);
    // Senders are few per batch (an index per datagram): parse each once.
    const senders = b.addresses.map((a) => this.#bytes(a));
    const time = this.#timeFields(b.preciseAt ?? b.receivedAt);
    const destinations = senders.map((src) => (src === null ? null : this.#destination(localBytes, src.length as 4 | 16)));
    if (this.#native !== undefined) return this.#encodeNative(b, local.port, from, to, senders, destinations, time, out, at);
    const sums = senders.map((src, k) => (src === null ? 0 : addressSum(src) + addressSum(destinations[k]!)));
    let written = 0;
    for (let i = from; i < to; i++) {
      const k = b.senders[i] as number;
      const src = senders[k] ?? null;
      const length = b.lengths[i] as number;
      if (src === null || length > (src.length === 4 ? MAX_CAPTURED_IPV4 : MAX_CAPTURED_IPV6)) continue;
      const p = this.#packet;
      p.payload = b.data;
      p.start = b.starts[i] as number;
      p.length = length;
      p.src = src;
      p.srcPort = b.ports[i] as number;
      p.dst = destinations[k]!;
      p.dstPort = local.port;
      p.addresses = sums[k]!;
      at = this.#record(out, words, at, time);
      written++;
    }
    return { end: at, written };
  }

  #encodeNative(
    b: CaptureBatch,
    localPort: number,
    from: number,
    to: number,
    senders: readonly (Uint8Array | null)[],
    destinations: readonly (Uint8Array | null)[],
    time: readonly [number, number],
    out: Buffer,
    at: number,
  ): { end: number; written: number } {
    if (this.#hosts.length < senders.length * HOST_STRIDE) this.#hosts = new Uint8Array(senders.length * HOST_STRIDE * 2);
    const hosts = this.#hosts;
    senders.forEach((src, k) => {
      const h = k * HOST_STRIDE;
      hosts[h] = src === null ? 0 : src.length;
      if (src !== null) {
        hosts.set(src, h + 4);
        hosts.set(destinations[k]!, h + 20);
      }
    });
    const state = this.#state;
    state[0] = at;
    state[1] = 0;
    state[2] = time[0];
    state[3] = time[1];
    this.#native!(this.format === 'pcapng', b.data, b.starts, b.lengths, b.ports, b.senders, hosts, from, to, localPort, out, state);
    return { end: state[0] as number, written: state[1] as number };
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
    const { out, words } = captureBuffer(this.#recordLength(payload.length + (src.length === 4 ? IPV4_UDP_HEADERS : IPV6_UDP_HEADERS)));
    const p = this.#packet;
    p.payload = payload;
    p.start = 0;
    p.length = payload.length;
    p.src = src;
    p.srcPort = from.port;
    p.dst = dst;
    p.dstPort = to.port;
    p.addresses = addressSum(src) + addressSum(dst);
    this.#record(out, words, 0, this.#timeFields(atMs));
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

  /** Writes the record of the datagram in `#packet` at `out[at..]`; returns where it ends. */
  #record(out: Buffer, words: Uint32Array, at: number, time: readonly [number, number]): number {
    if (this.format === 'pcap') {
      const packet = writeUdpPacket(out, words, at + 16, this.#packet);
      u32le(out, at, time[0]);
      u32le(out, at + 4, time[1]);
      u32le(out, at + 8, packet);
      u32le(out, at + 12, packet);
      return at + 16 + packet;
    }
    const packet = writeUdpPacket(out, words, at + 28, this.#packet);
    const padded = (packet + 3) & ~3;
    for (let x = at + 28 + packet; x < at + 28 + padded; x++) out[x] = 0;
    const block = 32 + padded;
    u32le(out, at, 6);
    u32le(out, at + 4, block);
    u32le(out, at + 8, 0);
    u32le(out, at + 12, time[0]);
    u32le(out, at + 16, time[1]);
    u32le(out, at + 20, packet);
    u32le(out, at + 24, packet);
    u32le(out, at + 28 + padded, block);
    return at + block;
  }
}

/** A 32-bit little-endian field, stored byte by byte (cheaper than a bounds-checked method call). */
function u32le(out: Buffer, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = v >>> 24;
}

/**
 * A buffer of its own (not a slice of Node's pool, so it starts at byte 0 of its memory) and a
 * word view over it, for the checksums' 32-bit reads: what {@link CaptureEncoder.encodeBatchInto}
 * writes into.
 */
export function captureBuffer(size: number): { out: Buffer; words: Uint32Array } {
  const out = Buffer.allocUnsafeSlow(size);
  return { out, words: new Uint32Array(out.buffer, out.byteOffset, size >>> 2) };
}
