/**
 * A listener is an open port: these tests send it what a hostile or careless sender would, on
 * loopback, and check the exact output, the accounting and the exit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, runCli, waitForLines, killedAfterEach } from '../helpers/cli.js';
import { udpUnread } from '../helpers/udp-queues.js';
import { until } from '../helpers/until.js';

const BLAST = fileURLToPath(new URL('../fixtures/blast.mjs', import.meta.url));
const SUMMARY = /^received (\d+) datagrams?, (\d+) bytes?; kernel dropped (\d+)(; refused (\d+))?$/m;

const { track, listener } = killedAfterEach();

/** Sends datagrams from one socket bound to `from`, in order, each handed to the kernel before the next. */
async function sendAll(port: number, payloads: readonly Buffer[], from = '127.0.0.1'): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, from, r));
  for (const p of payloads) await new Promise<void>((r, j) => s.send(p, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  await new Promise<void>((r) => s.close(r));
}

/** Runs the load generator; resolves with how many datagrams the kernel accepted. */
function blast(port: number, count: number, size: number, final: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BLAST, '127.0.0.1', String(port), String(count), String(size), final]);
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`blast exited ${code}`))));
  });
}

describe('safe terminal output', () => {
  it('shows escapes, newlines and invalid UTF-8 escaped, one line per datagram, and keeps Chinese and emoji', async () => {
    const l = await listener(['-n', '4']);
    await sendAll(l.port, [
      Buffer.from('\x1b[2J\x1b]0;pwned\x07clear?'),
      Buffer.from('two\nlines\r\n'),
      Buffer.from([0x68, 0x69, 0xff, 0xc3, 0x28, 0x80, 0xc2, 0x9b]),
      Buffer.from('中文 🎉 tab\there \\ back'),
    ]);
    const out = (await l.done).stdout;
    expect(out.split('\n')).toEqual([
      expect.stringMatching(/^received message: \\x1b\[2J\\x1b\]0;pwned\\x07clear\? from PORT \d+ on 127\.0\.0\.1$/),
      expect.stringMatching(/^received message: two\\nlines\\r\\n from PORT \d+ on 127\.0\.0\.1$/),
      expect.stringMatching(/^received message: hi\\xff\\xc3\(\\x80\\u009b from PORT \d+ on 127\.0\.0\.1$/),
      expect.stringMatching(/^received message: 中文 🎉 tab\there \\\\ back from PORT \d+ on 127\.0\.0\.1$/),
      '',
    ]);
    expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/);
  });

  it('survives a burst of 3,000 random datagrams and still stops on bye, text and JSON', async () => {
    for (const mode of [[], ['--json']]) {
      const l = await listener(mode);
      const junk = Array.from({ length: 3000 }, (_, i) => randomBytes(1 + (i % 700)));
      // A random datagram that happens to say "bye" would end the run early; none of 1..700 random bytes will.
      await sendAll(l.port, [...junk, Buffer.from('bye')]);
      const done = await l.done;
      expect(done.code).toBe(0);
      const lines = done.stdout.split('\n').slice(0, -1);
      const [, n, , dropped] = SUMMARY.exec(done.stderr)!.map(Number);
      expect(n! + dropped!).toBe(3001);
      expect(lines).toHaveLength(n!);
      if (mode.length === 0) {
        for (const x of lines) expect(x).toMatch(/^received message: [^\x00-\x08\x0a-\x1f\x7f\x80-\x9f]* from PORT \d+ on 127\.0\.0\.1$/);
      } else {
        const sizes = lines.map((x) => (JSON.parse(x) as { size: number }).size);
        expect(sizes.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
      }
    }
  });
});

describe('accounting and bounded memory', () => {
  it('under a 300,000-datagram flood: stays alive, N + kernel drops = sent, and stops on bye', { timeout: 90_000 }, async () => {
    const l = await listener([]);
    const sent = await blast(l.port, 300_000, 512, '');
    expect(sent).toBe(300_000);
    // Once the listener has read everything that reached its socket, a bye finds room in the
    // buffer: it cannot be dropped, and nothing else arrives after it.
    await until(() => udpUnread(l.port) === 0, 60_000, `listener on ${l.port} reads its queue`);
    await sendAll(l.port, [Buffer.from('bye')]);
    const done = await l.done;
    expect(done.code).toBe(0);
    const m = SUMMARY.exec(done.stderr)!;
    // Nothing came after the bye, so nothing was read and refused after the stop.
    expect(m[4]).toBeUndefined();
    const [, n, bytes, dropped] = m.map(Number);
    expect(n! + dropped!).toBe(300_000 + 1);
    // Every datagram received was a 512-byte one but the last, the bye that stopped it.
    expect(bytes).toBe((n! - 1) * 512 + 3);
    expect(done.stdout.split('\n').length - 1).toBe(n);
  });

  it('prints the summary line on every exit', async () => {
    const l = await listener(['-n', '2']);
    await sendAll(l.port, [Buffer.from('a'), Buffer.from('bcd')]);
    const done = await l.done;
    expect(done.stderr.split('\n').at(-2)).toBe('received 2 datagrams, 4 bytes; kernel dropped 0');
  });
});

describe('--log', () => {
  it('SIGTERM flushes the log: 2,000 of 2,000 messages are in the file, as JSON lines', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'udpkit-log-')), 'in.jsonl');
    const l = await listener(['--log', file]);
    const input = Array.from({ length: 2000 }, (_, i) => `message ${i}`).join('\n') + '\n';
    expect((await runCli(['send', `127.0.0.1:${l.port}`, '-q'], { input })).code).toBe(0);
    await waitForLines(l, 2000);
    l.child.kill('SIGTERM');
    const done = await l.done;
    expect(done.code).toBe(0);
    const logged = readFileSync(file, 'utf8').split('\n').slice(0, -1).map((x) => JSON.parse(x) as { text: string; from: { address: string } });
    expect(logged.map((x) => x.text)).toEqual(Array.from({ length: 2000 }, (_, i) => `message ${i}`));
    expect(logged[0]!.from.address).toBe('127.0.0.1');
  });

  it('appends to an existing log and refuses a path it cannot open (exit 1, one line)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'udpkit-log-')), 'a.jsonl');
    for (const text of ['first', 'second']) {
      const l = await listener(['--log', file, '-n', '1']);
      await sendAll(l.port, [Buffer.from(text)]);
      await l.done;
    }
    expect(readFileSync(file, 'utf8').split('\n').slice(0, -1).map((x) => JSON.parse(x).text)).toEqual(['first', 'second']);
    const bad = await runCli(['listen', '-p', '0', '--log', '/nonexistent/dir/x.log']);
    expect(bad).toMatchObject({ code: 1, stderr: 'udpkit: cannot open log file "/nonexistent/dir/x.log": no such file or directory\n' });
  });
});

