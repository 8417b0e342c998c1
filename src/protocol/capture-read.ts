/**
 * Reads pcap and pcapng captures, sans I/O: push bytes in as they come (a file, a pipe), pull
 * UDP datagrams out. One decoder serves a stream and a file alike, and holds at most one record
 * plus one pushed chunk, so a capture of any size reads in bounded memory.
 *
 *   pcap     24-byte file header: magic a1b2c3d4 (µs) or a1b23c4d (ns), in the writer's byte
 *            order; version 2.x; snaplen at 16; link type at 20 (low 16 bits). Then records:
 *            seconds, fraction, captured length, original length (4 bytes each), the bytes.
 *   pcapng   blocks: type, total length, body, total length again (4-byte aligned). Section
 *            header 0a0d0d0a with byte-order magic 1a2b3c4d (sets the order for its section);
 *            interface description (1): link type, snaplen, options (if_tsresol 9: 10^-n s,
 *            or 2^-n s when the top bit is set; if_tsoffset 14: seconds added); enhanced
 *            packet (6), simple packet (3: interface 0, no time), obsolete packet (2). Other
 *            block types are skipped without being held in memory.
 *
 * Frames become datagrams in capture-frame.ts. A file that is not a capture, or ends inside a
 * record, is a `UdpkitError` coded `UDPKIT_CAPTURE_INVALID` with the byte `offset`, thrown by
 * {@link CaptureDecoder.next} after every packet before the fault was returned.
 *
 * Longer than most files (about 310 lines): the two container formats share one buffer, one fault
 * path and one interface table; what is inside a frame (link types, IP, UDP) lives apart in
 * capture-frame.ts.
 */
import { UdpkitError } from '../errors.js';
import type { Endpoint } from '../types.js';
import { endpointAt, frameUdp, udpOfFrame, type CaptureSkipReason, type FrameUdp } from './capture-frame.js';

export type { CaptureSkipReason } from './capture-frame.js';

/** One UDP datagram read from a capture. */
export interface CapturePacket {
  /** When it was captured: milliseconds since the epoch, with the fraction the file gives. */
  readonly time: number;
  readonly from: Endpoint;
  readonly to: Endpoint;
  /** The UDP payload (a view into the decoder's buffer: copy it to keep it long). */
  readonly data: Buffer;
}

/**
 * The datagram {@link CaptureDecoder.nextRaw} found, as places in `bytes` (one object, reused:
 * read it before the next call). For senders that want no object per datagram.
 */
export interface RawCaptureDatagram extends Readonly<FrameUdp> {
  /** The buffer the payload is in: `bytes[start, end)`. Valid until the next `push`. */
  readonly bytes: Buffer;
  readonly time: number;
}

/** The largest record the decoder holds whole: 4x libpcap's largest snap length (262144). */
export const MAX_CAPTURE_RECORD = 1 << 20;

const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

interface Interface {
  readonly link: number;
  /** Timestamp units per second, as a number and (for 64-bit arithmetic) a bigint. */
  readonly perSecond: number;
  readonly perSecondBig: bigint;
  readonly offsetMs: number;
}

/**
 * The push-style capture reader. Call {@link push} with each chunk, then {@link next} until it
 * returns undefined (it needs more bytes), before pushing the next chunk; call {@link end}
 * when the input is over, then {@link next} until undefined once more.
 * @example
 * const d = new CaptureDecoder();
 * d.push(fileBytes); d.end();
 * for (let p = d.next(); p; p = d.next()) console.log(p.from.port, p.data);
 */
export class CaptureDecoder {
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  /** File offset of #buf[0]. */
  #base = 0;
  #ended = false;
  #state: 'start' | 'pcap' | 'pcapng' = 'start';
  #error: UdpkitError | undefined;
  #le = true;
  #pcapLink = 0;
  #pcapDivisor = 1000;
  #interfaces: Interface[] = [];
  #lastTime = 0;
  /** Bytes of an unneeded block still to drop as they arrive. */
  #discard = 0;
  readonly #raw: FrameUdp & { bytes: Buffer; time: number } = { ...frameUdp(), bytes: Buffer.alloc(0), time: 0 };
  /** Frames read, whether or not they held UDP. */
  frames = 0;
  /** Frames that gave no datagram, by reason. */
  readonly skipped: Partial<Record<CaptureSkipReason, number>> = {};

  /** `'pcap'`, `'pcapng'`, or undefined until the first bytes have said which. */
  get format(): 'pcap' | 'pcapng' | undefined {
    return this.#state === 'start' ? undefined : this.#state;
  }

  /** Bytes consumed so far: the offset of the next record. */
  get offset(): number {
    return this.#base + this.#pos;
  }

