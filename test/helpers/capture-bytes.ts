/**
 * Captures built byte by byte for the reader's tests, from the file format documents (pcap:
 * draft-ietf-opsawg-pcap; pcapng: draft-ietf-opsawg-pcapng), not from udpkit's own code.
 */

/** Bytes of an unsigned integer of `size` bytes in either order. */
function uint(value: number | bigint, size: 2 | 4 | 8, le: boolean): Buffer {
  const b = Buffer.alloc(size);
  if (size === 2) le ? b.writeUInt16LE(Number(value)) : b.writeUInt16BE(Number(value));
  else if (size === 4) le ? b.writeUInt32LE(Number(value)) : b.writeUInt32BE(Number(value));
  else le ? b.writeBigUInt64LE(BigInt(value)) : b.writeBigUInt64BE(BigInt(value));
  return b;
}

function ipv4Bytes(a: string): number[] {
  return a.split('.').map(Number);
}

function ipv6Bytes(a: string): number[] {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = (head ?? '') === '' ? [] : (head as string).split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

/** The 8-byte UDP header and payload (checksum 0: readers do not check it). */
export function udp(sport: number, dport: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export interface Ipv4Extra {
  /** Bytes of IP options (a multiple of 4). */
  readonly options?: number[];
  readonly protocol?: number;
  /** The flags-and-offset field (0x2000: more fragments). */
  readonly fragment?: number;
}

/** An IPv4 packet carrying `body` (a UDP datagram unless `protocol` says otherwise). */
export function ipv4(src: string, dst: string, body: Uint8Array, extra: Ipv4Extra = {}): Buffer {
  const options = extra.options ?? [];
  const h = Buffer.alloc(20 + options.length);
  h[0] = 0x40 | ((20 + options.length) / 4);
  h.writeUInt16BE(h.length + body.length, 2);
  h.writeUInt16BE(extra.fragment ?? 0, 6);
  h[8] = 64;
  h[9] = extra.protocol ?? 17;
  Buffer.from(ipv4Bytes(src)).copy(h, 12);
  Buffer.from(ipv4Bytes(dst)).copy(h, 16);
  Buffer.from(options).copy(h, 20);
  return Buffer.concat([h, body]);
}

/** One IPv6 extension header: its type and its bytes (next-header byte filled in by {@link ipv6}). */
export interface Ipv6Extension {
  readonly type: number;
  readonly bytes: number[];
}

/** An IPv6 packet: the extension headers in order, then `body` with next header `protocol`. */
export function ipv6(src: string, dst: string, body: Uint8Array, extensions: readonly Ipv6Extension[] = [], protocol = 17): Buffer {
  const ext = extensions.map((e, i) => {
    const b = Buffer.from(e.bytes);
    b[0] = extensions[i + 1]?.type ?? protocol;
    return b;
  });
  const payload = Buffer.concat([...ext, body]);
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(payload.length, 4);
  h[6] = extensions[0]?.type ?? protocol;
  h[7] = 64;
  Buffer.from(ipv6Bytes(src)).copy(h, 8);
  Buffer.from(ipv6Bytes(dst)).copy(h, 24);
  return Buffer.concat([h, payload]);
}

/** An Ethernet II frame with optional VLAN tags (each [TPID, VLAN id]). */
export function ethernet(ip: Uint8Array, tags: readonly [number, number][] = [], type = (ip[0] ?? 0) >> 4 === 6 ? 0x86dd : 0x0800): Buffer {
  const macs = Buffer.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
  const tagBytes = tags.map(([tpid, id]) => Buffer.concat([uint(tpid, 2, false), uint(id, 2, false)]));
  return Buffer.concat([macs, ...tagBytes, uint(type, 2, false), ip]);
}

/** Linux cooked capture v1 (link type 113). */
export function sll(ip: Uint8Array, type = (ip[0] ?? 0) >> 4 === 6 ? 0x86dd : 0x0800): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0);
  h.writeUInt16BE(772, 2);
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(type, 14);
  return Buffer.concat([h, ip]);
}

