/**
 * Multicast on a real LAN: three network namespaces on one bridge (10.77.0.1..3/24), each with a
 * route for 224.0.0.0/4 on eth0. Host 1 sends to a group; hosts 2 and 3 join it with the built
 * binary. Nothing is sent from, or created in, this machine's own network namespace.
 */
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli, start, waitForStderr, type CliResult, type Running } from '../helpers/cli.js';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';

const support = probeNetns();
if (!support.ok) console.warn(`SKIPPED multicast LAN tests: ${support.reason}`);

describe.skipIf(!support.ok)('multicast on a 3-host LAN in network namespaces', () => {
  let lan: Lan;
  let h1: LanHost, h2: LanHost, h3: LanHost;
  const running: Running[] = [];

  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
    lan = await createLan(3);
    [h1, h2, h3] = lan.hosts as [LanHost, LanHost, LanHost];
    for (const h of lan.hosts) await lan.ip(h, ['route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
  });
  afterAll(async () => {
    await lan?.destroy();
  });
  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });

  /** Starts `udpkit listen ARGS` in `host` and waits until it is bound (and has joined). */
  async function listenIn(host: LanHost, args: readonly string[]): Promise<Running> {
    const r = start(['listen', ...args], { prefix: host.exec, timeoutMs: 20_000 });
    running.push(r);
    await waitForStderr(r, /^listening on /m, 15_000);
    return r;
  }

  const fromH1 = (args: readonly string[]): Promise<CliResult> => runCli(args, { prefix: h1.exec, timeoutMs: 10_000 });
  const received = (text: string): RegExp => new RegExp(`^received message: ${text} from PORT (\\d+) on 10\\.77\\.0\\.1\\n$`);

  it('`udpkit send 239.77.0.1:5007` from host 1 reaches the listeners that joined on hosts 2 and 3', async () => {
    const l2 = await listenIn(h2, ['--join', '239.77.0.1', '-p', '5007', '-n', '1']);
    const l3 = await listenIn(h3, ['--join', '239.77.0.1', '-p', '5007', '-n', '1']);
    expect(l2.stderr).toMatch(/^listening on 0\.0\.0\.0:5007\/udp \(IPv4\); stops on "bye"\n/);
    const sent = await fromH1(['send', '239.77.0.1:5007', 'hello-group']);
    expect(sent).toMatchObject({ code: 0, stderr: 'sent 1 datagram (11 bytes) to 239.77.0.1:5007/udp\n' });
    const [r2, r3] = await Promise.all([l2.done, l3.done]);
    expect(r2).toMatchObject({ code: 0, stdout: expect.stringMatching(received('hello-group')) });
    expect(r3).toMatchObject({ code: 0, stdout: expect.stringMatching(received('hello-group')) });
  });

  it('a listener that joined another group gets nothing sent to 239.77.0.1 on its port', async () => {
    const l3 = await listenIn(h3, ['-p', '5008', '--join', '239.77.0.2', '-n', '1']);
    expect((await fromH1(['send', '239.77.0.1:5008', 'not-for-you'])).code).toBe(0);
    // Sent after it over the same path: had the first arrived, it would be the one shown.
    expect((await fromH1(['send', '239.77.0.2:5008', 'for-you'])).code).toBe(0);
    const r3 = await l3.done;
    expect(r3).toMatchObject({ code: 0, stdout: expect.stringMatching(received('for-you')) });
    expect(r3.stderr).toMatch(/received 1 datagram/);
  });

  it('`--reuse` lets two listeners on host 2 share the port, and both get the datagram', async () => {
    const a = await listenIn(h2, ['--join', '239.77.0.1', '-p', '5009', '-n', '1', '--reuse']);
    const b = await listenIn(h2, ['--join', '239.77.0.1', '-p', '5009', '-n', '1', '--reuse']);
    expect((await fromH1(['send', '239.77.0.1:5009', 'shared'])).code).toBe(0);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra).toMatchObject({ code: 0, stdout: expect.stringMatching(received('shared')) });
    expect(rb).toMatchObject({ code: 0, stdout: expect.stringMatching(received('shared')) });
  });

  it('without --reuse the second listener on the port fails with one line (exit 1)', async () => {
    await listenIn(h2, ['--join', '239.77.0.1', '-p', '5010', '-n', '1']);
    const second = await runCli(['listen', '--join', '239.77.0.1', '-p', '5010', '-n', '1'], { prefix: h2.exec, timeoutMs: 10_000 });
    expect(second).toMatchObject({ code: 1, stdout: '', stderr: 'udpkit: cannot bind 0.0.0.0:5010/udp: port 5010/udp is already in use\n' });
  });

  it('`--iface eth0` and `--iface 10.77.0.3` join on that interface; `send --iface eth0 --ttl 2` reaches them', async () => {
    const l2 = await listenIn(h2, ['--join', '239.77.0.3', '--iface', 'eth0', '-p', '5011', '-n', '1']);
    const l3 = await listenIn(h3, ['--join', '239.77.0.3', '--iface', '10.77.0.3', '-p', '5011', '-n', '1']);
    expect((await fromH1(['send', '239.77.0.3:5011', '--iface', 'eth0', '--ttl', '2', 'via-eth0'])).code).toBe(0);
    const [r2, r3] = await Promise.all([l2.done, l3.done]);
    expect(r2.stdout).toMatch(received('via-eth0'));
    expect(r3.stdout).toMatch(received('via-eth0'));
  });

  it('`--source` filters: only datagrams from that source are received', async () => {
    const l3 = await listenIn(h3, ['--join', '232.77.0.1', '--source', '10.77.0.2', '-p', '5012', '-n', '1']);
    expect((await fromH1(['send', '232.77.0.1:5012', 'from-h1'])).code).toBe(0);
    expect((await runCli(['send', '232.77.0.1:5012', 'from-h2'], { prefix: h2.exec, timeoutMs: 10_000 })).code).toBe(0);
    const r3 = await l3.done;
    expect(r3.code).toBe(0);
    expect(r3.stdout).toMatch(/^received message: from-h2 from PORT \d+ on 10\.77\.0\.2\n$/);
  });

  it('an unknown interface is a runtime error (exit 1) with one line', async () => {
    const r = await runCli(['listen', '--join', '239.77.0.1', '--iface', 'nope0', '-p', '5013', '-n', '1'], { prefix: h2.exec, timeoutMs: 10_000 });
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'udpkit: no interface named nope0\n' });
  });

  it('loopback is on by default (a listener on the sending host gets it) and `--no-loop` turns it off', async () => {
    const local = await listenIn(h1, ['--join', '239.77.0.4', '-p', '5014', '-n', '1']);
    expect((await fromH1(['send', '239.77.0.4:5014', 'looped'])).code).toBe(0);
    expect((await local.done).stdout).toMatch(received('looped'));
    const quiet = await listenIn(h1, ['--join', '239.77.0.4', '-p', '5014', '-n', '1']);
    const remote = await listenIn(h2, ['--join', '239.77.0.4', '-p', '5014', '-n', '1']);
    expect((await fromH1(['send', '239.77.0.4:5014', '--no-loop', 'not-looped'])).code).toBe(0);
    expect((await remote.done).stdout).toMatch(received('not-looped'));
    // Then one that loops: had the first looped back too, it would be the one shown.
    expect((await fromH1(['send', '239.77.0.4:5014', 'looped-after'])).code).toBe(0);
    expect(await quiet.done).toMatchObject({ code: 0, stdout: expect.stringMatching(received('looped-after')) });
  });
});
