/** End to end: the built binary, real sockets on loopback, exact output and exit codes. */
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, start, waitForLines, killedAfterEach } from '../helpers/cli.js';
import { closedUdpPort } from '../helpers/closed-port.js';

const line = (text: string, port: number, ip = '127.0.0.1'): string => `received message: ${text} from PORT ${port} on ${ip}`;

/** The sender's source port, read from its summary? No: from what the listener printed. */
const portOf = (printed: string): number => Number(/from PORT (\d+) on/.exec(printed)?.[1]);

const { track, listener } = killedAfterEach();

describe('listen + send', () => {
  it('prints the textbook line for each datagram and stops after "bye" (printed first), exit 0', async () => {
    const l = await listener();
    expect(l.stderr).toMatch(new RegExp(`^listening on \\*:${l.port}/udp \\(IPv4 and IPv6\\); stops on "bye"\\n$`));
    const a = await runCli(['send', `127.0.0.1:${l.port}`, 'hello', 'world']);
    expect(a).toMatchObject({ code: 0, stdout: '' });
    expect(a.stderr).toBe(`sent 1 datagram (11 bytes) to 127.0.0.1:${l.port}/udp\n`);
    await waitForLines(l, 1);
    expect((await runCli(['send', '127.0.0.1', '-p', String(l.port), ' ByE ', '-q'])).code).toBe(0);
    const done = await l.done;
    expect(done.code).toBe(0);
    const lines = done.stdout.split('\n');
    expect(lines).toEqual([line('hello world', portOf(lines[0]!)), line(' ByE ', portOf(lines[1]!)), '']);
  });

  it('round-trips Chinese text and shows IPv4 senders as plain IPv4 on the dual-stack socket', async () => {
    const l = await listener(['-n', '1']);
    await runCli(['send', '127.0.0.1', '-p', String(l.port), '你好，世界 🌏']);
    const done = await l.done;
    expect(done.stdout).toBe(line('你好，世界 🌏', portOf(done.stdout)) + '\n');
    expect(done.stdout).not.toContain('::ffff:');
  });

  it('receives over IPv6 from [::1]:PORT', async () => {
    const l = await listener(['-n', '1']);
    const s = await runCli(['send', `[::1]:${l.port}`, 'v6']);
    expect(s.stderr).toBe(`sent 1 datagram (2 bytes) to [::1]:${l.port}/udp\n`);
    const done = await l.done;
    expect(done.stdout).toBe(line('v6', portOf(done.stdout), '::1') + '\n');
  });

  it('sends to localhost by name', async () => {
    const l = await listener(['-n', '1', '-4']);
    expect(l.stderr).toContain(`listening on 0.0.0.0:${l.port}/udp (IPv4)`);
    await runCli(['send', 'localhost', '-p', String(l.port), 'by name']);
    expect((await l.done).stdout).toMatch(/^received message: by name from PORT \d+ on 127\.0\.0\.1\n$/);
  });

  it('serves many senders at once', async () => {
    const l = await listener(['-n', '60']);
    const senders = [1, 2, 3].map((k) =>
      runCli(['send', `127.0.0.1:${l.port}`, '-q'], { input: Array.from({ length: 20 }, (_, i) => `s${k}-${i}`).join('\n') + '\n' }),
    );
    for (const s of await Promise.all(senders)) expect(s.code).toBe(0);
    const done = await l.done;
    const texts = done.stdout.trim().split('\n').map((x) => /^received message: (\S+) from/.exec(x)?.[1]);
    expect(texts).toHaveLength(60);
    for (const k of [1, 2, 3]) {
      // One sender's datagrams keep their order on loopback.
      expect(texts.filter((t) => t?.startsWith(`s${k}-`))).toEqual(Array.from({ length: 20 }, (_, i) => `s${k}-${i}`));
    }
  });

  it('sends stdin one datagram per line, in order, none lost by the sender (20,000 lines)', async () => {
    const n = 20_000;
    // --timeout: on a busy machine the listener's receive buffer may overflow; the kernel then
    // drops and counts, and the listener stops short of -n.
    const l = await listener(['-n', String(n), '--timeout', '5']);
    const input = Array.from({ length: n }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    const s = await runCli(['send', `127.0.0.1:${l.port}`], { input });
    expect(s.code).toBe(0);
    expect(s.stderr).toMatch(new RegExp(`^sent 20000 datagrams \\(\\d+ bytes\\) to 127\\.0\\.0\\.1:${l.port}/udp\\n$`));
    const done = await l.done;
    const got = done.stdout.trim().split('\n').map((x) => /^received message: (.*) from PORT/.exec(x)?.[1]);
    const [, received, dropped] = /received (\d+) datagrams, \d+ bytes; kernel dropped (\d+)/.exec(done.stderr)!.map(Number);
    // Sent = shown + dropped by the kernel (and counted).
    expect(got).toHaveLength(received!);
    expect(received! + dropped!).toBe(n);
    if (dropped === 0) expect(got).toEqual(Array.from({ length: n }, (_, i) => `line ${i + 1}`));
    else {
      // What arrived came in the order sent.
      const numbers = got.map((t) => Number(t?.slice(5)));
      expect(numbers.every((x, i) => i === 0 || x > numbers[i - 1]!)).toBe(true);
      console.warn(`20,000 lines: the kernel dropped ${dropped} at the receiver on this busy machine`);
    }
  });

  it('keeps binary stdin intact with --raw and shows it as hex in --json', async () => {
    const l = await listener(['-n', '1', '--json']);
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0a, 0x0d, 0x1b, 0x80]);
    expect((await runCli(['send', `127.0.0.1:${l.port}`, '--raw', '-q'], { input: bytes })).code).toBe(0);
    const obj = JSON.parse((await l.done).stdout);
    expect(Object.keys(obj)).toEqual(['time', 'from', 'size', 'hex']);
    expect(obj).toMatchObject({ from: { address: '127.0.0.1', family: 'IPv4' }, size: 9, hex: '000102fffe0a0d1b80' });
    expect(new Date(obj.time).toISOString()).toBe(obj.time);
  });

  it('--json gives text for UTF-8 payloads', async () => {
    const l = await listener(['-n', '1', '--json']);
    await runCli(['send', `127.0.0.1:${l.port}`, 'héllo\tthere']);
    const obj = JSON.parse((await l.done).stdout);
    expect(obj).toEqual({ time: obj.time, from: { address: '127.0.0.1', port: obj.from.port, family: 'IPv4' }, size: 12, text: 'héllo\tthere' });
  });

  it('sends --hex bytes and --file contents, and prints a hex dump with --hex', async () => {
    const l = await listener(['-n', '2', '--hex']);
    await runCli(['send', `127.0.0.1:${l.port}`, '--hex', '68 69 00 ff']);
    const dir = mkdtempSync(join(tmpdir(), 'udpkit-'));
    writeFileSync(join(dir, 'm.txt'), 'from a file\n');
    await runCli(['send', `127.0.0.1:${l.port}`, '--file', join(dir, 'm.txt')]);
    const out = (await l.done).stdout.split('\n');
    expect(out[0]).toBe(line('hi\\x00\\xff', portOf(out[0]!)));
    expect(out[1]).toBe('  0000  68 69 00 ff                                       |hi..|');
    expect(out[2]).toBe(line('from a file\\n', portOf(out[2]!)));
    expect(out[3]).toBe('  0000  66 72 6f 6d 20 61 20 66  69 6c 65 0a              |from a file.|');
  });

  it('repeats with --count and --interval', async () => {
    const l = await listener(['-n', '3']);
    const s = await runCli(['send', `127.0.0.1:${l.port}`, 'again', '--count', '3', '--interval', '20']);
    expect(s.stderr).toBe(`sent 3 datagrams (15 bytes) to 127.0.0.1:${l.port}/udp\n`);
    expect((await l.done).stdout.match(/received message: again /g)).toHaveLength(3);
  });

  it('--echo answers and send --wait-reply prints the answer like listen does', async () => {
    const l = await listener(['--echo', '-n', '1']);
    const s = await runCli(['send', `127.0.0.1:${l.port}`, 'ping', '--wait-reply', '3']);
    expect(s.code).toBe(0);
    expect(s.stdout).toBe(line('ping', l.port) + '\n');
    await l.done;
  });

  it('--wait-reply exits 1 with one line when nothing answers', async () => {
    const l = await listener(['-n', '1']);
    const s = await runCli(['send', `127.0.0.1:${l.port}`, 'ping', '-w', '0.3', '-q']);
    expect(s).toMatchObject({ code: 1, stdout: '', stderr: `udpkit: no reply from 127.0.0.1:${l.port}/udp within 0.3 s\n` });
  });

  it('honours --stop-word and --no-stop-word', async () => {
    const custom = await listener(['--stop-word', 'quit']);
    await runCli(['send', `127.0.0.1:${custom.port}`, 'bye']);
    await waitForLines(custom, 1);
    await runCli(['send', `127.0.0.1:${custom.port}`, 'QUIT']);
    expect((await custom.done).code).toBe(0);
    expect(custom.stdout.split('\n')).toHaveLength(3);

    const never = await listener(['--no-stop-word', '-n', '2']);
    expect(never.stderr).not.toContain('stops on');
    await runCli(['send', `127.0.0.1:${never.port}`, 'bye']);
    await waitForLines(never, 1);
    expect(never.child.exitCode).toBe(null);
    await runCli(['send', `127.0.0.1:${never.port}`, 'bye']);
    expect((await never.done).code).toBe(0);
  });

  it('--timeout ends an idle listener: exit 0, or 1 when --count was not reached', async () => {
    const idle = await listener(['--timeout', '0.2']);
    expect(await idle.done).toMatchObject({ code: 0, stdout: '' });
    // Long enough for the one datagram to arrive first on a busy machine (a second udpkit
    // process may take longer than 0.2 s to start), so it is sent from here.
    const short = await listener(['--timeout', '1.5', '-n', '2']);
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => s.send('one', short.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    s.close();
    const r = await short.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\nreceived 1 datagram, 3 bytes; kernel dropped 0\nudpkit: no datagram for 1\.5 s; received 1 of 2\n$/);
  });

  it('ends cleanly on SIGTERM and SIGINT with exit 0', async () => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const l = await listener();
      await runCli(['send', `127.0.0.1:${l.port}`, 'before']);
      await waitForLines(l, 1);
      l.child.kill(sig);
      const r = await l.done;
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(line('before', portOf(r.stdout)) + '\n');
    }
  });

  it('a send to a port where nobody listens still exits 0, as UDP is best effort', async () => {
    const closed = await closedUdpPort();
    try {
      const s = await runCli(['send', `127.0.0.1:${closed.port}`, 'anyone?', '-c', '3']);
      expect(s.code).toBe(0);
      expect(s.stderr).toContain(`sent 3 datagrams (21 bytes) to 127.0.0.1:${closed.port}/udp\n`);
    } finally {
      await closed.close();
    }
  });
});

