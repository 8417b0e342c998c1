/**
 * Broadcast on a real LAN: three network namespaces on one bridge (10.77.0.1..3/24). Host 1
 * sends; hosts 2 and 3 listen with the built binary or the textbook's Python receiver. Nothing
 * is sent from, or created in, this machine's own network namespace.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli, start, waitForStderr, type CliResult, type Running } from '../helpers/cli.js';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';

const support = probeNetns();
if (!support.ok) console.warn(`SKIPPED broadcast LAN tests: ${support.reason}`);

const receiverPy = fileURLToPath(new URL('../fixtures/seed_receiver.py', import.meta.url));

describe.skipIf(!support.ok)('broadcast on a 3-host LAN in network namespaces', () => {
  let lan: Lan;
  let h1: LanHost, h2: LanHost, h3: LanHost;
  const running: Running[] = [];

  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx tsc -p tsconfig.build.json\` first`);
    lan = await createLan(3);
    [h1, h2, h3] = lan.hosts as [LanHost, LanHost, LanHost];
  });
  afterAll(async () => {
    await lan?.destroy();
  });
  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });

  /** Starts `udpkit listen ARGS --port 5000` in `host` and waits until it is bound. */
  async function listenIn(host: LanHost, args: readonly string[] = ['-n', '1']): Promise<Running> {
    const r = start(['listen', ...args, '--port', '5000'], { prefix: host.exec, timeoutMs: 10_000 });
    running.push(r);
    await waitForStderr(r, /^listening on /m, 5000);
    return r;
  }

  /** `udpkit ARGS` run in host 1. */
  const fromH1 = (args: readonly string[], input?: string): Promise<CliResult> =>
    runCli(args, { prefix: h1.exec, timeoutMs: 10_000, ...(input !== undefined ? { input } : {}) });

  const received = (text: string): RegExp => new RegExp(`^received message: ${text} from PORT (\\d+) on 10\\.77\\.0\\.1\\n$`);

  /** Both listeners end (exit 0) having printed exactly one line for `text`, from the same socket. */
  async function bothReceived(a: Running, b: Running, text: string): Promise<void> {
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra).toMatchObject({ code: 0 });
    expect(rb).toMatchObject({ code: 0 });
    expect(ra.stdout).toMatch(received(text));
    expect(rb.stdout).toMatch(received(text));
    expect(received(text).exec(ra.stdout)![1]).toBe(received(text).exec(rb.stdout)![1]);
  }

  it('the LAN is what it claims: each host has only lo and eth0 with its 10.77.0.K/24', async () => {
    for (const h of lan.hosts) {
      const links = JSON.parse(await lan.ip(h, ['-j', 'addr'])) as Array<{ ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
      expect(links.map((l) => l.ifname)).toEqual(['lo', 'eth0']);
      expect(links[1]!.addr_info.filter((a) => a.family === 'inet')).toMatchObject([{ local: h.address, prefixlen: 24 }]);
    }
  });

  it('`udpkit broadcast hello-lan` in host 1 reaches udpkit listen in hosts 2 and 3', async () => {
    const [l2, l3] = [await listenIn(h2), await listenIn(h3)];
    const sent = await fromH1(['broadcast', 'hello-lan']);
    expect(sent).toMatchObject({ code: 0, stdout: 'sent 9 bytes to 10.77.0.255:5000 (eth0)\n', stderr: '' });
    await bothReceived(l2, l3, 'hello-lan');
  });

  it('`udpkit send 10.77.0.255 hi` is recognised as a directed broadcast and reaches both', async () => {
    const [l2, l3] = [await listenIn(h2), await listenIn(h3)];
    expect(await fromH1(['send', '10.77.0.255', 'hi'])).toMatchObject({ code: 0 });
    await bothReceived(l2, l3, 'hi');
  });

  it('`udpkit broadcast --address` sends to 255.255.255.255 out of eth0 and reaches both', async () => {
    const [l2, l3] = [await listenIn(h2), await listenIn(h3)];
    const sent = await fromH1(['broadcast', '--address', 'hi', 'all']);
    expect(sent).toMatchObject({ code: 0, stdout: 'sent 6 bytes to 255.255.255.255:5000 (eth0)\n' });
    await bothReceived(l2, l3, 'hi all');
  });

  it('`udpkit broadcast --iface eth0 -p 5001 -q` sends one line of stdin per datagram, printing nothing', async () => {
    const r = start(['listen', '-n', '2', '--port', '5001'], { prefix: h2.exec, timeoutMs: 10_000 });
    running.push(r);
    await waitForStderr(r, /^listening on /m, 5000);
    const sent = await fromH1(['broadcast', '--iface', 'eth0', '-p', '5001', '-q'], 'first line\nsecond\n');
    expect(sent).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const done = await r.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^received message: first line from PORT (\d+) on 10\.77\.0\.1\nreceived message: second from PORT \1 on 10\.77\.0\.1\n$/);
  });

  it("the textbook's Python receiver in host 3 shows udpkit's broadcasts (as does host 2) and stops on bye", async () => {
    const py = lan.run(h3, 'python3', ['-u', receiverPy, '5000']);
    let stdout = '';
    let stderr = '';
    py.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    const exited = new Promise<number | null>((resolve) => py.once('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver not bound within 5 s: ${stderr}`)), 5000);
      py.stderr!.setEncoding('utf8').on('data', (s: string) => {
        stderr += s;
        if (/^bound 5000$/m.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const l2 = await listenIn(h2);
    expect((await fromH1(['broadcast', 'hello-python'])).code).toBe(0);
    expect(await l2.done).toMatchObject({ code: 0, stdout: expect.stringMatching(received('hello-python')) });
    expect((await fromH1(['broadcast', 'bye'])).code).toBe(0);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`receiver still running: ${stdout}`)), 5000));
    expect(await Promise.race([exited, timeout])).toBe(0);
    expect(stdout).toMatch(/^received message:hello-python from PORT(\d+) on 10\.77\.0\.1\nreceived message:bye from PORT\d+ on 10\.77\.0\.1\n$/);
  });

  it('refuses an unknown interface (exit 1) and a bad port (exit 2) without sending', async () => {
    expect(await fromH1(['broadcast', '--iface', 'nope', 'x'])).toMatchObject({ code: 1, stdout: '', stderr: 'udpkit: no interface named nope\n' });
    const bad = await fromH1(['broadcast', '--port', '70000', 'x']);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toMatch(/^udpkit: --port must be an integer from 1 to 65535, got "70000"\n/);
  });

  it('`udpkit broadcast` in a host whose only interface is loopback says why it cannot', async () => {
    await lan.ip(h2, ['link', 'set', 'eth0', 'down']);
    try {
      expect(await runCli(['broadcast', 'x'], { prefix: h2.exec, timeoutMs: 10_000 })).toMatchObject({
        code: 1,
        stdout: '',
        stderr: 'udpkit: no up IPv4 interface with a broadcast address\n',
      });
    } finally {
      await lan.ip(h2, ['link', 'set', 'eth0', 'up']);
    }
  });
});
