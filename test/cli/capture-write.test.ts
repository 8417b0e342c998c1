/**
 * `udpkit listen --pcap`: whatever udpkit writes, tcpdump (which nobody here wrote) reads, with
 * the packets Python's socket module sent: same count, addresses, ports, lengths and payload
 * bytes, checksums tcpdump calls ok, and a complete file on every way out.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, killedAfterEach, runCli, start, waitForLines, waitForStderr, type Running } from '../helpers/cli.js';
import { parseSummary } from '../helpers/listen-accounting.js';
import { pythonSendFrom } from '../helpers/python-send-any.js';
import { tcpdumpRead, type DumpedPacket } from '../helpers/tcpdump-read.js';

const { listener } = killedAfterEach();

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmpFile = (name: string): string => {
  const dir = mkdtempSync(join(tmpdir(), 'udpkit-pcap-'));
  dirs.push(dir);
  return join(dir, name);
};

const TEXT = ['hello', 'a second line, with spaces'].map((s) => Buffer.from(s));
// Every byte value, an odd length, and an empty datagram.
const BINARY = [Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.alloc(1201, 0xa5), Buffer.alloc(0)];

interface Sent {
  readonly from: string;
  readonly port: number;
  readonly payload: Buffer;
}

async function send(from: string, to: string, port: number, payloads: readonly Buffer[]): Promise<Sent[]> {
  const r = await pythonSendFrom(from, to, port, payloads);
  expect(r.sent).toBe(payloads.length);
  return payloads.map((payload) => ({ from, port: r.port, payload }));
}

/**
 * Checks the capture against what was sent: every datagram shown is in the file, in order, as
 * sent; shown + kernel dropped = sent; each time lies between `t0` and `t1` (ms).
 */
async function checkCapture(capture: Buffer, stderr: string, sent: readonly Sent[], to: { port: number; v4: string; v6: string }, t0: number, t1: number): Promise<DumpedPacket[]> {
  const summary = parseSummary(stderr);
  expect(summary.received + (summary.refused ?? 0) + summary.kernelDropped).toBe(sent.length);
  expect(summary.kernelDropped).toBe(0);
  const { packets } = await tcpdumpRead(capture);
  expect(packets.length).toBe(summary.received);
  packets.forEach((p, i) => {
    const s = sent[i]!;
    const v4 = !s.from.includes(':');
    expect([p.src, p.srcPort, p.dst, p.dstPort]).toEqual([s.from, s.port, v4 ? to.v4 : to.v6, to.port]);
    expect(p.payload.equals(s.payload)).toBe(true);
    expect(p.text).toContain(`UDP, length ${s.payload.length}`);
    // -vv: tcpdump verifies the UDP checksum (and, for IPv4, the header checksum).
    expect(p.text).toContain('[udp sum ok]');
    expect(p.text).not.toMatch(/bad|truncated|malformed/i);
    if (v4) expect(p.text).toContain(`ttl 64, id 0, offset 0, flags [none], proto UDP (17), length ${28 + s.payload.length}`);
    else expect(p.text).toContain(`hlim 64, next-header UDP (17) payload length: ${8 + s.payload.length}`);
    expect(p.time).toMatch(/^\d+\.\d{6}$/);
    expect(Number(p.time) * 1000).toBeGreaterThanOrEqual(Math.floor(t0) - 1);
    expect(Number(p.time) * 1000).toBeLessThanOrEqual(t1 + 1);
  });
  return packets;
}

const done = async (r: Running): Promise<{ code: number | null; stderr: string }> => {
  const res = await r.done;
  return { code: res.code, stderr: res.stderr };
};

