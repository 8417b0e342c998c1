/**
 * Multicast on node:dgram sockets: which addresses are groups, the interface a membership or a
 * send uses, joining groups on a listener's socket and a sender's TTL, interface and loopback.
 * The native backend has no multicast support, so every multicast socket is a dgram one.
 */
import type dgram from 'node:dgram';
import ipaddr from 'ipaddr.js';
import { UdpkitError, UdpkitRangeError, describeErrno, errnoOf, optionPhrase } from '../errors.js';
import { listInterfaces, type NetworkInterface } from '../net/interfaces.js';
import type { NetOsOptions } from '../net/os-readers.js';
import { ipFamily } from '../validate.js';

/** Multicast TTL a sender uses unless told otherwise: the datagrams stay on the local link. */
export const DEFAULT_MULTICAST_TTL = 1;

/**
 * True for an IPv4 group (224.0.0.0/4) or an IPv6 one (ff00::/8, optionally with `%scope`).
 * @example isMulticastAddress('239.77.0.1') // true
 */
export function isMulticastAddress(address: string): boolean {
  const family = ipFamily(address);
  if (family === undefined) return false;
  const ip = ipaddr.parse(address.replace(/%.*$/, ''));
  return ip.range() === 'multicast';
}

/** Validated groups, all of one family. */
export interface MulticastGroups {
  readonly groups: readonly string[];
  readonly family: 4 | 6;
}

/**
 * Checks a group list (`'239.1.1.1,239.1.1.2'` or an array of them): every entry a multicast
 * address, all of one family. Throws `UDPKIT_INVALID_ARGUMENT` otherwise.
 * @example validateGroups('239.77.0.1') // { groups: ['239.77.0.1'], family: 4 }
 */
export function validateGroups(value: string | readonly string[], name = 'join'): MulticastGroups {
  const list = (typeof value === 'string' ? [value] : [...value]).flatMap((v) => String(v).split(',')).map((s) => s.trim().replace(/^\[|\]$/g, ''));
  if (list.length === 0 || list.some((g) => g === '')) {
    throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `${name} takes multicast group addresses, got ${JSON.stringify(String(value))}`);
  }
  let family: 4 | 6 | undefined;
  for (const g of list) {
    if (!isMulticastAddress(g)) {
      throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `${name}: ${JSON.stringify(g)} is not a multicast group (IPv4 224.0.0.0/4 or IPv6 ff00::/8)`);
    }
    const f = ipFamily(g)!;
    if (family !== undefined && f !== family) {
      throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `${name}: groups must all be IPv4 or all IPv6, got ${list.join(',')}`);
    }
    family = f;
  }
  return { groups: list, family: family! };
}

/** Checks a source address for a source-specific membership: an IP literal of the groups' family. */
export function validateSource(value: string, family: 4 | 6, name = 'source'): string {
  const source = value.trim().replace(/^\[|\]$/g, '');
  if (ipFamily(source) !== family) {
    throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `${name} takes an IPv${family} address (the groups are IPv${family}), got ${JSON.stringify(value)}`);
  }
  return source;
}

/** Checks a multicast TTL (hop limit): 0 to 255. */
export function validateTtl(value: unknown, name = 'ttl'): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 255) {
    throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `${name} must be a whole number from 0 to 255, got ${JSON.stringify(String(value))}`);
  }
  return n;
}

/**
 * What node:dgram wants as a multicast interface: an IPv4 address of it (IPv4), or `::%NAME`
 * (IPv6). Takes an interface name or an address; `interfaces` is the machine's list.
 * @example multicastInterfaceFor('eth0', 4, interfaces) // '10.77.0.2'
 */
export function multicastInterfaceFor(value: string, family: 4 | 6, interfaces: readonly NetworkInterface[]): string {
  const v = value.trim().replace(/^\[|\]$/g, '');
  const literal = ipFamily(v);
  if (literal === 4) {
    if (family === 6) throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `iface: ${v} is an IPv4 address; IPv6 groups need an interface name`);
    return v;
  }
  if (literal === 6) {
    if (family === 4) throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `iface: ${v} is an IPv6 address; IPv4 groups need an interface name or IPv4 address`);
    const scope = v.includes('%') ? v.slice(v.indexOf('%') + 1) : interfaces.find((i) => i.ipv6.some((a) => a.address === v))?.name;
    if (scope === undefined) throw new UdpkitError('UDPKIT_NO_INTERFACE', `no interface has address ${v}`);
    return `::%${scope}`;
  }
  const iface = interfaces.find((i) => i.name === v);
  if (!iface) throw new UdpkitError('UDPKIT_NO_INTERFACE', `no interface named ${v}`);
  if (family === 6) return `::%${iface.name}`;
  const first = iface.ipv4[0];
  if (!first) throw new UdpkitError('UDPKIT_NO_INTERFACE', `interface ${v} has no IPv4 address`);
  return first.address;
}

