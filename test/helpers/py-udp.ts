/**
 * UDP peers written with Python's socket module, so the tests of README claims check udpkit
 * against code that shares nothing with it. The scripts are inline and short on purpose.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const SENDER = `
import json, socket, sys
host, port, payloads, bcast = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4] == '1'
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if bcast:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(('0.0.0.0' if bcast else '127.0.0.1', 0))
for p in payloads:
    s.sendto(p.encode(), (host, port))
print(json.dumps({'port': s.getsockname()[1], 'sent': len(payloads)}), flush=True)
`;

const FLOOD = `
import json, socket, sys
port, count, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
for i in range(count):
    s.sendto(('%08d ' % i).encode().ljust(size, b'x'), ('127.0.0.1', port))
print(json.dumps({'port': s.getsockname()[1], 'sent': count}), flush=True)
`;

const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print('bound', s.getsockname()[1], file=sys.stderr, flush=True)
for _ in range(int(sys.argv[3])):
    data, addr = s.recvfrom(65535)
    print(json.dumps({'address': addr[0], 'port': addr[1], 'text': data.decode('utf-8', 'replace')}), flush=True)
`;

/** Runs `python3 -c SCRIPT ARGS` (inside `prefix`, e.g. `ip netns exec NS`). */
function python(script: string, args: readonly string[], prefix: readonly string[] = []): ChildProcess {
  const argv = [...prefix, 'python3', '-c', script, ...args];
  return spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Sends each payload as one datagram from one Python socket, in order (each `sendto` returns
 * once the kernel has it); resolves with the sender's own port.
 */
export function pySend(port: number, payloads: readonly string[], options: { readonly host?: string; readonly prefix?: readonly string[]; readonly broadcast?: boolean } = {}): Promise<number> {
  return collect(python(SENDER, [options.host ?? '127.0.0.1', String(port), JSON.stringify(payloads), options.broadcast === true ? '1' : '0'], options.prefix));
}

/** Waits for a Python sender to exit 0 and reads the port it printed. */
function collect(c: ChildProcess): Promise<number> {
  let out = '';
  let err = '';
  c.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  c.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
    c.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve((JSON.parse(out) as { port: number }).port);
      else reject(new Error(`python sender exited ${code}: ${err}`));
    });
  });
}

/**
 * Sends `count` datagrams of `size` bytes to 127.0.0.1:`port` as fast as Python can, each
 * starting with its 8-digit number and a space; resolves with the sender's own port.
 */
export function pyFlood(port: number, count: number, size: number): Promise<number> {
  return collect(python(FLOOD, [String(port), String(count), String(size)]));
}

/** One datagram as the Python receiver saw it. */
export interface PyDatagram {
  readonly address: string;
  readonly port: number;
  readonly text: string;
}

/** A running Python receiver. */
export interface PyReceiver {
  readonly child: ChildProcess;
  /** The port it bound. */
  readonly port: number;
  /** What arrived so far. */
  readonly got: PyDatagram[];
  /** Resolves once `n` datagrams arrived in all; rejects if it exits first or after `ms`. */
  waitFor(n: number, ms?: number): Promise<PyDatagram[]>;
  /** Resolves once it exited (after `count` datagrams), with its exit code. */
  readonly done: Promise<number | null>;
}

/** Starts a Python receiver bound to `address:port` that exits after `count` datagrams. */
export async function pyReceiver(options: { readonly address?: string; readonly port?: number; readonly count: number; readonly prefix?: readonly string[] }): Promise<PyReceiver> {
  const c = python(RECEIVER, [options.address ?? '127.0.0.1', String(options.port ?? 0), String(options.count)], options.prefix);
  const got: PyDatagram[] = [];
  let err = '';
  let partial = '';
  const waiters = new Set<() => void>();
  c.stdout!.setEncoding('utf8').on('data', (s: string) => {
    const lines = (partial + s).split('\n');
    partial = lines.pop() as string;
    for (const line of lines) got.push(JSON.parse(line) as PyDatagram);
    for (const w of waiters) w();
  });
  const done = new Promise<number | null>((resolve) => c.on('close', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`python receiver did not bind within 10 s: ${err}`)), 10_000);
    c.stderr!.setEncoding('utf8').on('data', (s: string) => {
      err += s;
      const m = /^bound (\d+)$/m.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    c.once('close', (code) => reject(new Error(`python receiver exited ${code} before binding: ${err}`)));
  });
  const waitFor = (n: number, ms = 10_000): Promise<PyDatagram[]> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (got.length >= n) {
          cleanup();
          resolve(got.slice(0, n));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`python receiver got ${got.length} of ${n} datagrams within ${ms} ms`));
      }, ms);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { child: c, port, got, waitFor, done };
}
