/**
 * Reads a capture with tcpdump (a reader nobody here wrote): `tcpdump -r - -nn -tt -vv -x`,
 * the file given on stdin so that tcpdump's dropping of privileges never stands in the way.
 * Each packet comes back with what tcpdump printed for it, its time, its ends and the bytes of
 * the packet tcpdump dumped (IP header first: the files are link type raw IP).
 */
import { spawn } from 'node:child_process';

/** One packet as tcpdump read it. */
export interface DumpedPacket {
  /** tcpdump's summary line(s) for the packet, without the hex dump. */
  readonly text: string;
  /** Seconds since the epoch, as `-tt` printed it (microseconds). */
  readonly time: string;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  /** The whole IP packet. */
  readonly bytes: Buffer;
  /** The UDP payload: the packet after its IPv4 (20) or IPv6 (40) header and the UDP header. */
  readonly payload: Buffer;
}

/** Runs tcpdump over `capture`; rejects when it exits with a failure or complains on stderr. */
export function tcpdumpRead(capture: Buffer): Promise<{ packets: DumpedPacket[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('tcpdump', ['-r', '-', '-nn', '-tt', '-vv', '-x'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      // tcpdump says "reading from file -, link-type RAW (Raw IP), snapshot length 262144".
      const complaints = err.split('\n').filter((l) => l !== '' && !l.startsWith('reading from file'));
      if (code !== 0 || complaints.length > 0) reject(new Error(`tcpdump exited ${code}: ${err}`));
      else resolve({ packets: parse(out), stderr: err });
    });
    child.stdin.on('error', () => undefined); // tcpdump refusing the file closes its stdin early
    child.stdin.end(capture);
  });
}

function parse(out: string): DumpedPacket[] {
  const packets: DumpedPacket[] = [];
  let text: string[] = [];
  let hex: string[] = [];
  const flush = (): void => {
    if (text.length === 0) return;
    const joined = text.join(' ');
    const time = /^(\d+\.\d+) /.exec(joined)?.[1];
    const ends = /(\S+)\.(\d+) > (\S+)\.(\d+):/.exec(joined);
    if (time === undefined || !ends) throw new Error(`tcpdump printed a packet this helper cannot read: ${joined}`);
    const bytes = Buffer.from(hex.join(''), 'hex');
    const headers = bytes[0]! >> 4 === 4 ? 28 : 48;
    packets.push({
      text: joined,
      time,
      src: ends[1]!,
      srcPort: Number(ends[2]),
      dst: ends[3]!,
      dstPort: Number(ends[4]),
      bytes,
      payload: bytes.subarray(headers),
    });
    text = [];
    hex = [];
  };
  for (const line of out.split('\n')) {
    const dump = /^\s+0x[0-9a-f]+:\s+(.*)$/.exec(line);
    if (dump) hex.push(dump[1]!.replace(/\s+/g, ''));
    else if (/^\d/.test(line)) {
      flush();
      text.push(line.trim());
    } else if (line.trim() !== '') text.push(line.trim());
  }
  flush();
  return packets;
}
