/**
 * The benchmark's C references must do what they claim, or the comparisons in
 * docs/BENCHMARKS.md mean nothing: udp-print escapes and prints exactly like `udpkit listen`
 * (checked against udpkit's own formatter, with datagrams from Python), and udp-blast's payload
 * kinds hold what bench/c/udp-blast.c says (checked by a Python receiver).
 */
import { spawn, spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sanitizeBytes } from '../../src/format/sanitize.js';
import { textLine } from '../../src/format/datagram.js';
import { compileBenchC, type BenchPrograms } from '../helpers/bench-c.js';
import { udpUnread } from '../helpers/udp-queues.js';
import { until } from '../helpers/until.js';

let programs: BenchPrograms;
beforeAll(() => {
  programs = compileBenchC(['udp-print', 'udp-blast']);
});
afterAll(() => programs?.remove());

interface Child {
  readonly child: ReturnType<typeof spawn>;
  stdout: string;
  stderr: string;
  readonly closed: Promise<number | null>;
}
const children: Child[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
});

function startChild(cmd: string, args: readonly string[], input?: string): Child {
  const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  const c: Child = { child, stdout: '', stderr: '', closed: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (c.stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (c.stderr += s));
  if (input !== undefined) child.stdin!.end(input);
  children.push(c);
  return c;
}

/** Resolves with the match once the child's stderr matches; rejects when it exits first. */
function stderrMatch(c: Child, re: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; stderr: ${c.stderr}`)), ms);
    const check = (): void => {
      const m = re.exec(c.stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    c.child.stderr!.on('data', check);
    void c.closed.then(() => {
      check();
      clearTimeout(timer);
      reject(new Error(`exited before ${re}; stderr: ${c.stderr}`));
    });
    check();
  });
}

/** What `udp-print --escape` makes of `bytes`, without the newline it ends with. */
function cEscape(bytes: Uint8Array): string {
  const r = spawnSync(programs.path('udp-print'), ['--escape'], { input: bytes, encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout.endsWith('\n')).toBe(true);
  return r.stdout.slice(0, -1);
}

const hex = (bytes: number[]): Buffer => Buffer.from(bytes);

/** Byte strings that sit on every edge of the escaping rules. */
const EDGES: Buffer[] = [
  Buffer.from('plain printable text, nothing to escape'),
  Buffer.from('tab\tkept, backslash \\ doubled, \n newline, \r return'),
  hex([0x00, 0x01, 0x08, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f]),
  Buffer.from('héllo 世界 🙂 \u00a0 \u00ad \ufeff'),
  Buffer.from('C1 \u0080 \u0085 \u009b \u009f, separators \u2028 \u2029, bidi \u202a \u202e \u2066 \u2069, near them \u2027 \u202f \u2065 \u206a'),
  hex([0xc0, 0x80, 0xc1, 0xbf, 0xe0, 0x80, 0x80, 0xe0, 0x9f, 0xbf, 0xf0, 0x80, 0x80, 0x80, 0xf0, 0x8f, 0xbf, 0xbf]),
  hex([0xed, 0xa0, 0x80, 0xed, 0xbf, 0xbf, 0xed, 0x9f, 0xbf]),
  hex([0xf4, 0x8f, 0xbf, 0xbf, 0xf4, 0x90, 0x80, 0x80, 0xf5, 0x80, 0x80, 0x80, 0xff, 0xfe]),
  hex([0x61, 0xe4, 0xb8, 0x62, 0xe4, 0x63, 0xf0, 0x9f, 0x98]),
  hex([0x80, 0xbf, 0xc2]),
  Buffer.alloc(0),
  Buffer.concat([Buffer.from('a'.repeat(40)), hex([0x5c]), Buffer.from('b'.repeat(9)), hex([0x09]), Buffer.from('c'.repeat(16))]),
];

/** Payload fragments the generator strings together: runs of text, escapes, broken UTF-8. */
const fragment = fc.oneof(
  fc.constantFrom(...EDGES.map((b) => Uint8Array.from(b))),
  fc.uint8Array({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }).map((s) => Uint8Array.from(Buffer.from(s))),
  fc.string({ maxLength: 40 }).map((s) => Uint8Array.from(Buffer.from(s, 'latin1'))),
);
const payload = fc.array(fragment, { maxLength: 8 }).map((parts) => Buffer.concat(parts.map((p) => Buffer.from(p))));

describe('udp-print --escape (bench/c/escape.h)', () => {
  it('escapes the edge cases of the rules exactly as udpkit does', () => {
    for (const bytes of EDGES) expect({ bytes: bytes.toString('hex'), out: cEscape(bytes) }).toEqual({ bytes: bytes.toString('hex'), out: sanitizeBytes(bytes) });
  });

  it('escapes any bytes exactly as udpkit does', () => {
    fc.assert(
      fc.property(payload, (bytes) => {
        expect(cEscape(bytes)).toBe(sanitizeBytes(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('escapes 8,000 random bytes exactly as udpkit does (the benchmark\'s largest payload)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8000, maxLength: 8000 }), (bytes) => {
        expect(cEscape(bytes)).toBe(sanitizeBytes(Buffer.from(bytes)));
      }),
      { numRuns: 20 },
    );
  });
});

/** Sends each payload (hex lines on stdin) from a Python socket bound to `host`; prints its port first. */
const PY_SENDER = `
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((host, 0))
print(s.getsockname()[1], flush=True)
for line in sys.stdin.read().split('\\n'):
    if line.startswith('x'):
        s.sendto(bytes.fromhex(line[1:]), (host, port))
`;

describe('udp-print, the C printing receiver', () => {
  for (const host of ['127.0.0.1', '::1']) {
    it(`prints each datagram from a Python sender on ${host} as udpkit's line, and counts every one`, async () => {
      const printer = startChild(programs.path('udp-print'), ['0']);
      const port = Number((await stderrMatch(printer, /^listening on \*:(\d+)\/udp\n/))[1]);
      const payloads = [...EDGES, Buffer.alloc(3000, 0x41), Buffer.from([...Array(1200).keys()].map((i) => (i * 37) & 0xff))];
      const sender = startChild('python3', ['-c', PY_SENDER, host, String(port)], payloads.map((p) => `x${p.toString('hex')}`).join('\n'));
      expect(await sender.closed).toBe(0);
      const from = Number(sender.stdout.trim());
      await until(() => udpUnread(port) === 0, 10_000, 'udp-print reading its socket');
      printer.child.kill('SIGTERM');
      expect(await printer.closed).toBe(0);
      const expected = payloads.map((p) => textLine(p, 0, p.length, from, host) + '\n').join('');
      expect(printer.stdout).toBe(expected);
      const bytes = payloads.reduce((n, p) => n + p.length, 0);
      // Shown + kernel dropped = sent, with nothing dropped at this pace.
      expect(printer.stderr).toBe(`listening on *:${port}/udp\nreceived ${payloads.length} datagrams, ${bytes} bytes; kernel dropped 0\n`);
    });
  }
});

