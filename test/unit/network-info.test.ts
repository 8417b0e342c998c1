import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatNetworkInfo, networkInfoJson } from '../../src/format/network-info.js';
import { networkInfo } from '../../src/net/network-info.js';
import { fakeNetOs, loadSnapshot, withFiles } from '../helpers/fake-net-os.js';

const laptop = loadSnapshot('laptop');

describe('networkInfo', () => {
  it('puts hostname, primary interface, hosts-file note and interfaces together', async () => {
    const info = await networkInfo(fakeNetOs(laptop));
    expect(info.hostname).toBe('laptop');
    expect(info.primary).toEqual({ interface: 'enp3s0', ipv4: '10.0.0.5', mac: '3c:52:82:0a:1b:2c' });
    expect(info.hostnameNote).toMatch(/"laptop" to 127\.0\.1\.1/);
    expect(info.interfaces.map((i) => i.name)).toEqual(['lo', 'enp3s0', 'wlp2s0', 'docker0', 'eno1', 'tun0']);
  });

  it('has no note when the hostname is not mapped to loopback', async () => {
    const info = await networkInfo(fakeNetOs(withFiles(laptop, { '/etc/hosts': '127.0.0.1 localhost\n10.0.0.5 laptop\n' })));
    expect(info).not.toHaveProperty('hostnameNote');
  });

  it('never resolves names: nothing under src/net imports node:dns', () => {
    const dir = new URL('../../src/net/', import.meta.url);
    for (const file of readdirSync(dir)) expect(readFileSync(new URL(file, dir), 'utf8')).not.toMatch(/['"](node:)?dns(\/promises)?['"]/);
  });
});

describe('formatNetworkInfo', () => {
  it("prints the textbook's IP and MAC lines, the note, then the interfaces that are up", async () => {
    const lines = formatNetworkInfo(await networkInfo(fakeNetOs(laptop)));
    expect(lines).toEqual([
      'IP: 10.0.0.5',
      'MAC: 3c:52:82:0a:1b:2c',
      `note: /etc/hosts maps this machine's name "laptop" to 127.0.1.1, so the textbook's gethostbyname(gethostname()) returns 127.0.1.1, a loopback address no other host can reach; udpkit reads the interfaces instead`,
      '',
      'enp3s0: up, mac 3c:52:82:0a:1b:2c, multicast',
      '  inet 10.0.0.5/24 brd 10.0.0.255',
      '  inet 192.168.50.2/24 brd 192.168.50.255',
      '  inet6 2001:db8:1::5/64 scope global',
      '  inet6 fe80::3e52:82ff:fe0a:1b2c/64 scope link',
      'wlp2s0: up, mac f4:8c:50:11:22:33, multicast',
      '  inet 192.168.1.23/24 brd 192.168.1.255',
      '  inet6 fec0::23/64 scope site',
      '  inet6 fe80::f68c:50ff:fe11:2233/64 scope link',
      'tun0: unknown, no mac, multicast',
      '  inet 10.8.0.6/32',
    ]);
  });

  it('shows loopback and down interfaces with --all', async () => {
    const lines = formatNetworkInfo(await networkInfo(fakeNetOs(laptop)), { all: true });
    expect(lines.slice(4).filter((l) => !l.startsWith(' '))).toEqual([
      'lo: unknown, mac 00:00:00:00:00:00, loopback',
      'enp3s0: up, mac 3c:52:82:0a:1b:2c, multicast',
      'wlp2s0: up, mac f4:8c:50:11:22:33, multicast',
      'docker0: down, mac 02:42:ac:11:00:01, multicast',
      'eno1: down, mac 3c:52:82:0a:1b:2d, multicast',
      'tun0: unknown, no mac, multicast',
    ]);
    expect(lines).toContain('  inet 127.0.0.1/8');
  });

  it('says none when no interface has IPv4', async () => {
    const lines = formatNetworkInfo(await networkInfo(fakeNetOs({ ...laptop, networkInterfaces: {}, files: {} })));
    expect(lines.slice(0, 3)).toEqual(['IP: none', 'MAC: none', '']);
  });
});

describe('networkInfoJson', () => {
  it('holds the same data, with the same filter, and null for a missing primary', async () => {
    const info = await networkInfo(fakeNetOs(laptop));
    const doc = JSON.parse(JSON.stringify(networkInfoJson(info)));
    expect(doc.primary).toEqual({ interface: 'enp3s0', ipv4: '10.0.0.5', mac: '3c:52:82:0a:1b:2c' });
    expect(doc.interfaces.map((i: { name: string }) => i.name)).toEqual(['enp3s0', 'wlp2s0', 'tun0']);
    expect(JSON.parse(JSON.stringify(networkInfoJson(info, { all: true }))).interfaces).toHaveLength(6);
    const none = await networkInfo(fakeNetOs({ ...laptop, networkInterfaces: {}, files: {} }));
    expect(JSON.parse(JSON.stringify(networkInfoJson(none))).primary).toBeNull();
  });
});
