import { describe, expect, it } from 'vitest';
import { buildInterfaces, ipv6Scope, listInterfaces, type NetworkInterface } from '../../src/net/interfaces.js';
import { fakeNetOs, loadSnapshot } from '../helpers/fake-net-os.js';

const vm = loadSnapshot('vm');
const laptop = loadSnapshot('laptop');

function byName(list: readonly NetworkInterface[], name: string): NetworkInterface {
  const found = list.find((i) => i.name === name);
  if (!found) throw new Error(`no ${name} in ${list.map((i) => i.name).join(', ')}`);
  return found;
}

describe('listInterfaces', () => {
  it('builds the interface list of a real machine, in ifindex order', async () => {
    expect(await listInterfaces(fakeNetOs(vm))).toEqual([
      {
        name: 'lo',
        state: 'unknown',
        mac: '00:00:00:00:00:00',
        loopback: true,
        broadcast: false,
        multicast: false,
        ipv4: [{ address: '127.0.0.1', prefixLength: 8, netmask: '255.0.0.0' }],
        ipv6: [{ address: '::1', prefixLength: 128, scope: 'host', scopeId: 0 }],
      },
      { name: 'ifb0', state: 'down', mac: '4e:89:74:ef:1e:08', loopback: false, broadcast: true, multicast: false, ipv4: [], ipv6: [] },
      { name: 'ifb1', state: 'down', mac: 'a6:38:fc:c4:a2:91', loopback: false, broadcast: true, multicast: false, ipv4: [], ipv6: [] },
      {
        name: 'eth0',
        state: 'up',
        mac: '02:fc:00:00:00:01',
        loopback: false,
        broadcast: true,
        multicast: true,
        ipv4: [{ address: '192.0.2.2', prefixLength: 24, netmask: '255.255.255.0', broadcast: '192.0.2.255' }],
        ipv6: [
          { address: 'fd00::2', prefixLength: 64, scope: 'global', scopeId: 0 },
          { address: 'fe80::fc:ff:fe00:1', prefixLength: 64, scope: 'link', scopeId: 4 },
        ],
      },
    ]);
  });

  it('lists links without addresses and skips sysfs entries that are not links', async () => {
    const list = await listInterfaces(fakeNetOs(laptop));
    expect(list.map((i) => i.name)).toEqual(['lo', 'enp3s0', 'wlp2s0', 'docker0', 'eno1', 'tun0']);
    expect(byName(list, 'eno1')).toEqual({
      name: 'eno1',
      state: 'down',
      mac: '3c:52:82:0a:1b:2d',
      loopback: false,
      broadcast: true,
      multicast: true,
      ipv4: [],
      ipv6: [],
    });
  });

  it('joins alias labels to their link and lower-cases the MAC', async () => {
    const enp = byName(await listInterfaces(fakeNetOs(laptop)), 'enp3s0');
    expect(enp.mac).toBe('3c:52:82:0a:1b:2c');
    expect(enp.ipv4.map((a) => `${a.address}/${a.prefixLength} brd ${a.broadcast}`)).toEqual([
      '10.0.0.5/24 brd 10.0.0.255',
      '192.168.50.2/24 brd 192.168.50.255',
    ]);
  });

  it('takes the state from sysfs even when the interface has addresses', async () => {
    const docker = byName(await listInterfaces(fakeNetOs(laptop)), 'docker0');
    expect(docker.state).toBe('down');
    expect(docker.ipv4[0]).toEqual({ address: '172.17.0.1', prefixLength: 16, netmask: '255.255.0.0', broadcast: '172.17.255.255' });
  });

  it('gives a point-to-point link no MAC and no broadcast address', async () => {
    expect(byName(await listInterfaces(fakeNetOs(laptop)), 'tun0')).toEqual({
      name: 'tun0',
      state: 'unknown',
      loopback: false,
      broadcast: false,
      multicast: true,
      ipv4: [{ address: '10.8.0.6', prefixLength: 32, netmask: '255.255.255.255' }],
      ipv6: [],
    });
  });

  it('falls back to os.networkInterfaces() alone where there is no sysfs', async () => {
    const list = await listInterfaces(fakeNetOs({ ...laptop, dirs: {}, files: {} }));
    expect(list.map((i) => i.name)).toEqual(['lo', 'enp3s0', 'enp3s0:1', 'wlp2s0', 'docker0', 'tun0']);
    expect(byName(list, 'lo')).toMatchObject({ state: 'up', loopback: true, broadcast: false, ipv4: [{ address: '127.0.0.1', prefixLength: 8, netmask: '255.0.0.0' }] });
    expect(byName(list, 'lo').mac).toBeUndefined();
    expect(byName(list, 'wlp2s0')).toMatchObject({ state: 'up', mac: 'f4:8c:50:11:22:33', loopback: false, multicast: false });
    expect(byName(list, 'wlp2s0').ipv4[0]?.broadcast).toBe('192.168.1.255');
    expect(byName(list, 'tun0').mac).toBeUndefined();
  });
});

describe('buildInterfaces', () => {
  it('treats a link that is administratively down as down whatever its operstate says', () => {
    const [eth] = buildInterfaces([{ name: 'eth0', ifindex: 2, operstate: 'unknown', flags: 0x1002 }], {});
    expect(eth?.state).toBe('down');
  });

  it('reports up, down and unknown operstates', () => {
    const states = ['up', 'down', 'lowerlayerdown', 'dormant', 'unknown'].map(
      (operstate, i) => buildInterfaces([{ name: `x${i}`, operstate, flags: 0x1003 }], {})[0]?.state,
    );
    expect(states).toEqual(['up', 'down', 'down', 'down', 'unknown']);
  });
});

describe('ipv6Scope', () => {
  it('classifies addresses by their prefix', () => {
    expect(['::1', 'fe80::1', 'febf::1', 'fec0::1', 'fd00::2', '2001:db8::1', 'fe80::1%eth0'].map(ipv6Scope)).toEqual([
      'host',
      'link',
      'link',
      'site',
      'global',
      'global',
      'link',
    ]);
  });
});
