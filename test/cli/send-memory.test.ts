/**
 * `udpkit send < file` keeps its memory flat whatever the input's size: lines go to the kernel
 * straight from the buffer the file is read into, with no object per line (line-batches.ts,
 * Sender.writeSpans). Measured with 500,000 lines: 6-7 MiB more than one message; 28 MiB before
 * (a new buffer per read, left to the garbage collector, and objects made per line), and still
 * 13 MiB with the file read through one buffer but a Buffer and a write per line (V8 grows its
 * young generation for them).
 *
 * The receiver is Python's socket module. The sender waits for its reply (`-w`), so its peak
 * memory (VmHWM in /proc/PID/status) is read after every datagram was sent, while it still runs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeAvailable } from '../../src/native/binding.js';
import { BIN } from '../helpers/cli.js';
import { procMemory } from '../helpers/proc-memory.js';
import { udpDrops } from '../helpers/udp-drops.js';
import { udpUnread } from '../helpers/udp-queues.js';
import { until } from '../helpers/until.js';

/** Counts datagrams until a line on stdin, then answers the last sender and prints the count. */
const RECEIVER = `
import select, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(('127.0.0.1', 0))
s.setblocking(False)
print(s.getsockname()[1], flush=True)
n, peer = 0, None
while True:
    ready = select.select([s, sys.stdin], [], [])[0]
    if s in ready:
        while True:
            try:
                peer = s.recvfrom(65536)[1]
            except BlockingIOError:
                break
            n += 1
    if sys.stdin in ready:
        sys.stdin.readline()
        s.sendto(b'counted', peer)
        print(n, flush=True)
        break
`;

const LINES = 500_000;
const dir = mkdtempSync(join(tmpdir(), 'udpkit-send-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Measured {
  readonly hwm: number;
  readonly sent: number;
  readonly received: number;
  readonly dropped: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `udpkit send 127.0.0.1:PORT ARGS -w 30` into the Python receiver, stdin from `input`. */
async function measuredSend(args: readonly string[], input: number | 'ignore'): Promise<Measured> {
  const py = spawn('python3', ['-u', '-c', RECEIVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  let pyOut = '';
  py.stdout.setEncoding('utf8').on('data', (s: string) => (pyOut += s));
  try {
    await until(() => pyOut.includes('\n'), 10_000, 'the receiver to print its port');
    const port = Number(pyOut.split('\n')[0]);
    const child = spawn(process.execPath, [BIN, 'send', `127.0.0.1:${port}`, ...args, '-w', '30'], { stdio: [input, 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = once(child, 'close');
    await until(() => /^sent \d+ datagrams? /m.test(stderr) || child.exitCode !== null, 60_000, 'udpkit to say what it sent');
    // Everything sent is in the receiver's queue or counted; let it take the queue in.
    await until(() => udpUnread(port) === 0, 20_000, 'the receiver to read its queue');
    const { hwm } = procMemory(child.pid!);
    const dropped = udpDrops(port);
    py.stdin.write('reply\n');
    await until(() => pyOut.split('\n').length > 2, 10_000, 'the receiver to count');
    const [code] = (await exited) as [number | null];
    return { hwm, sent: Number(/^sent (\d+)/m.exec(stderr)?.[1]), received: Number(pyOut.split('\n')[1]), dropped, code, stdout: stdout.replace(/PORT \d+/, 'PORT N'), stderr };
  } finally {
    py.kill('SIGKILL');
  }
}

const MiB = 1024 * 1024;

describe('udpkit send < file: memory', () => {
  // node:dgram makes objects of its own for every datagram: only the native sender is flat.
  if (!nativeAvailable()) console.warn('SKIPPED send memory test: the native addon is not loaded (UDPKIT_NATIVE=0 or not built)');
  it.skipIf(!nativeAvailable())(`${LINES.toLocaleString('en-US')} lines take at most 10 MiB more than one message, and every datagram is accounted for`, async () => {
    const file = join(dir, 'lines.txt');
    writeFileSync(file, Array.from({ length: LINES }, (_, i) => `${String(i).padStart(12, '0')} ${'m'.repeat(50)}\n`).join(''));
    const one = await measuredSend(['x'], 'ignore');
    expect(one).toMatchObject({ code: 0, sent: 1, received: 1, dropped: 0, stdout: 'received message: counted from PORT N on 127.0.0.1\n' });
    const fd = openSync(file, 'r');
    let many: Measured;
    try {
      many = await measuredSend([], fd);
    } finally {
      closeSync(fd);
    }
    expect(many.stderr).toMatch(new RegExp(`^sent ${LINES} datagrams \\(${LINES * 63} bytes\\) to 127\\.0\\.0\\.1:\\d+/udp\\n$`));
    expect(many).toMatchObject({ code: 0, stdout: 'received message: counted from PORT N on 127.0.0.1\n' });
    expect(many.received + many.dropped).toBe(LINES);
    expect(many.received).toBeGreaterThan(0);
    console.log(`send peak RSS: one message ${(one.hwm / MiB).toFixed(1)} MiB, ${LINES} lines ${(many.hwm / MiB).toFixed(1)} MiB; received ${many.received}, dropped ${many.dropped}`);
    expect(many.hwm - one.hwm).toBeLessThan(10 * MiB);
  });
});
