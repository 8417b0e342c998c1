// A tiny classic-pcap writer for the replay scenario: one raw-IP (link type 101) IPv4/UDP
// record per line of a lines file, 1 µs apart, so `udpkit send --replay --speed 0` and
// `udpkit send < lines` send the very same payloads. Kept apart from udpkit's own capture code.
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';

const FILE_HEADER = 24;
const RECORD_HEADER = 16;
const IP_UDP = 28;

/** One record: pcap record header, IPv4 header (no checksum), UDP header, payload. */
function record(payload, i) {
  const b = Buffer.alloc(RECORD_HEADER + IP_UDP + payload.length);
  const us = 1_700_000_000_000_000 + i;
  b.writeUInt32LE(Math.floor(us / 1e6), 0);
  b.writeUInt32LE(us % 1e6, 4);
  b.writeUInt32LE(IP_UDP + payload.length, 8);
  b.writeUInt32LE(IP_UDP + payload.length, 12);
  const ip = RECORD_HEADER;
  b[ip] = 0x45;
  b.writeUInt16BE(IP_UDP + payload.length, ip + 2);
  b[ip + 8] = 64;
  b[ip + 9] = 17;
  b.set([127, 0, 0, 1], ip + 12);
  b.set([127, 0, 0, 1], ip + 16);
  b.writeUInt16BE(40000, ip + 20);
  b.writeUInt16BE(9, ip + 22);
  b.writeUInt16BE(8 + payload.length, ip + 24);
  payload.copy(b, RECORD_HEADER + IP_UDP);
  return b;
}

/** Writes (once) a capture of every line of `linesPath` (lines of `lineSize` bytes with their newline). */
export async function captureOfLines(outDir, linesPath, count, lineSize, log) {
  const path = join(outDir, `lines-${count}.pcap`);
  const size = FILE_HEADER + count * (RECORD_HEADER + IP_UDP + lineSize - 1);
  if (existsSync(path) && statSync(path).size === size) return path;
  log(`writing a ${count.toLocaleString('en-US')}-packet capture to ${path}`);
  const out = createWriteStream(path);
  const header = Buffer.alloc(FILE_HEADER);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(101, 20);
  out.write(header);
  let rest = Buffer.alloc(0);
  let i = 0;
  for await (const chunk of createReadStream(linesPath)) {
    const bytes = Buffer.concat([rest, chunk]);
    const parts = [];
    let at = 0;
    for (; at + lineSize <= bytes.length; at += lineSize) parts.push(record(bytes.subarray(at, at + lineSize - 1), i++));
    rest = bytes.subarray(at);
    if (!out.write(Buffer.concat(parts))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  if (i !== count) throw new Error(`the lines file held ${i} lines, not ${count}`);
  return path;
}
