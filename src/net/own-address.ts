/**
 * Whether a datagram sent to an address would come back to a socket of this machine: the
 * question a relay (or an echo) must ask before sending to a port of its own, which would loop.
 * Pure: the interface addresses are passed in, as `os.networkInterfaces()` gives them.
 */
import type os from 'node:os';
import ipaddr from 'ipaddr.js';

/** The address as ipaddr.js parses it, IPv4-mapped IPv6 as IPv4, without brackets or zone. */
function parse(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  return ipaddr.isValid(bare) ? ipaddr.process(bare) : undefined;
}

/** The address a datagram to `ip` goes to: Linux delivers one sent to the unspecified address to loopback. */
function destination(ip: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (ip.range() === 'unspecified') return ip.kind() === 'ipv4' ? '127.0.0.1' : '::1';
  return ip.toNormalizedString();
}

/**
 * True when a datagram to `address` reaches a socket bound to `bound` on this machine (any port
 * aside): with `bound` the wildcard (`undefined`, `0.0.0.0`, `::`), any loopback, unspecified
 * or interface address, IPv4-mapped forms included; with a specific `bound`, that address only.
 * @example isOwnAddress('127.0.0.9', undefined, os.networkInterfaces()) // true
 * @example isOwnAddress('127.0.0.9', '127.0.0.1', os.networkInterfaces()) // false
 */
export function isOwnAddress(address: string, bound: string | undefined, interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): boolean {
  const target = parse(address);
  if (target === undefined) return false;
  const to = destination(target);
  const where = bound === undefined ? undefined : parse(bound);
  if (where !== undefined && where.range() !== 'unspecified') return to === destination(where);
  if (parse(to)?.range() === 'loopback') return true;
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      const ip = parse(info.address);
      if (ip !== undefined && destination(ip) === to) return true;
    }
  }
  return false;
}