/** Linux cooked capture v2 (link type 276). */
export function sll2(ip: Uint8Array, type = (ip[0] ?? 0) >> 4 === 6 ? 0x86dd : 0x0800): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt32BE(1, 4);
  h.writeUInt16BE(772, 8);
  h[11] = 6;
  return Buffer.concat([h, ip]);
}

/** BSD null/loopback: a 4-byte address family in the given order. */
export function nullLink(ip: Uint8Array, family: number, le: boolean): Buffer {
  return Buffer.concat([uint(family, 4, le), ip]);
}

/** One packet of a capture: when (seconds and the fraction in the file's units), the frame. */
export interface CaptureRecord {
  readonly seconds: number;
  readonly fraction: number;
  readonly frame: Uint8Array;
  /** Captured length when cut short by a snap length (default: the whole frame). */
  readonly captured?: number;
}

/** A classic pcap file. */
export function pcap(link: number, records: readonly CaptureRecord[], { le = true, nano = false } = {}): Buffer {
  const header = Buffer.concat([
    uint(nano ? 0xa1b23c4d : 0xa1b2c3d4, 4, le),
    uint(2, 2, le),
    uint(4, 2, le),
    uint(0, 4, le),
    uint(0, 4, le),
    uint(262144, 4, le),
    uint(link, 4, le),
  ]);
  const body = records.map((r) => {
    const cap = r.captured ?? r.frame.length;
    return Buffer.concat([uint(r.seconds, 4, le), uint(r.fraction, 4, le), uint(cap, 4, le), uint(r.frame.length, 4, le), Buffer.from(r.frame).subarray(0, cap)]);
  });
  return Buffer.concat([header, ...body]);
}

/** A pcapng block: type, length, body padded to 4, length. */
export function block(type: number, body: Uint8Array, le = true): Buffer {
  const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
  const length = 12 + body.length + pad.length;
  return Buffer.concat([uint(type, 4, le), uint(length, 4, le), body, pad, uint(length, 4, le)]);
}

/** A section header block. */
export function shb(le = true): Buffer {
  return block(0x0a0d0d0a, Buffer.concat([uint(0x1a2b3c4d, 4, le), uint(1, 2, le), uint(0, 2, le), uint(-1n & 0xffffffffffffffffn, 8, le)]), le);
}

/** An interface description block, with if_tsresol when given (the option's raw byte). */
export function idb(link: number, { le = true, tsresol, tsoffset }: { le?: boolean; tsresol?: number; tsoffset?: number } = {}): Buffer {
  const options: Buffer[] = [];
  if (tsresol !== undefined) options.push(uint(9, 2, le), uint(1, 2, le), Buffer.from([tsresol, 0, 0, 0]));
  if (tsoffset !== undefined) options.push(uint(14, 2, le), uint(8, 2, le), uint(BigInt(tsoffset), 8, le));
  if (options.length > 0) options.push(Buffer.alloc(4));
  return block(1, Buffer.concat([uint(link, 2, le), uint(0, 2, le), uint(262144, 4, le), ...options]), le);
}

/** An enhanced packet block: interface, 64-bit timestamp in that interface's units, the frame. */
export function epb(iface: number, units: bigint, frame: Uint8Array, le = true, captured = frame.length): Buffer {
  const body = Buffer.concat([
    uint(iface, 4, le),
    uint(Number(units >> 32n), 4, le),
    uint(Number(units & 0xffffffffn), 4, le),
    uint(captured, 4, le),
    uint(frame.length, 4, le),
    Buffer.from(frame).subarray(0, captured),
  ]);
  return block(6, body, le);
}

/** A simple packet block (interface 0, no time). */
export function spb(frame: Uint8Array, le = true): Buffer {
  return block(3, Buffer.concat([uint(frame.length, 4, le), frame]), le);
}

/** An obsolete packet block (type 2). */
export function opb(iface: number, units: bigint, frame: Uint8Array, le = true): Buffer {
  const body = Buffer.concat([
    uint(iface, 2, le),
    uint(0, 2, le),
    uint(Number(units >> 32n), 4, le),
    uint(Number(units & 0xffffffffn), 4, le),
    uint(frame.length, 4, le),
    uint(frame.length, 4, le),
    frame,
  ]);
  return block(2, body, le);
}