/** Receives COUNT datagrams (or waits 10 s) on 127.0.0.1; prints their hex and its drop count as JSON. */
const PY_RECEIVER = `
import json, socket, sys
SO_RXQ_OVFL = 40
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
s.bind(('127.0.0.1', 0))
print('bound', s.getsockname()[1], file=sys.stderr, flush=True)
s.settimeout(10)
got, drops = [], 0
try:
    while len(got) < n:
        data, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(4))
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL:
                drops = int.from_bytes(value[:4], 'little')
        got.append(data.hex())
except socket.timeout:
    pass
print(json.dumps({'payloads': got, 'drops': drops}))
`;

/** Blasts `count` datagrams of `size` bytes of `kind` into a Python receiver; the payloads it got. */
async function blastIntoPython(kind: string, seed: number, count: number, size: number): Promise<Buffer[]> {
  const receiver = startChild('python3', ['-c', PY_RECEIVER, String(count)]);
  const port = (await stderrMatch(receiver, /bound (\d+)\n/))[1] as string;
  const blast = startChild(programs.path('udp-blast'), ['-k', kind, '-s', String(seed), '127.0.0.1', port, String(count), String(size)]);
  expect(await blast.closed).toBe(0);
  expect(blast.stdout).toMatch(new RegExp(`^sent ${count} in [\\d.]+ seconds\\n$`));
  expect(await receiver.closed).toBe(0);
  const { payloads, drops } = JSON.parse(receiver.stdout) as { payloads: string[]; drops: number };
  // Received + kernel dropped = sent; with a 4 MB buffer nothing is dropped.
  expect({ received: payloads.length, drops }).toEqual({ received: count, drops: 0 });
  return payloads.map((h) => Buffer.from(h, 'hex'));
}

describe('udp-blast payload kinds', () => {
  it('-k text: the datagram number in 16 hex digits, then letters', async () => {
    const got = await blastIntoPython('text', 1, 200, 64);
    got.forEach((p, i) => expect(p.toString('latin1')).toBe(i.toString(16).padStart(16, '0') + 'a'.repeat(48)));
  });

  it('-k seq: the number as 8 big-endian bytes, then printable text', async () => {
    const got = await blastIntoPython('seq', 1, 300, 1200);
    got.forEach((p, i) => {
      expect(p).toHaveLength(1200);
      expect(p.readBigUInt64BE(0)).toBe(BigInt(i));
      expect(/^[\x20-\x7e]*$/.test(p.subarray(8).toString('latin1'))).toBe(true);
    });
  });

  it('-k random: a different payload every datagram, the same for the same seed, never a udpkit frame', async () => {
    const a = await blastIntoPython('random', 7, 300, 64);
    const b = await blastIntoPython('random', 7, 300, 64);
    const c = await blastIntoPython('random', 8, 300, 64);
    expect(b).toEqual(a);
    expect(new Set(a.map((p) => p.toString('hex'))).size).toBe(300);
    expect(a.filter((p, i) => p.equals(c[i] as Buffer))).toHaveLength(0);
    expect(a.filter((p) => p[0] === 0x55 && p[1] === 0x4b)).toHaveLength(0);
    // Seed 125 would start datagram 122 with "UK" (worked out from the generator): the first
    // byte is changed, and only it.
    const guarded = (await blastIntoPython('random', 125, 123, 64))[122] as Buffer;
    expect([guarded[0], guarded[1]]).toEqual([0x54, 0x4b]);
    // Random, not text: about half the bytes have the high bit set.
    const high = a.reduce((n, p) => n + p.filter((x) => x >= 0x80).length, 0);
    expect(high / (300 * 64)).toBeGreaterThan(0.4);
    expect(high / (300 * 64)).toBeLessThan(0.6);
  });
});
