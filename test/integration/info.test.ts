/** `networkInfo()` on this machine, checked against iproute2 and sysfs (read only: nothing is sent). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { networkInfo } from '../../src/net/network-info.js';
import { ipAddr, ipDefaultRoute, ipPrimary, stateOf } from '../helpers/ip-json.js';

const info = await networkInfo();
const links = ipAddr();
const route = ipDefaultRoute();

describe('networkInfo() on this machine', () => {
  it('lists the same interfaces as `ip addr`, in the same order', () => {
    expect(info.interfaces.map((i) => i.name)).toEqual(links.map((l) => l.ifname));
  });

  it('reads each MAC from /sys/class/net/NAME/address', () => {
    for (const i of info.interfaces) {
      const sys = readFileSync(`/sys/class/net/${i.name}/address`, 'utf8').trim();
      expect(i.mac ?? '').toBe(sys);
    }
  });

  it('agrees with `ip addr` on state, flags and IPv4/IPv6 addresses', () => {
    for (const l of links) {
      const i = info.interfaces.find((x) => x.name === l.ifname)!;
      expect({ name: i.name, state: i.state, loopback: i.loopback, multicast: i.multicast }).toEqual({
        name: l.ifname,
        state: stateOf(l),
        loopback: l.link_type === 'loopback',
        multicast: l.flags.includes('MULTICAST'),
      });
      expect(i.ipv4.map((a) => [a.address, a.prefixLength, a.broadcast])).toEqual(
        l.addr_info.filter((a) => a.family === 'inet').map((a) => [a.local, a.prefixlen, a.broadcast]),
      );
      expect(i.ipv6.map((a) => [a.address, a.prefixLength, a.scope])).toEqual(
        l.addr_info.filter((a) => a.family === 'inet6').map((a) => [a.local, a.prefixlen, a.scope]),
      );
    }
  });

  it.skipIf(route === undefined)('picks the interface of the default route, its IPv4 address and its MAC', () => {
    expect(info.primary?.interface).toBe(route!.dev);
    expect(info.primary).toEqual(ipPrimary());
    expect(info.primary!.ipv4).not.toMatch(/^127\./);
  });
});
