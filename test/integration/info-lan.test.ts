/**
 * `udpkit info` inside network namespaces whose every interface and route the test made, so the
 * whole output is known, and the default route can be moved to see the primary interface follow.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { expectedInterfaceLines, ipAddr } from '../helpers/ip-json.js';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';

const support = probeNetns();
if (!support.ok) console.warn(`SKIPPED info LAN tests: ${support.reason}`);

describe.skipIf(!support.ok)('udpkit info in a network namespace', () => {
  let lan: Lan;
  let h1: LanHost;
  let h2: LanHost;
  const info = (host: LanHost, args: string[] = []) => runCli(['info', ...args], { prefix: host.exec, timeoutMs: 10_000 });
  const macOf = (host: LanHost, name: string): string => ipAddr(host.ns).find((l) => l.ifname === name)!.address!;
  /** Lines 0, 1 and the body, skipping the hosts-file note (it depends on this machine's /etc/hosts). */
  const parts = (stdout: string) => {
    const lines = stdout.split('\n');
    const blank = lines.indexOf('');
    return { head: lines.slice(0, 2), notes: lines.slice(2, blank), body: lines.slice(blank + 1) };
  };

  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx tsc -p tsconfig.build.json\` first`);
    lan = await createLan(2);
    [h1, h2] = lan.hosts as [LanHost, LanHost];
    // A second network in host 1, on a veth pair whose both ends stay inside host 1.
    await lan.ip(h1, ['link', 'add', 'name', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1p']);
    await lan.ip(h1, ['addr', 'add', '10.99.0.1/24', 'brd', '+', 'dev', 'eth1']);
    await lan.ip(h1, ['link', 'set', 'eth1p', 'up']);
    await lan.ip(h1, ['link', 'set', 'eth1', 'up']);
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('prints exactly the host\'s address, MAC and interface', async () => {
    const r = await info(h2);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const { head, notes, body } = parts(r.stdout);
    const mac = macOf(h2, 'eth0');
    expect(head).toEqual(['IP: 10.77.0.2', `MAC: ${mac}`]);
    expect(notes.every((n) => n.startsWith('note: /etc/hosts maps'))).toBe(true);
    expect(body).toEqual([...expectedInterfaceLines(ipAddr(h2.ns).find((l) => l.ifname === 'eth0')!), '']);
    expect(body.slice(0, 2)).toEqual([`eth0: up, mac ${mac}, multicast`, '  inet 10.77.0.2/24 brd 10.77.0.255']);
  });

  it('without a default route, takes the first up interface with IPv4; with one, follows it', async () => {
    const before = parts((await info(h1)).stdout).head;
    expect(before).toEqual(['IP: 10.77.0.1', `MAC: ${macOf(h1, 'eth0')}`]);
    await lan.ip(h1, ['route', 'add', 'default', 'via', '10.99.0.254', 'dev', 'eth1']);
    try {
      const after = await info(h1, ['--json']);
      expect(after.code).toBe(0);
      expect(JSON.parse(after.stdout).primary).toEqual({ interface: 'eth1', ipv4: '10.99.0.1', mac: macOf(h1, 'eth1') });
      expect(parts((await info(h1)).stdout).head).toEqual(['IP: 10.99.0.1', `MAC: ${macOf(h1, 'eth1')}`]);
    } finally {
      await lan.ip(h1, ['route', 'del', 'default']);
    }
  });

  it('--all shows loopback and the address-less eth1p; a downed interface moves to --all only', async () => {
    const all = parts((await info(h1, ['--all'])).stdout).body;
    expect(all).toEqual([...ipAddr(h1.ns).flatMap(expectedInterfaceLines), '']);
    expect(all).toContain('lo: unknown, mac 00:00:00:00:00:00, loopback');
    await lan.ip(h1, ['link', 'set', 'eth1', 'down']);
    try {
      const shown = parts((await info(h1)).stdout).body.filter((l) => !l.startsWith(' '));
      // eth1p goes down too: its peer is down, so its operstate is lowerlayerdown.
      expect(shown).toEqual([`eth0: up, mac ${macOf(h1, 'eth0')}, multicast`, '']);
      const json = JSON.parse((await info(h1, ['--json', '--all'])).stdout);
      const state = (name: string) => json.interfaces.find((i: { name: string }) => i.name === name)?.state;
      expect([state('eth1'), state('eth1p')]).toEqual(['down', 'down']);
    } finally {
      await lan.ip(h1, ['link', 'set', 'eth1', 'up']);
    }
  });
});
