import { describe, expect, it } from 'vitest';
import type { NetworkInterface } from '../../src/net/interfaces.js';
import { primaryInterface, selectPrimary } from '../../src/net/primary.js';
import { parseRouteTable } from '../../src/net/routes.js';
import { fakeNetOs, loadSnapshot, withFiles } from '../helpers/fake-net-os.js';

function iface(name: string, ipv4: string[], extra: Partial<NetworkInterface> = {}): NetworkInterface {
  return {
    name,
    state: 'up',
    mac: `02:00:00:00:00:0${name.length}`,
    loopback: false,
    broadcast: true,
    multicast: true,
    ipv4: ipv4.map((cidr) => {
      const [address, prefix] = cidr.split('/') as [string, string];
      return { address, prefixLength: Number(prefix), netmask: '' };
    }),
    ipv6: [],
    ...extra,
  };
}

const lo = iface('lo', ['127.0.0.1/8'], { loopback: true, state: 'unknown', mac: '00:00:00:00:00:00' });
const defaultVia = (dev: string, gw: string): string =>
  `Iface\tDestination\tGateway\n${dev}\t00000000\t${gw}\t0003\t0\t0\t0\t00000000\t0\t0\t0\n`;

describe('selectPrimary', () => {
  it('picks the interface of the default route, with its MAC', async () => {
    expect(await primaryInterface(fakeNetOs(loadSnapshot('vm')))).toEqual({ interface: 'eth0', ipv4: '192.0.2.2', mac: '02:fc:00:00:00:01' });
  });

  it('follows the lowest-metric default route, not the first interface', async () => {
    expect(await primaryInterface(fakeNetOs(loadSnapshot('laptop')))).toEqual({ interface: 'enp3s0', ipv4: '10.0.0.5', mac: '3c:52:82:0a:1b:2c' });
  });

  it("takes the address on the gateway's subnet when the interface has several", () => {
    const eth = iface('eth0', ['192.168.50.2/24', '10.0.0.5/24']);
    expect(selectPrimary([lo, eth], parseRouteTable(defaultVia('eth0', '0100000A')))?.ipv4).toBe('10.0.0.5');
  });

  it('without a default route, picks the first up non-loopback interface with IPv4', () => {
    const down = iface('eth0', ['10.0.0.5/24'], { state: 'down' });
    const bare = iface('eth1', []);
    const wlan = iface('wlan0', ['192.168.1.23/24']);
    expect(selectPrimary([lo, down, bare, wlan], [])).toEqual({ interface: 'wlan0', ipv4: '192.168.1.23', mac: '02:00:00:00:00:05' });
  });

  it('falls back when the default route is on an interface without IPv4', () => {
    const ppp = iface('ppp0', [], { broadcast: false });
    const wlan = iface('wlan0', ['192.168.1.23/24']);
    expect(selectPrimary([lo, ppp, wlan], parseRouteTable(defaultVia('ppp0', '00000000')))?.interface).toBe('wlan0');
  });

  it('never picks loopback while a real interface has IPv4, even via a default route on lo', () => {
    const eth = iface('eth0', ['10.0.0.5/24']);
    expect(selectPrimary([lo, eth], parseRouteTable(defaultVia('lo', '0100007F')))?.ipv4).toBe('10.0.0.5');
  });

  it('falls back to loopback only when nothing else has IPv4', () => {
    const down = iface('eth0', [], { state: 'down' });
    expect(selectPrimary([lo, down], [])).toEqual({ interface: 'lo', ipv4: '127.0.0.1', mac: '00:00:00:00:00:00' });
  });

  it('leaves out the MAC of an interface that has none', () => {
    const { mac: _, ...tun } = iface('tun0', ['10.8.0.6/32'], { broadcast: false });
    expect(selectPrimary([lo, tun], [])).toEqual({ interface: 'tun0', ipv4: '10.8.0.6' });
  });

  it('finds none, and primaryInterface rejects with UDPKIT_NO_INTERFACE, when no interface has IPv4', async () => {
    expect(selectPrimary([iface('eth0', [])], [])).toBeUndefined();
    const snap = loadSnapshot('vm');
    const noAddresses = fakeNetOs({ ...withFiles(snap, { '/proc/net/route': undefined }), networkInterfaces: {} });
    await expect(primaryInterface(noAddresses)).rejects.toMatchObject({
      code: 'UDPKIT_NO_INTERFACE',
      message: 'no network interface has an IPv4 address',
    });
  });
});
