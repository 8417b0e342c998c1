/**
 * Where `udpkit chat` announces itself (its entries and exits): the directed broadcast address
 * of every up IPv4 interface, plus chosen peers; and which peers those announcements reach, so
 * that the others get their goodbye by unicast.
 */
import ipaddr from 'ipaddr.js';
import type { NetworkInterface } from '../net/interfaces.js';
import type { IpmsgEndpoint } from '../protocol/ipmsg-session.js';
import { broadcastTargets } from './broadcast.js';
import { validatePort } from '../validate.js';

/**
 * Where entries and exits go, and which peers they reach (a broadcast reaches its whole subnet).
 * @internal exported for tests
 * @example chatAnnouncement({}, 2425, await listInterfaces()).targets // [{ address: '10.0.0.255', port: 2425 }]
 */
export function chatAnnouncement(
  options: { readonly announceTo?: readonly IpmsgEndpoint[] },
  port: number,
  interfaces: readonly NetworkInterface[] | undefined,
): { targets: IpmsgEndpoint[]; reach: (peer: IpmsgEndpoint) => boolean } {
  const targets: IpmsgEndpoint[] = [];
  const subnets: Array<[ipaddr.IPv4, number]> = [];
  if (interfaces !== undefined && interfaces.some((i) => !i.loopback && i.ipv4.some((a) => a.broadcast))) {
    for (const t of broadcastTargets(interfaces, { port })) targets.push({ address: t.address, port });
    for (const i of interfaces) for (const a of i.ipv4) if (a.broadcast && targets.some((t) => t.address === a.broadcast)) subnets.push([ipaddr.IPv4.parse(a.address), a.prefixLength]);
  }
  for (const p of options.announceTo ?? []) targets.push({ address: p.address, port: validatePort(p.port) });
  const reach = (peer: IpmsgEndpoint): boolean =>
    targets.some((t) => t.address === peer.address && t.port === peer.port) ||
    (peer.port === port && ipaddr.IPv4.isValidFourPartDecimal(peer.address) && subnets.some((net) => ipaddr.IPv4.parse(peer.address).match(net)));
  return { targets: targets.filter((t, i) => targets.findIndex((u) => u.address === t.address && u.port === t.port) === i), reach };
}