describe('listen --pcap FILE: tcpdump reads what udpkit wrote', () => {
  it.each(['pcapng', 'pcap'])('%s: IPv4 and IPv6 senders, text and binary payloads, ended by "bye"', async (format) => {
    const file = tmpFile(`in.${format}`);
    const t0 = Date.now();
    const l = await listener(['--pcap', file, ...(format === 'pcap' ? ['--pcap-format', 'pcap'] : [])]);
    const sent = [
      ...(await send('127.0.0.2', '127.0.0.1', l.port, [...TEXT, ...BINARY])),
      ...(await send('::1', '::1', l.port, [...BINARY, ...TEXT])),
    ];
    sent.push(...(await send('127.0.0.3', '127.0.0.1', l.port, [Buffer.from('bye')])));
    const { code, stderr } = await done(l);
    expect(code).toBe(0);
    const capture = readFileSync(file);
    // The header says which format: pcapng's section header block, or pcap's microsecond magic.
    expect(capture.readUInt32LE(0)).toBe(format === 'pcap' ? 0xa1b2c3d4 : 0x0a0d0d0a);
    // A dual-stack wildcard bind: the destination is the wildcard of each sender's family.
    await checkCapture(capture, stderr, sent, { port: l.port, v4: '0.0.0.0', v6: '::' }, t0, Date.now());
  });

  it('shows the bound address as the destination of a listener bound to one address', async () => {
    const file = tmpFile('in.pcapng');
    const t0 = Date.now();
    const l = await listener(['--pcap', file, '--bind', '::1', '-n', '3']);
    const sent = await send('::1', '::1', l.port, [Buffer.from('one'), Buffer.from([0, 1, 2]), Buffer.from('three')]);
    const { code, stderr } = await done(l);
    expect(code).toBe(0);
    await checkCapture(readFileSync(file), stderr, sent, { port: l.port, v4: 'n/a', v6: '::1' }, t0, Date.now());
  });
});

describe('listen --pcap FILE: packet times', () => {
  it('are stamped to the microsecond, in order (20 datagrams 1.7 ms apart: not whole milliseconds)', async () => {
    const file = tmpFile('times.pcapng');
    const l = await listener(['--bind', '127.0.0.1', '--pcap', file, '-n', '20']);
    // Python sends each 1.7 ms after the one before, spinning on its clock.
    const script = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t = time.perf_counter()
for i in range(20):
    while time.perf_counter() < t + i * 0.0017: pass
    s.sendto(b'tick %d' % i, ('127.0.0.1', int(sys.argv[1])))
`;
    const py = spawn('python3', ['-c', script, String(l.port)], { stdio: 'ignore' });
    expect(await new Promise((resolve) => py.once('close', resolve))).toBe(0);
    const { code } = await done(l);
    expect(code).toBe(0);
    const { packets } = await tcpdumpRead(readFileSync(file));
    expect(packets.map((p) => p.payload.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `tick ${i}`));
    const us = packets.map((p) => Number(p.time.replace('.', '')));
    for (let i = 1; i < us.length; i++) expect(us[i]).toBeGreaterThanOrEqual(us[i - 1]!);
    // A clock read in whole milliseconds would give times that are all multiples of 1000 µs.
    expect(us.filter((t) => t % 1000 !== 0).length).toBeGreaterThan(10);
  });
});

describe('listen --pcap FILE: complete on every way out', () => {
  const ways: ReadonlyArray<[string, string[], (r: Running) => void]> = [
    ['SIGTERM', ['--no-stop-word'], (r) => r.child.kill('SIGTERM')],
    ['SIGINT (Ctrl-C)', ['--no-stop-word'], (r) => r.child.kill('SIGINT')],
    ['--count', ['-n', '4'], () => undefined],
    ['--timeout', ['--no-stop-word', '--timeout', '3'], () => undefined],
  ];
  it.each(ways)('%s', async (_name, args, end) => {
    for (const format of ['pcapng', 'pcap']) {
      const file = tmpFile('way.cap');
      const t0 = Date.now();
      const l = await listener(['--bind', '127.0.0.1', '--pcap', file, '--pcap-format', format, ...args]);
      const sent = await send('127.0.0.5', '127.0.0.1', l.port, [Buffer.from('a'), BINARY[0]!, Buffer.from('c'), BINARY[1]!]);
      await waitForLines(l, 4);
      end(l);
      const { code, stderr } = await done(l);
      expect(code).toBe(0);
      await checkCapture(readFileSync(file), stderr, sent, { port: l.port, v4: '127.0.0.1', v6: 'n/a' }, t0, Date.now());
    }
  });
});

describe('listen --pcap -', () => {
  it('writes the capture to stdout, piped into tcpdump -r -, and the text lines to stderr', async () => {
    const child = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" listen -p 0 --bind 127.0.0.1 --pcap - | tcpdump -r - -nn -tt -x`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const r: Running = { child, stdout: '', stderr: '', done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout: r.stdout, stderr: r.stderr }))) };
    child.stdout.setEncoding('utf8').on('data', (s: string) => (r.stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (r.stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const port = Number((await waitForStderr(r, /listening on .*?:(\d+)\/udp/))[1]);
    const sent = await send('127.0.0.6', '127.0.0.1', port, [Buffer.from('over a pipe'), Buffer.from([0xff, 0, 0x0a]), Buffer.from('bye')]);
    const res = await r.done;
    clearTimeout(timer);
    expect(res.code).toBe(0);
    // The text lines went to stderr, beside the summary; stdout is tcpdump's alone.
    expect(res.stderr).toContain(`received message: over a pipe from PORT ${sent[0]!.port} on 127.0.0.6\n`);
    expect(parseSummary(res.stderr).received).toBe(3);
    const heads = res.stdout.split('\n').filter((line) => /^\d/.test(line));
    expect(heads.map((h) => h.replace(/^\S+ /, ''))).toEqual(sent.map((s) => `IP 127.0.0.6.${s.port} > 127.0.0.1.${port}: UDP, length ${s.payload.length}`));
  });
});