describe('nobody listening: "port unreachable"', () => {
  for (const address of ['127.0.0.1', '::1'] as const) {
    it(`a one-shot send to ${address} says so in a note, and still exits 0`, async () => {
      const closed = await closedUdpPort(address);
      try {
        const where = address === '::1' ? `[::1]:${closed.port}` : `127.0.0.1:${closed.port}`;
        const s = await runCli(['send', where, 'anyone?']);
        expect(s).toMatchObject({ code: 0, stdout: '' });
        expect(s.stderr).toBe(
          `sent 1 datagram (7 bytes) to ${where}/udp\n` +
            `note: ${where} answered "port unreachable": nothing seems to listen there (UDP does not guarantee delivery)\n`,
        );
      } finally {
        await closed.close();
      }
    });
  }

  it('--wait-reply ends at once with one line, exit 1 (it would otherwise wait 60 s)', async () => {
    const closed = await closedUdpPort();
    try {
      const s = await runCli(['send', `127.0.0.1:${closed.port}`, 'ping', '--wait-reply', '60']);
      expect(s).toMatchObject({ code: 1, stdout: '' });
      expect(s.stderr).toBe(`sent 1 datagram (4 bytes) to 127.0.0.1:${closed.port}/udp\nudpkit: no listener at 127.0.0.1:${closed.port}/udp (port unreachable)\n`);
      const quiet = await runCli(['send', `127.0.0.1:${closed.port}`, 'ping', '-w', '60', '-q', '-c', '3']);
      expect(quiet).toMatchObject({ code: 1, stderr: `udpkit: no listener at 127.0.0.1:${closed.port}/udp (port unreachable)\n` });
    } finally {
      await closed.close();
    }
  });
});

