/**
 * Numbered traffic for statistics through a relay: a Node sender that paces itself on the
 * kernel's queues (so nothing is dropped for want of buffer), and a Python sink (code that
 * shares nothing with udpkit) that says, for each datagram, which number it carries and whether
 * a bit of it was flipped.
 *
 * A payload is the sequence number as four big-endian uint32 copies (16 bytes): one flipped bit
 * spoils one copy, so the other three still name the datagram and the disagreement shows it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { udpUnread } from './udp-queues.js';
import { until } from './until.js';

const SINK = `
import select, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(('127.0.0.1', 0))
print(s.getsockname()[1], flush=True)
out = []
def drain():
    while True:
        try:
            d = s.recv(65535, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        if len(d) != 16:
            out.append('? 1')
            continue
        w = struct.unpack('>4I', d)
        seq = max(set(w), key=w.count)
        out.append('%d %d' % (seq, 0 if len(set(w)) == 1 else 1))
while True:
    r, _, _ = select.select([s, sys.stdin], [], [])
    if s in r:
        drain()
    elif sys.stdin in r and sys.stdin.read() == '':
        drain()
        break
sys.stdout.write('\\n'.join(out) + '\\n')
`;

/** One datagram the sink received: its number and whether it arrived with a bit flipped. */
export interface SinkDatagram {
  readonly seq: number;
  readonly corrupted: boolean;
}

/** The Python sink: its port, and `stop()` to end it and read what it received. */
export interface SeqSink {
  readonly port: number;
  readonly child: ChildProcess;
  stop(): Promise<SinkDatagram[]>;
}

/** Starts the sink on 127.0.0.1 port 0 and resolves once it is bound. */
export async function seqSink(): Promise<SeqSink> {
  const child = spawn('python3', ['-c', SINK], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = once(child, 'close');
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (stdout.includes('\n')) resolve();
    };
    child.stdout.on('data', check);
    void exited.then(() => reject(new Error(`sink exited: ${stderr}`)));
  });
  const port = Number(stdout.split('\n')[0]);
  stdout = '';
  return {
    port,
    child,
    async stop() {
      child.stdin.end();
      await exited;
      return stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [seq, c] = l.split(' ');
          return { seq: seq === '?' ? -1 : Number(seq), corrupted: c === '1' };
        });
    },
  };
}

/** The payload of datagram `seq`. */
export function seqPayload(seq: number): Buffer {
  const b = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) b.writeUInt32BE(seq, 4 * i);
  return b;
}

/**
 * Sends datagrams 0..count-1 to `port` on 127.0.0.1 in chunks, each after the relay's socket and
 * the sink's have read everything (so no buffer overflows); 60 s at most per chunk.
 */
export async function sendNumbered(port: number, count: number, watch: readonly number[], chunk = 1000): Promise<void> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  try {
    for (let start = 0; start < count; start += chunk) {
      const sends: Promise<void>[] = [];
      for (let seq = start; seq < Math.min(count, start + chunk); seq++) {
        sends.push(new Promise<void>((resolve, reject) => socket.send(seqPayload(seq), port, '127.0.0.1', (err) => (err ? reject(err) : resolve()))));
      }
      await Promise.all(sends);
      await until(() => [port, ...watch].every((p) => udpUnread(p) === 0), 60_000, `the relay and the sink read chunk ${start}`);
    }
  } finally {
    socket.close();
  }
}