  /** Adds bytes; keeps only what the records not yet returned need. */
  push(chunk: Uint8Array): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#base += this.#pos;
    this.#buf = this.#pos >= this.#buf.length ? bytes : Buffer.concat([this.#buf.subarray(this.#pos), bytes]);
    this.#pos = 0;
  }

  /** Says no more bytes will come: an unfinished record is then an error. */
  end(): void {
    this.#ended = true;
  }

  /** The next UDP datagram, or undefined when more bytes are needed (or all is read). */
  next(): CapturePacket | undefined {
    const r = this.nextRaw();
    if (r === undefined) return undefined;
    return {
      time: r.time,
      from: endpointAt(r.bytes, r.source, r.v6, r.sourcePort),
      to: endpointAt(r.bytes, r.destination, r.v6, r.destinationPort),
      data: r.bytes.subarray(r.start, r.end),
    };
  }

  /** As {@link next}, but where the datagram lies rather than a new object: see {@link RawCaptureDatagram}. */
  nextRaw(): RawCaptureDatagram | undefined {
    for (;;) {
      if (this.#error) throw this.#error;
      if (this.#discard > 0) {
        const n = Math.min(this.#discard, this.#buf.length - this.#pos);
        this.#pos += n;
        this.#discard -= n;
        if (this.#discard > 0) return this.#more(this.#discard);
      }
      if (this.#state === 'start') {
        if (!this.#header()) return this.#more(24);
        continue;
      }
      const got = this.#state === 'pcap' ? this.#pcapRecord() : this.#pcapngBlock();
      if (got === true) return this.#raw;
      if (got !== 0) return this.#more(got);
    }
  }

  /** Needing `wanted` bytes at #pos: undefined to wait for them, or the error if none will come. */
  #more(wanted: number): undefined {
    const have = this.#buf.length - this.#pos;
    if (!this.#ended || (have === 0 && this.#state !== 'start' && this.#discard === 0)) return undefined;
    if (this.offset === 0 && have === 0) this.#fail('empty file: not a pcap or pcapng capture');
    this.#fail(`cut short: ${have} of ${wanted} bytes of a ${this.#state === 'start' ? 'file header' : 'record'}`);
  }

  /** Fails at buffer index `at` (by default the record being read), named by its file offset. */
  #fail(what: string, at = this.#pos): never {
    const offset = this.#base + at;
    this.#error = new UdpkitError('UDPKIT_CAPTURE_INVALID', `${what} at byte ${offset}`, { offset });
    throw this.#error;
  }

  #u16(at: number): number {
    return this.#le ? this.#buf.readUInt16LE(at) : this.#buf.readUInt16BE(at);
  }

  #u32(at: number): number {
    return this.#le ? this.#buf.readUInt32LE(at) : this.#buf.readUInt32BE(at);
  }

  /** Reads the file's first bytes; false when too few have come to tell. */
  #header(): boolean {
    const b = this.#buf;
    const at = this.#pos;
    if (b.length - at < 4) return false;
    const magic = b.readUInt32BE(at);
    if (magic === PCAPNG_SHB) {
      this.#state = 'pcapng';
      return true;
    }
    const kinds: Record<number, [boolean, number]> = { 0xa1b2c3d4: [false, 1000], 0xd4c3b2a1: [true, 1000], 0xa1b23c4d: [false, 1e6], 0x4d3cb2a1: [true, 1e6] };
    const kind = kinds[magic];
    if (kind === undefined) this.#fail(`not a pcap or pcapng capture (magic ${magic.toString(16).padStart(8, '0')})`);
    if (b.length - at < 24) return false;
    [this.#le, this.#pcapDivisor] = kind;
    if (this.#u16(at + 4) !== 2) this.#fail(`pcap version ${this.#u16(at + 4)}.${this.#u16(at + 6)} is not 2.x`);
    this.#pcapLink = this.#u32(at + 20) & 0xffff;
    this.#state = 'pcap';
    this.#pos += 24;
    return true;
  }

  /** One pcap record: true (a datagram is in #raw), 0 (none: go on), or the bytes still needed. */
  #pcapRecord(): true | number {
    const at = this.#pos;
    if (this.#buf.length - at < 16) return 16;
    const captured = this.#u32(at + 8);
    if (captured > MAX_CAPTURE_RECORD) this.#fail(`a packet record of ${captured} bytes (more than any capture holds)`);
    if (this.#buf.length - at < 16 + captured) return 16 + captured;
    const fraction = this.#u32(at + 4);
    const time = this.#u32(at) * 1000 + fraction / this.#pcapDivisor;
    this.#pos += 16 + captured;
    return this.#frame(this.#pcapLink, at + 16, at + 16 + captured, time);
  }

  /** One pcapng block: true (a datagram is in #raw), 0 (none: go on), or the bytes still needed. */
  #pcapngBlock(): true | number {
    const b = this.#buf;
    const at = this.#pos;
    if (b.length - at < 12) return 12;
    const type = b.readUInt32LE(at) === PCAPNG_SHB ? PCAPNG_SHB : this.#u32(at);
    if (type === PCAPNG_SHB) {
      const order = b.readUInt32LE(at + 8);
      if (order === BYTE_ORDER_MAGIC) this.#le = true;
      else if (b.readUInt32BE(at + 8) === BYTE_ORDER_MAGIC) this.#le = false;
      else this.#fail('pcapng section header with no byte-order magic');
    }
    const length = this.#u32(at + 4);
    if (length % 4 !== 0 || length < 12 || (type === PCAPNG_SHB && length < 28)) this.#fail(`pcapng block of type ${type} with a bad length ${length}`);
    const needed = type === PCAPNG_SHB || type === 1 || type === 2 || type === 3 || type === 6;
    if (!needed) {
      // Statistics, name resolution, custom blocks: dropped as they pass, however large.
      if (b.length - at < length) this.#discard = length;
      else this.#pos += length;
      return 0;
    }
    if (length > MAX_CAPTURE_RECORD) this.#fail(`a pcapng block of ${length} bytes (more than any capture holds)`);
    if (b.length - at < length) return length;
    if (this.#u32(at + length - 4) !== length) this.#fail(`pcapng block of type ${type}: its two lengths differ`);
    this.#pos += length;
    const body = at + 8;
    const end = at + length - 4;
    switch (type) {
      case PCAPNG_SHB:
        if (this.#u16(body + 4) !== 1) this.#fail(`pcapng version ${this.#u16(body + 4)} is not 1.x`, at);
        this.#interfaces = [];
        return 0;
      case 1:
        if (end - body < 8) this.#fail('pcapng interface block too short', at);
        this.#interfaces.push(this.#interface(body, end));
        return 0;
      case 6:
      case 2: {
        if (end - body < 20) this.#fail('pcapng packet block too short', at);
        const id = type === 6 ? this.#u32(body) : this.#u16(body);
        const captured = this.#u32(body + 12);
        if (captured > end - body - 20) this.#fail(`pcapng packet block says ${captured} bytes, more than the block holds`, at);
        const iface = this.#interfaces[id];
        if (iface === undefined) this.#fail(`pcapng packet for interface ${id}, which no block described`, at);
        const time = timeOf(this.#u32(body + 4), this.#u32(body + 8), iface);
        return this.#frame(iface.link, body + 20, body + 20 + captured, time);
      }
      case 3: {
        if (end - body < 4) this.#fail('pcapng simple packet block too short', at);
        const iface = this.#interfaces[0];
        if (iface === undefined) this.#fail('pcapng simple packet with no interface described', at);
        const captured = Math.min(this.#u32(body), end - body - 4);
        // It carries no time: the previous packet's keeps the replay's gaps as they were.
        return this.#frame(iface.link, body + 4, body + 4 + captured, this.#lastTime);
      }
      default:
        return 0;
    }
  }

  /** An interface description's link type and time options. */
  #interface(body: number, end: number): Interface {
    const link = this.#u16(body);
    let perSecond = 1e6;
    let perSecondBig = 1_000_000n;
    let offsetMs = 0;
    for (let at = body + 8; at + 4 <= end; ) {
      const code = this.#u16(at);
      const length = this.#u16(at + 2);
      if (code === 0 || at + 4 + length > end) break;
      if (code === 9 && length >= 1) {
        const v = this.#buf[at + 4] as number;
        const power = v & 0x7f;
        // Beyond 2^-63 or 10^-18 s no clock ticks: refuse it rather than compute nonsense.
        if ((v & 0x80) !== 0 ? power > 63 : power > 18) this.#fail(`pcapng if_tsresol ${v} is finer than any clock`, at);
        perSecondBig = (v & 0x80) !== 0 ? 1n << BigInt(power) : 10n ** BigInt(power);
        perSecond = Number(perSecondBig);
      } else if (code === 14 && length >= 8) {
        offsetMs = Number(this.#le ? this.#buf.readBigInt64LE(at + 4) : this.#buf.readBigInt64BE(at + 4)) * 1000;
      }
      at += 4 + length + ((4 - (length % 4)) % 4);
    }
    return { link, perSecond, perSecondBig, offsetMs };
  }

  /** Finds the datagram in the frame at [start, end) (true: it is in #raw), or counts why there is none (0). */
  #frame(link: number, start: number, end: number, time: number): true | 0 {
    this.frames++;
    this.#lastTime = time;
    const why = udpOfFrame(link, this.#buf, start, end, this.#raw);
    if (why !== undefined) {
      this.skipped[why] = (this.skipped[why] ?? 0) + 1;
      return 0;
    }
    this.#raw.bytes = this.#buf;
    this.#raw.time = time;
    return true;
  }
}

/** A pcapng timestamp (high and low 32 bits) in milliseconds since the epoch. */
function timeOf(high: number, low: number, iface: Interface): number {
  const units = high * 4294967296 + low;
  if (units <= Number.MAX_SAFE_INTEGER) return (units / iface.perSecond) * 1000 + iface.offsetMs;
  // Nanoseconds since 1970 pass 2^53: split into seconds and the rest exactly first.
  const big = (BigInt(high) << 32n) | BigInt(low);
  const seconds = big / iface.perSecondBig;
  const rest = big % iface.perSecondBig;
  return Number(seconds) * 1000 + (Number(rest) / iface.perSecond) * 1000 + iface.offsetMs;
}