describe('listen --pcap with --key', () => {
  it('writes the opened plaintext of sealed datagrams; what does not open is refused and not written', async () => {
    const file = tmpFile('sealed.pcapng');
    const t0 = Date.now();
    const l = await listener(['--bind', '127.0.0.1', '--key', 'capture-test-key', '--pcap', file, '-n', '2']);
    const plain = await send('127.0.0.9', '127.0.0.1', l.port, [Buffer.from('not sealed')]);
    for (const text of ['sealed one', 'sealed two']) {
      expect((await runCli(['send', '--key', 'capture-test-key', `127.0.0.1:${l.port}`, text, '-q'])).code).toBe(0);
    }
    const { code, stderr } = await done(l);
    expect(code).toBe(0);
    expect(parseSummary(stderr).refused).toBe(plain.length);
    const { packets } = await tcpdumpRead(readFileSync(file));
    expect(packets.map((p) => [p.src, p.dst, p.dstPort, p.payload.toString()])).toEqual([
      ['127.0.0.1', '127.0.0.1', l.port, 'sealed one'],
      ['127.0.0.1', '127.0.0.1', l.port, 'sealed two'],
    ]);
    for (const p of packets) {
      expect(p.text).toContain('[udp sum ok]');
      expect(Number(p.time) * 1000).toBeGreaterThanOrEqual(Math.floor(t0) - 1);
    }
  });
});

describe('listen --pcap: usage and failures', () => {
  it('refuses --pcap with --tcp (exit 2, one line)', async () => {
    const r = await runCli(['listen', '--tcp', '-p', '0', '--pcap', tmpFile('x.pcapng')]);
    expect([r.code, r.stderr]).toEqual([2, "udpkit: --pcap does not apply to --tcp (captures are of UDP datagrams)\nhint: see 'udpkit listen --help'\n"]);
  });

  it('refuses --pcap-format without --pcap, and an unknown format (exit 2)', async () => {
    const a = await runCli(['listen', '-p', '0', '--pcap-format', 'pcap']);
    expect([a.code, a.stderr]).toEqual([2, "udpkit: --pcap-format goes with --pcap FILE\nhint: see 'udpkit listen --help'\n"]);
    const b = await runCli(['listen', '-p', '0', '--pcap', tmpFile('x'), '--pcap-format', 'erf']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--pcap-format/);
  });

  it('fails at once, with one line naming the file, when the file cannot be written (exit 1)', async () => {
    const r = await runCli(['listen', '-p', '0', '--pcap', '/dev/full']);
    expect([r.code, r.stderr]).toEqual([1, 'udpkit: cannot write capture file "/dev/full": no space left on device\n']);
  });

  it('--pcap - into a stdout that fails: one line, exit 1', async () => {
    const fd = openSync('/dev/full', 'w');
    const r = start(['listen', '-p', '0', '--bind', '127.0.0.1', '--pcap', '-', '--no-stop-word'], { stdoutFd: fd });
    closeSync(fd);
    const res = await r.done;
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^listening on 127\.0\.0\.1:\d+\/udp/);
    expect(res.stderr.trim().split('\n').at(-1)).toBe('udpkit: cannot write to standard output: no space left on device');
  });

  it('fails at once, with one line naming the file, when the file cannot be created (exit 1)', async () => {
    const r = await runCli(['listen', '-p', '0', '--pcap', '/nonexistent-dir/in.pcapng']);
    expect([r.code, r.stderr]).toEqual([1, 'udpkit: cannot open capture file "/nonexistent-dir/in.pcapng": no such file or directory\n']);
  });
});