describe('usage and runtime errors: one line, the right exit code, no stack trace', () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['listen', '-p', '70000'], 2, /^udpkit: --port must be an integer from 0 to 65535, got "70000"\nhint: see 'udpkit listen --help'\n$/],
    [['listen', '--port', 'abc'], 2, /^udpkit: --port must be an integer from 0 to 65535, got "abc"\n/],
    [['listen', '--bogus'], 2, /^udpkit: unknown option '--bogus'\n/],
    [['listen', '--bind', 'not-an-ip'], 2, /^udpkit: --bind takes an IP address of this machine, got "not-an-ip"\n/],
    [['send'], 2, /^udpkit: missing required argument 'host'\n/],
    [['send', '127.0.0.1', '-p', '0', 'x'], 2, /^udpkit: --port must be an integer from 1 to 65535, got "0"\n/],
    [['send', '1.2.3', 'x'], 2, /^udpkit: not a host name or IP address: "1\.2\.3"\n/],
    [['send', '127.0.0.1:99999', 'x'], 2, /^udpkit: port must be an integer from 1 to 65535, got "99999"\n/],
    [['send', '127.0.0.1', '--hex', 'abc'], 2, /^udpkit: not hex bytes \(pairs of digits 0-9, a-f\): "abc"\n/],
    [['send', '127.0.0.1', 'x', '--hex', 'ab'], 2, /^udpkit: give only one of MESSAGE, --hex\n/],
    [['send', '127.0.0.1', '--file', '/nonexistent/file'], 1, /^udpkit: cannot read file "\/nonexistent\/file": no such file or directory\n$/],
    [['frobnicate'], 2, /^udpkit: unknown command 'frobnicate'\n/],
  ];
  it.each(cases)('udpkit %j exits %i', async (args, code, stderr) => {
    const r = await runCli(args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(stderr);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('refuses a message over the UDP limit, naming the limit', async () => {
    const big = 'a'.repeat(65_508);
    const r = await runCli(['send', '127.0.0.1:9', big]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^udpkit: message is 65508 bytes; one UDP datagram over IPv4 carries at most 65507\n/);
    const v6 = await runCli(['send', '[::1]:9', '--raw'], { input: Buffer.alloc(65_528) });
    expect(v6.code).toBe(2);
    expect(v6.stderr).toMatch(/carries at most 65527\n/);
  });

  it('names the line of stdin that is too large', async () => {
    const r = await runCli(['send', '127.0.0.1:9', '-q'], { input: `ok\n${'b'.repeat(70_000)}\n` });
    expect(r.code).toBe(2);
    // The size is exact when the whole line came in one read; a read that stops at the limit
    // only knows it is larger (the pipe decides how the 70,003 bytes are cut).
    expect(r.stderr).toMatch(/^udpkit: line 2: message is (70000|more than 65507) bytes; one UDP datagram over IPv4 carries at most 65507\n/);
  });

  it('reports a port already in use as a runtime error (exit 1)', async () => {
    const l = await listener();
    const r = await runCli(['listen', '-p', String(l.port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`udpkit: cannot bind [::]:${l.port}/udp: port ${l.port}/udp is already in use\n`);
  });

  it('prints usage and exits 2 with no command; --version and --help exit 0', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: udpkit');
    const v = await runCli(['--version']);
    expect(v).toMatchObject({ code: 0, stdout: expect.stringMatching(/^0\.1\.0\nnative: (yes|no \(.+\))\n$/) });
    const h = await runCli(['send', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: udpkit send [options] <host> [message...]');
  });
});
