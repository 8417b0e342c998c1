/**
 * README, `udpkit send`: "Broadcast destinations (255.255.255.255, or the broadcast address of a
 * local network) work as they are: SO_BROADCAST is set for them (`--broadcast` forces it)."
 * On a LAN of network namespaces (10.77.0.1..3/24, see test/helpers/netns-lan.ts), host 1 sends
 * and Python receivers in hosts 2 and 3 listen. To need `--broadcast`, every host also gets a
 * broadcast route for 10.77.0.127 (the kernel treats it as a broadcast address; no interface's
 * broadcast address is that, so udpkit cannot know). Nothing is sent from this machine's own
 * network namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';
import { pyReceiver, type PyReceiver } from '../helpers/py-udp.js';

const support = probeNetns();
if (!support.ok) console.warn(`SKIPPED send --broadcast LAN tests: ${support.reason}`);

const PORT = 5000;
/** A broadcast address only the routing table knows about. */
const ROUTED_BROADCAST = '10.77.0.127';

describe.skipIf(!support.ok)('README: send to a broadcast address, and --broadcast, on a 3-host LAN', () => {
  let lan: Lan;
  let h1: LanHost, h2: LanHost, h3: LanHost;

  beforeAll(async () => {
    lan = await createLan(3);
    [h1, h2, h3] = lan.hosts as [LanHost, LanHost, LanHost];
    for (const h of lan.hosts) {
      await lan.ip(h, ['route', 'add', 'table', 'local', 'broadcast', ROUTED_BROADCAST, 'dev', 'eth0', 'proto', 'kernel', 'scope', 'link', 'src', h.address]);
    }
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  /** Python receivers on hosts 2 and 3, bound to 0.0.0.0:PORT, each exiting after `count` datagrams. */
  async function receivers(count: number): Promise<PyReceiver[]> {
    return Promise.all([h2, h3].map((h) => pyReceiver({ address: '0.0.0.0', port: PORT, count, prefix: h.exec })));
  }

  it('`udpkit send 10.77.0.255 hello-lan` (no flag) reaches Python receivers in hosts 2 and 3', async () => {
    const rx = await receivers(1);
    try {
      const r = await runCli(['send', `${h1.broadcast}:${PORT}`, 'hello-lan'], { prefix: h1.exec, timeoutMs: 10_000 });
      expect(r).toMatchObject({ code: 0, stdout: '', stderr: `sent 1 datagram (9 bytes) to ${h1.broadcast}:${PORT}/udp\n` });
      for (const p of rx) {
        const [d] = await p.waitFor(1);
        expect(d).toMatchObject({ address: h1.address, text: 'hello-lan' });
        expect(await p.done).toBe(0);
      }
    } finally {
      for (const p of rx) p.child.kill('SIGKILL');
    }
  });

  it(`a broadcast address udpkit cannot recognise (${ROUTED_BROADCAST}): refused without --broadcast (exit 1, one line), delivered with it`, async () => {
    const rx = await receivers(1);
    try {
      const refused = await runCli(['send', `${ROUTED_BROADCAST}:${PORT}`, 'not-this'], { prefix: h1.exec, timeoutMs: 10_000 });
      expect(refused).toMatchObject({
        code: 1,
        stdout: '',
        stderr: `udpkit: cannot send to ${ROUTED_BROADCAST}:${PORT}/udp: permission denied (a broadcast address needs --broadcast)\n`,
      });
      const forced = await runCli(['send', `${ROUTED_BROADCAST}:${PORT}`, 'forced', '--broadcast'], { prefix: h1.exec, timeoutMs: 10_000 });
      expect(forced).toMatchObject({ code: 0, stdout: '', stderr: `sent 1 datagram (6 bytes) to ${ROUTED_BROADCAST}:${PORT}/udp\n` });
      for (const p of rx) {
        // The first datagram each receiver gets is the forced one: the refused one never left.
        const [d] = await p.waitFor(1);
        expect(d).toMatchObject({ address: h1.address, text: 'forced' });
        expect(await p.done).toBe(0);
      }
    } finally {
      for (const p of rx) p.child.kill('SIGKILL');
    }
  });

  it('a destination with no route (192.0.2.1, TEST-NET-1): exit 1 with one line, at once, with or without the native addon', async () => {
    const r = await runCli(['send', `192.0.2.1:${PORT}`, 'nowhere'], { prefix: h1.exec, timeoutMs: 10_000 });
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `udpkit: cannot send to 192.0.2.1:${PORT}/udp: network unreachable\n` });
  });
});
