/**
 * Captures made by tcpdump (a tool nobody here wrote), and a Python receiver that notes when
 * each datagram came, for the tests of `udpkit send --replay`.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** A running tcpdump writing a capture file. */
export interface Tcpdump {
  readonly child: ChildProcess;
  /** Resolves with its packet count once it has exited after `count` packets (killed after 10 s). */
  done(): Promise<number>;
}

/**
 * Starts `tcpdump -i IFACE -c COUNT -U --immediate-mode -w FILE FILTER...` (inside `prefix`, e.g.
 * `ip netns exec NS`) and resolves once it says it is listening. It exits by itself after
 * `count` packets: stopping it with a signal could lose packets still in its ring buffer.
 * `-Z root` keeps it from dropping to a user that could not write into a 0700 directory.
 */
export async function startTcpdump(iface: string, file: string, count: number, filter: readonly string[], prefix: readonly string[] = []): Promise<Tcpdump> {
  const argv = [...prefix, 'tcpdump', '-i', iface, '-c', String(count), '-U', '--immediate-mode', '-Z', 'root', '-w', file, ...filter];
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  child.stderr!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tcpdump did not start listening within 10 s: ${stderr}`));
    }, 10_000);
    child.stderr!.on('data', (s: string) => {
      stderr += s;
      if (/listening on/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited ${code} before listening: ${stderr}`));
    });
  });
  return {
    child,
    async done() {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await closed;
      clearTimeout(timer);
      const m = /(\d+) packets? captured/.exec(stderr);
      if (!m) throw new Error(`tcpdump said no packet count: ${stderr}`);
      return Number(m[1]);
    },
  };
}

const TIMED_RECEIVER = `
import json, socket, sys, time
family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
print('bound', s.getsockname()[1], file=sys.stderr, flush=True)
for _ in range(int(sys.argv[2])):
    data, addr = s.recvfrom(65535)
    print(json.dumps({'t': time.monotonic(), 'hex': data.hex()}), flush=True)
`;

/** One datagram a {@link timedReceiver} got: when (monotonic seconds) and its bytes. */
export interface TimedDatagram {
  readonly t: number;
  readonly data: Buffer;
}

/** A Python receiver that exits after `count` datagrams, noting each one's arrival time. */
export async function timedReceiver(count: number, address = '127.0.0.1'): Promise<{ port: number; child: ChildProcess; all: Promise<TimedDatagram[]> }> {
  const child = spawn('python3', ['-c', TIMED_RECEIVER, address, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const all = new Promise<TimedDatagram[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the receiver got ${out.split('\n').length - 1} of ${count} datagrams within 20 s`));
    }, 20_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`the receiver exited ${code}: ${err}`));
      const lines = out.split('\n').filter((l) => l !== '');
      resolve(lines.map((l) => JSON.parse(l) as { t: number; hex: string }).map((d) => ({ t: d.t, data: Buffer.from(d.hex, 'hex') })));
    });
  });
  all.catch(() => undefined);
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      err += s;
      const m = /^bound (\d+)$/m.exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.once('close', () => reject(new Error(`the receiver exited before binding: ${err}`)));
  });
  return { port, child, all };
}
