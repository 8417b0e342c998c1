/**
 * This machine's primary address: the IPv4 address and MAC of the interface that carries the
 * default route, which is what the textbook's `gethostbyname(gethostname())` and
 * `uuid.getnode()` were after. Chosen from OS data, never from a name lookup.
 */
import ipaddr from 'ipaddr.js';
import { UdpkitError } from '../errors.js';
import { isInterfaceUp, listInterfaces, type Ipv4Address, type NetworkInterface } from './interfaces.js';
import type { NetOsOptions } from './os-readers.js';
import { defaultRoute, readRoutes, type Ipv4Route } from './routes.js';

/** The primary interface, its IPv4 address and MAC. */
export interface PrimaryInterface {
  readonly interface: string;
  readonly ipv4: string;
  /** Absent when the interface has no hardware address (tun, some VPNs). */
  readonly mac?: string;
}

function inSubnet(address: string, net: Ipv4Address): boolean {
  return ipaddr.IPv4.parse(address).match(ipaddr.IPv4.parse(net.address), net.prefixLength);
}

function primaryOf(iface: NetworkInterface, gateway?: string): PrimaryInterface | undefined {
  const onLink = gateway === undefined ? undefined : iface.ipv4.find((a) => inSubnet(gateway, a));
  const address = onLink ?? iface.ipv4[0];
  if (!address) return undefined;
  return { interface: iface.name, ipv4: address.address, ...(iface.mac ? { mac: iface.mac } : {}) };
}

/**
 * Picks the primary interface: the one carrying the default route (its address on the
 * gateway's subnet when it has several); else the first up, non-loopback interface with an IPv4
 * address; loopback only when there is nothing else; `undefined` when no interface has IPv4.
 * @example selectPrimary(await listInterfaces(), (await readRoutes()).ipv4)?.ipv4 // '192.168.1.7'
 */
export function selectPrimary(interfaces: readonly NetworkInterface[], routes: readonly Ipv4Route[]): PrimaryInterface | undefined {
  const usable = interfaces.filter((i) => isInterfaceUp(i) && i.ipv4.length > 0);
  const real = usable.filter((i) => !i.loopback);
  const route = defaultRoute(routes);
  const viaRoute = route && real.find((i) => i.name === route.iface);
  if (viaRoute) return primaryOf(viaRoute, route.gateway === '0.0.0.0' ? undefined : route.gateway);
  const fallback = real[0] ?? usable[0] ?? interfaces.find((i) => i.ipv4.length > 0);
  return fallback && primaryOf(fallback);
}

/**
 * This machine's primary interface, read from the routing table and the interface list.
 * Rejects with `UDPKIT_NO_INTERFACE` when no interface has an IPv4 address.
 * @example
 * const { ipv4, mac } = await primaryInterface();
 * console.log(`IP: ${ipv4}`, `MAC: ${mac}`);
 */
export async function primaryInterface(options: NetOsOptions = {}): Promise<PrimaryInterface> {
  const [interfaces, routes] = await Promise.all([listInterfaces(options), readRoutes(options)]);
  const primary = selectPrimary(interfaces, routes.ipv4);
  if (!primary) throw new UdpkitError('UDPKIT_NO_INTERFACE', 'no network interface has an IPv4 address');
  return primary;
}