describe('--allow', () => {
  it('shows only allowed sources and counts the rest as refused', async () => {
    const l = await listener(['--allow', '127.0.0.2/32,fe80::/10', '-n', '2']);
    await sendAll(l.port, [Buffer.from('from .1 (refused)'), Buffer.from('bye')], '127.0.0.1');
    await sendAll(l.port, [Buffer.from('from .2'), Buffer.from('also .2')], '127.0.0.2');
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^received message: from \.2 from PORT \d+ on 127\.0\.0\.2\nreceived message: also \.2 from PORT \d+ on 127\.0\.0\.2\n$/);
    expect(done.stderr.split('\n').at(-2)).toBe('received 2 datagrams, 14 bytes; kernel dropped 0; refused 2 (source 2)');
  });

  it('udpkit send --source picks the source address', async () => {
    const l = await listener(['--allow', '127.0.0.3', '-n', '1']);
    await runCli(['send', `127.0.0.1:${l.port}`, 'not me']);
    await runCli(['send', `127.0.0.1:${l.port}`, 'me', '--source', '127.0.0.3']);
    expect((await l.done).stdout).toMatch(/^received message: me from PORT \d+ on 127\.0\.0\.3\n$/);
  });

  it('refuses a bad CIDR as a usage error', async () => {
    const r = await runCli(['listen', '--allow', '10.0.0.0/33']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^udpkit: not an address or CIDR: "10\.0\.0\.0\/33" \(e\.g\. 192\.168\.1\.0\/24, fe80::\/10\)\n/);
  });
});

