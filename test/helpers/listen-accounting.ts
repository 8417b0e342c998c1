/**
 * Helpers for the tests that check a listener's accounting: every datagram sent is shown,
 * refused with a reason, or dropped by the kernel, as the summary line on stderr says.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What the summary line of `udpkit listen` says. */
export interface ListenSummary {
  readonly received: number;
  readonly bytes: number;
  readonly kernelDropped: number;
  /** Absent when the line has no `; refused R`. */
  readonly refused: number | undefined;
  readonly refusedBy: Readonly<Record<string, number>>;
  readonly sessionsEvicted: number;
  /** With --echo: echoed, held back by a limit, not echoed for another reason; else undefined. */
  readonly echo: { readonly echoed: number; readonly limited: number; readonly notEchoed: number } | undefined;
}

const SUMMARY =
  /^received (\d+) datagrams?, (\d+) bytes?; kernel dropped (\d+)(?:; refused (\d+)(?: \(([^)]*)\))?)?(?:; (\d+) --ack sessions? evicted)?(?:; echoed (\d+)(?:; echo limited (\d+) \([^)]*\))?(?:; not echoed (\d+) \([^)]*\))?)?$/m;

/** Parses the summary line out of a listener's stderr; throws when there is none. */
export function parseSummary(stderr: string): ListenSummary {
  const m = SUMMARY.exec(stderr);
  if (!m) throw new Error(`no summary line in ${JSON.stringify(stderr)}`);
  const refusedBy: Record<string, number> = {};
  for (const part of m[5] === undefined ? [] : m[5].split(', ')) {
    const r = /^(.+) (\d+)$/.exec(part);
    if (!r) throw new Error(`bad reason ${JSON.stringify(part)} in the summary`);
    refusedBy[r[1] as string] = Number(r[2]);
  }
  const refused = m[4] === undefined ? undefined : Number(m[4]);
  const byReason = Object.values(refusedBy).reduce((a, b) => a + b, 0);
  if ((refused ?? 0) !== byReason) throw new Error(`refused ${refused} but the reasons add up to ${byReason}: ${m[0]}`);
  return {
    received: Number(m[1]),
    bytes: Number(m[2]),
    kernelDropped: Number(m[3]),
    refused,
    refusedBy,
    sessionsEvicted: m[6] === undefined ? 0 : Number(m[6]),
    echo: m[7] === undefined ? undefined : { echoed: Number(m[7]), limited: Number(m[8] ?? 0), notEchoed: Number(m[9] ?? 0) },
  };
}

/** One text line of `udpkit listen`, split up. */
export interface ShownLine {
  readonly text: string;
  readonly port: number;
  readonly address: string;
}

/** The text lines on a listener's stdout; throws on a line that is not one. */
export function shownLines(stdout: string): ShownLine[] {
  return stdout
    .split('\n')
    .slice(0, -1)
    .map((line) => {
      const m = /^received message: (.*) from PORT (\d+) on (\S+)$/.exec(line);
      if (!m) throw new Error(`not a datagram line: ${JSON.stringify(line)}`);
      return { text: m[1] as string, port: Number(m[2]), address: m[3] as string };
    });
}

/** VmRSS and VmHWM of a process, in bytes, from /proc/PID/status. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/**
 * Runs `fn` while `child` is stopped (SIGSTOP, then SIGCONT), so that everything `fn` sends
 * waits in the child's socket and reaches it in one go, deterministically.
 */
export async function whileStopped<T>(child: ChildProcess, fn: () => Promise<T>): Promise<T> {
  const pid = child.pid as number;
  child.kill('SIGSTOP');
  try {
    // The signal is asynchronous: wait (bounded) until the kernel says the process is stopped.
    for (let i = 0; i < 2000 && !/^\d+ \(.*\) [Tt] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 1));
    return await fn();
  } finally {
    child.kill('SIGCONT');
  }
}

/** Sends datagrams from one socket bound to `from`, in order, each handed to the kernel before the next. */
export async function sendFrom(port: number, payloads: readonly Uint8Array[], from = '127.0.0.1'): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, from, r));
  for (const p of payloads) await new Promise<void>((r, j) => s.send(p, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  const own = s.address().port;
  await new Promise<void>((r) => s.close(r));
  return own;
}

const ACK_FLOOD = fileURLToPath(new URL('../fixtures/ack_flood.py', import.meta.url));

/** Runs test/fixtures/ack_flood.py against `port`; resolves with how many datagrams it sent. */
export function ackFlood(port: number, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn('python3', [ACK_FLOOD, String(port), ...args]);
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (code) => (code === 0 ? resolve((JSON.parse(out) as { sent: number }).sent) : reject(new Error(`ack_flood.py exited ${code}: ${err}`))));
  });
}
