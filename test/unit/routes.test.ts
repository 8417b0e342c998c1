import { describe, expect, it } from 'vitest';
import { defaultRoute, parseIpv6RouteTable, parseRouteTable, readRoutes, RTF_REJECT } from '../../src/net/routes.js';
import { fakeNetOs, loadSnapshot } from '../helpers/fake-net-os.js';

const vm = loadSnapshot('vm');
const laptop = loadSnapshot('laptop');

describe('parseRouteTable', () => {
  it('parses a real /proc/net/route (little-endian hex words)', () => {
    expect(parseRouteTable(vm.files['/proc/net/route']!)).toEqual([
      { iface: 'eth0', destination: '0.0.0.0', gateway: '192.0.2.1', netmask: '0.0.0.0', prefixLength: 0, flags: 3, metric: 0 },
      { iface: 'eth0', destination: '192.0.2.0', gateway: '0.0.0.0', netmask: '255.255.255.0', prefixLength: 24, flags: 1, metric: 0 },
    ]);
  });

  it('reads the first address byte from the lowest byte of the word', () => {
    const [r] = parseRouteTable('lo\t0000007F\t0100007F\t0001\t0\t0\t0\t000000FF\t0\t0\t0\n');
    expect(r).toMatchObject({ destination: '127.0.0.0', gateway: '127.0.0.1', netmask: '255.0.0.0', prefixLength: 8 });
  });

  it('reads the metric in decimal and the flags in hex', () => {
    const routes = parseRouteTable(laptop.files['/proc/net/route']!);
    expect(routes.map((r) => [r.iface, r.metric, r.flags])).toEqual([
      ['wlp2s0', 600, 3],
      ['enp3s0', 100, 3],
      ['*', 10, 0x201],
      ['enp3s0', 100, 1],
      ['wlp2s0', 600, 1],
      ['docker0', 0, 1],
    ]);
  });

  it('skips the header, blank and malformed rows', () => {
    const text = 'Iface\tDestination\tGateway\nbad\tZZZZZZZZ\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n\nshort\t00000000\n';
    expect(parseRouteTable(text)).toEqual([]);
    expect(parseRouteTable('')).toEqual([]);
  });
});

describe('parseIpv6RouteTable', () => {
  it('parses a real /proc/net/ipv6_route', () => {
    const routes = parseIpv6RouteTable(vm.files['/proc/net/ipv6_route']!);
    expect(routes).toHaveLength(8);
    expect(routes[0]).toEqual({ iface: 'eth0', destination: 'fd00::', prefixLength: 64, gateway: '::', metric: 256, flags: 1 });
    expect(routes[2]).toEqual({ iface: 'eth0', destination: '::', prefixLength: 0, gateway: 'fd00::1', metric: 1024, flags: 3 });
  });
});

describe('defaultRoute', () => {
  it('finds the IPv4 default route of a real table', () => {
    expect(defaultRoute(parseRouteTable(vm.files['/proc/net/route']!))).toMatchObject({ iface: 'eth0', gateway: '192.0.2.1' });
  });

  it('takes the lowest metric and ignores reject routes', () => {
    const routes = parseRouteTable(laptop.files['/proc/net/route']!);
    expect(routes.some((r) => r.prefixLength === 0 && r.metric < 100 && (r.flags & RTF_REJECT) !== 0)).toBe(true);
    expect(defaultRoute(routes)).toMatchObject({ iface: 'enp3s0', gateway: '10.0.0.1', metric: 100 });
  });

  it('ignores the IPv6 unreachable default route on lo', () => {
    expect(defaultRoute(parseIpv6RouteTable(vm.files['/proc/net/ipv6_route']!))).toMatchObject({ iface: 'eth0', gateway: 'fd00::1' });
  });

  it('ignores routes that are not up, and finds none in a table without a default', () => {
    const down = 'eth0\t00000000\t0101A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n';
    expect(defaultRoute(parseRouteTable(down))).toBeUndefined();
    const onLinkOnly = 'eth0\t00004D0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n';
    expect(defaultRoute(parseRouteTable(onLinkOnly))).toBeUndefined();
  });
});

describe('readRoutes', () => {
  it('reads both tables through the injected reader', async () => {
    const tables = await readRoutes(fakeNetOs(vm));
    expect(tables.ipv4).toHaveLength(2);
    expect(tables.ipv6).toHaveLength(8);
  });

  it('gives empty tables where the files do not exist', async () => {
    expect(await readRoutes(fakeNetOs({ ...vm, files: {} }))).toEqual({ ipv4: [], ipv6: [] });
  });
});
