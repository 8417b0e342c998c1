/**
 * `listen --join` on a host with no route for the group (no default route, no 224.0.0.0/4 route):
 * the kernel's ENODEV becomes one line naming the group and --iface, and --iface then works.
 * Two network namespaces on one bridge; nothing is sent from this machine's own namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, start, waitForStderr } from '../helpers/cli.js';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';

const support = probeNetns();
if (!support.ok) console.warn(`SKIPPED --join hint tests: ${support.reason}`);

describe.skipIf(!support.ok)('--join without a multicast route (network namespaces)', () => {
  let lan: Lan;
  let h1: LanHost, h2: LanHost;

  beforeAll(async () => {
    lan = await createLan(2);
    [h1, h2] = lan.hosts as [LanHost, LanHost];
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('says which flag to add, exit 1', async () => {
    const r = await runCli(['listen', '-p', '0', '--join', '239.77.0.9'], { prefix: h2.exec });
    expect(r).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'udpkit: cannot join multicast group 239.77.0.9: no route says which interface to join it on; name one with --iface NAME\n',
    });
  });

  it('with --iface eth0 it joins and receives what a host on the link sends to the group', async () => {
    const l = start(['listen', '-p', '5009', '--join', '239.77.0.9', '--iface', 'eth0', '-n', '1'], { prefix: h2.exec });
    try {
      await waitForStderr(l, /^listening on 0\.0\.0\.0:5009\/udp \(IPv4\); stops on "bye"\n/);
      const sent = await runCli(['send', '239.77.0.9:5009', '--iface', 'eth0', 'found-you'], { prefix: h1.exec });
      expect(sent).toMatchObject({ code: 0, stderr: 'sent 1 datagram (9 bytes) to 239.77.0.9:5009/udp\n' });
      const r = await l.done;
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^received message: found-you from PORT \d+ on 10\.77\.0\.1\n$/);
      expect(r.stderr.split('\n').at(-2)).toBe('received 1 datagram, 9 bytes; kernel dropped 0');
    } finally {
      if (l.child.exitCode === null) l.child.kill('SIGKILL');
    }
  });
});