describe('errors say what was attempted and where', () => {
  // The checkout may sit where nobody else can enter (a 0700 home or mktemp -d): the user
  // `nobody` runs a copy of the CLI (dist/app: the launcher, its bundles and their code caches)
  // from a directory it can read and cannot write.
  const canDrop = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
  if (!canDrop) console.warn('SKIPPED privileged-port test: needs root and setpriv to run as nobody');
  it.skipIf(!canDrop)('a privileged port as an unprivileged user', () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpkit-nobody-'));
    try {
      chmodSync(dir, 0o755);
      for (const file of readdirSync(dirname(BIN))) {
        copyFileSync(join(dirname(BIN), file), join(dir, file));
        chmodSync(join(dir, file), 0o644);
      }
      const bin = join(dir, 'udpkit.cjs');
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bin, 'listen', '-4', '-p', '80'], {
        encoding: 'utf8',
        cwd: dir,
        env: { ...process.env, UDPKIT_NATIVE: '0' },
        timeout: 20_000,
      });
      expect(r.stderr).toBe('udpkit: cannot bind 0.0.0.0:80/udp: permission denied (ports below 1024 need privileges)\n');
      expect(r.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a source address that is not this machine\'s', async () => {
    const r = await runCli(['send', '127.0.0.1:9', 'x', '--source', '192.0.2.254']);
    expect(r).toMatchObject({ code: 1, stderr: 'udpkit: cannot bind 192.0.2.254:0/udp: 192.0.2.254 is not an address of this machine\n' });
  });
});

describe('--key: sealed datagrams', () => {
  const secret = 'correct horse battery staple';

  it('a keyed listener refuses plain, forged, corrupted and replayed datagrams; only a sealed bye stops it', async () => {
    const { deriveKey } = await import('../../src/protocol/seal-key.js');
    const { Sealer } = await import('../../src/protocol/seal.js');
    const l = await listener(['--key', secret]);
    expect(l.stderr).toContain('; sealed datagrams only (--key)');
    const good = new Sealer(deriveKey(secret));
    const hello = good.seal(Buffer.from('sealed hello'), Date.now(), { port: l.port });
    const corrupted = Buffer.from(good.seal(Buffer.from('bye'), Date.now(), { port: l.port }));
    corrupted[corrupted.length - 20]! ^= 0x01;
    const forged = new Sealer(deriveKey('a guess')).seal(Buffer.from('bye'), Date.now(), { port: l.port });
    await sendAll(l.port, [Buffer.from('bye'), hello, forged, corrupted, hello, Buffer.from('UK')]);
    await waitForLines(l, 1);
    expect(l.child.exitCode).toBe(null);
    await runCli(['send', `127.0.0.1:${l.port}`, 'bye', '--key', secret]);
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^received message: sealed hello from PORT \d+ on 127\.0\.0\.1\nreceived message: bye from PORT \d+ on 127\.0\.0\.1\n$/);
    // plain bye, forged, corrupted, the replayed hello, and a two-byte "UK" that only looks like a frame.
    expect(done.stderr.split('\n').at(-2)).toBe('received 2 datagrams, 15 bytes; kernel dropped 0; refused 5 (plain 1, malformed 1, forged 2, replayed 1)');
  });

  it('takes the secret from --key-file or UDPKIT_KEY, and seals the echo for send --wait-reply', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpkit-key-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'key'), `${secret}\n`);
    const l = await listener(['--key-file', join(dir, 'key'), '--echo', '-n', '1']);
    const r = await runCli(['send', `127.0.0.1:${l.port}`, 'ping', '-w', '3', '-q'], { env: { UDPKIT_KEY: secret } });
    expect(r).toMatchObject({ code: 0, stdout: `received message: ping from PORT ${l.port} on 127.0.0.1\n` });
    expect((await l.done).stdout).toMatch(/^received message: ping from PORT \d+ on 127\.0\.0\.1\n$/);
  });

  it('refuses an empty secret and both flags at once as usage errors, an unreadable key file as a runtime error', async () => {
    expect(await runCli(['send', '127.0.0.1:9', 'x', '--key', ''])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^udpkit: --key is empty\n/) });
    expect(await runCli(['send', '127.0.0.1:9', 'x', '--key', 'a', '--key-file', '/x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^udpkit: give only one of --key, --key-file\n/) });
    expect(await runCli(['listen', '-p', '0', '--key-file', '/nonexistent/key'])).toMatchObject({ code: 1, stderr: 'udpkit: cannot read key file "/nonexistent/key": no such file or directory\n' });
  });
});