/** {@link multicastInterfaceFor} over this machine's interfaces (read only when a name needs it). */
export async function resolveMulticastInterface(value: string, family: 4 | 6, os: NetOsOptions = {}): Promise<string> {
  const v = value.trim().replace(/^\[|\]$/g, '');
  const needsList = ipFamily(v) === undefined || (ipFamily(v) === 6 && !v.includes('%'));
  return multicastInterfaceFor(value, family, needsList ? await listInterfaces(os) : []);
}

/** What a listener joins. */
export interface Membership {
  readonly groups: readonly string[];
  /** As {@link resolveMulticastInterface} returns it. */
  readonly iface?: string;
  readonly source?: string;
}

/** The part of a dgram socket that joins groups (a seam for tests). */
export type MembershipSocket = Pick<dgram.Socket, 'addMembership' | 'addSourceSpecificMembership'>;

/** Joins every group; throws `UDPKIT_IO_FAILED` naming the group where the OS refuses. */
export function joinGroups(socket: MembershipSocket, m: Membership): void {
  for (const group of m.groups) {
    try {
      if (m.source !== undefined) socket.addSourceSpecificMembership(m.source, group, m.iface);
      else socket.addMembership(group, m.iface);
    } catch (err) {
      const what = m.source !== undefined ? `(${m.source}, ${group})` : group;
      const where = m.iface !== undefined ? ` on ${m.iface}` : '';
      // Without an interface the kernel picks one by routing the group; with no route (no
      // default route, no 224.0.0.0/4 route) it says ENODEV, which helps nobody by itself.
      const why =
        errnoOf(err) === 'ENODEV' && m.iface === undefined
          ? `no route says which interface to join it on; name one with ${optionPhrase('iface')}`
          : describeErrno(errnoOf(err));
      throw new UdpkitError('UDPKIT_IO_FAILED', `cannot join multicast group ${what}${where}: ${why}`, {
        syscall: 'setsockopt',
        address: group,
        errno: errnoOf(err),
        ...(errnoOf(err) === 'ENODEV' && m.iface === undefined ? { option: 'iface' } : {}),
        cause: err,
      });
    }
  }
}

/** How a sender sends to a group. */
export interface MulticastSend {
  readonly ttl: number;
  readonly loopback: boolean;
  /** As {@link resolveMulticastInterface} returns it. */
  readonly iface?: string;
}

/**
 * A sender's multicast settings from its options, checked: TTL 1 and loopback on unless told.
 * @example await multicastSendOptions({ ttl: 4 }, 4) // { ttl: 4, loopback: true }
 */
export async function multicastSendOptions(
  options: { readonly ttl?: number; readonly multicastInterface?: string; readonly multicastLoopback?: boolean },
  family: 4 | 6,
  os: NetOsOptions = {},
): Promise<MulticastSend> {
  const ttl = validateTtl(options.ttl ?? DEFAULT_MULTICAST_TTL);
  const iface = options.multicastInterface === undefined ? undefined : await resolveMulticastInterface(options.multicastInterface, family, os);
  return { ttl, loopback: options.multicastLoopback ?? true, ...(iface !== undefined ? { iface } : {}) };
}

/** The part of a dgram socket that sets multicast send options (a seam for tests). */
export type MulticastSendSocket = Pick<dgram.Socket, 'setMulticastTTL' | 'setMulticastLoopback' | 'setMulticastInterface'>;

/** Sets TTL, loopback and interface on a bound socket; OS errors are thrown as they come. */
export function applyMulticastSend(socket: MulticastSendSocket, m: MulticastSend): void {
  socket.setMulticastTTL(m.ttl);
  socket.setMulticastLoopback(m.loopback);
  if (m.iface !== undefined) socket.setMulticastInterface(m.iface);
}
