/**
 * Which addresses are this machine's own, and which reach more than one host, in the one
 * canonical spelling a source address is looked up in. `listen --echo` asks before it answers:
 * a forged source that is its own address and port would make it answer itself for ever, and a
 * broadcast or multicast source would make one datagram an answer to a whole network.
 */
import type os from 'node:os';
import ipaddr from 'ipaddr.js';
import type { AddressKind } from '../types.js';
import { directedBroadcast } from './broadcast-address.js';

export type { AddressKind };

/** This machine's own unicast addresses and its subnets' broadcast addresses, canonical. */
export interface LocalAddresses {
  readonly local: ReadonlySet<string>;
  readonly broadcast: ReadonlySet<string>;
}

/**
 * An IP address spelled one way: no `%scope`, an IPv4-mapped IPv6 address as plain IPv4, IPv6
 * in its compressed lower-case form; `undefined` when it is not an IP address.
 * @example canonicalAddress('::FFFF:127.0.0.1') // '127.0.0.1'
 * @example canonicalAddress('fe80:0::1%eth0') // 'fe80::1'
 */
export function canonicalAddress(address: string): string | undefined {
  const bare = address.replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return undefined;
  // ipaddr.process turns ::ffff:a.b.c.d into a.b.c.d; parse alone would accept "1" as IPv4.
  if (!ipaddr.IPv4.isValidFourPartDecimal(bare) && !ipaddr.IPv6.isValid(bare)) return undefined;
  return ipaddr.process(bare).toString();
}

/**
 * The local and broadcast sets of an interface list (`os.networkInterfaces()`), plus `extra`
 * addresses to count as local (the address a socket is bound to).
 * @example localAddressesOf(os.networkInterfaces(), ['10.0.0.5']).local.has('127.0.0.1') // true
 */
export function localAddressesOf(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>, extra: readonly string[] = []): LocalAddresses {
  const local = new Set<string>();
  const broadcast = new Set<string>();
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      const canonical = canonicalAddress(a.address);
      if (canonical !== undefined) local.add(canonical);
      if (a.family !== 'IPv4') continue;
      const b = directedBroadcast(a.address, a.netmask);
      if (b !== undefined) broadcast.add(b);
    }
  }
  for (const a of extra) {
    const canonical = canonicalAddress(a);
    if (canonical !== undefined) local.add(canonical);
  }
  return { local, broadcast };
}

/**
 * What `address` is to a machine with these addresses. Every loopback address (127.0.0.0/8,
 * ::1) is local whether or not an interface lists it.
 * @example addressKind('127.0.0.2', localAddressesOf({})) // 'local'
 * @example addressKind('255.255.255.255', localAddressesOf({})) // 'broadcast'
 */
export function addressKind(address: string, addresses: LocalAddresses): AddressKind {
  const v4 = IPV4.exec(address);
  if (v4) return ipv4Kind(address, v4.slice(1).map(Number), addresses);
  const canonical = canonicalAddress(address);
  if (canonical === undefined) return 'invalid';
  const range = ipaddr.parse(canonical).range();
  if (range === 'unspecified') return 'unspecified';
  if (range === 'multicast') return 'multicast';
  if (range === 'broadcast' || addresses.broadcast.has(canonical)) return 'broadcast';
  if (range === 'loopback' || addresses.local.has(canonical)) return 'local';
  return 'other';
}

/** A dotted quad as the OS reports one (no leading zeros): the common case, parsed without ipaddr.js. */
const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** {@link addressKind} for a canonical dotted quad: a few comparisons instead of ipaddr.js's parsers (about 5 µs). */
function ipv4Kind(address: string, octets: readonly number[], addresses: LocalAddresses): AddressKind {
  const [a, b, c, d] = octets as [number, number, number, number];
  if (a > 255 || b > 255 || c > 255 || d > 255) return 'invalid';
  // The same ranges as ipaddr.js: 0.0.0.0/8 unspecified, 224.0.0.0/4 multicast, 127.0.0.0/8 loopback.
  if (a === 0) return 'unspecified';
  if (a >= 224 && a <= 239) return 'multicast';
  if ((a & b & c & d) === 255 || addresses.broadcast.has(address)) return 'broadcast';
  if (a === 127 || addresses.local.has(address)) return 'local';
  return 'other';
}
