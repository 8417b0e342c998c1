/**
 * The kernel routing table, as Linux shows it in `/proc/net/route` (IPv4: addresses are 32-bit
 * words printed in hex in host byte order, i.e. little-endian on x86 and ARM) and
 * `/proc/net/ipv6_route` (IPv6: 32 hex digits in network order). The parsers are pure; only
 * {@link readRoutes} touches the OS, through injectable readers.
 */
import ipaddr from 'ipaddr.js';
import { readersOf, readOptional, type NetOsOptions } from './os-readers.js';

/** Route flags from `<linux/route.h>`. */
export const RTF_UP = 0x0001;
export const RTF_REJECT = 0x0200;

/** Fields shared by IPv4 and IPv6 routes. */
export interface Route {
  /** The interface the route sends out of. */
  readonly iface: string;
  readonly destination: string;
  readonly prefixLength: number;
  /** The next hop; `0.0.0.0` or `::` when the destination is on the link. */
  readonly gateway: string;
  readonly metric: number;
  /** `RTF_*` bits. */
  readonly flags: number;
}

/** One row of `/proc/net/route`. */
export interface Ipv4Route extends Route {
  readonly netmask: string;
}

/** One row of `/proc/net/ipv6_route`. */
export type Ipv6Route = Route;

/** Both routing tables; empty where the OS has no such file. */
export interface RoutingTables {
  readonly ipv4: readonly Ipv4Route[];
  readonly ipv6: readonly Ipv6Route[];
}

/** `0100007F` -> `127.0.0.1`: the first address byte is the word's lowest. */
function hexToIpv4(hex: string): string | undefined {
  if (!/^[0-9a-f]{8}$/i.test(hex)) return undefined;
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
}

/** 32 hex digits in network order -> compact IPv6 text. */
function hexToIpv6(hex: string): string | undefined {
  if (!/^[0-9a-f]{32}$/i.test(hex)) return undefined;
  return ipaddr.IPv6.parse(hex.match(/.{4}/g)!.join(':')).toString();
}

function rows(text: string): string[][] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 1);
}

/**
 * Parses the text of `/proc/net/route`. The header and malformed rows are skipped.
 * @example
 * parseRouteTable('Iface\tDestination\tGateway ...\neth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n')
 * // [{ iface: 'eth0', destination: '0.0.0.0', gateway: '192.168.1.1', netmask: '0.0.0.0', prefixLength: 0, flags: 3, metric: 100 }]
 */
export function parseRouteTable(text: string): Ipv4Route[] {
  const routes: Ipv4Route[] = [];
  for (const [iface, dest, gw, flags, , , metric, mask] of rows(text)) {
    const destination = hexToIpv4(dest ?? '');
    const gateway = hexToIpv4(gw ?? '');
    const netmask = hexToIpv4(mask ?? '');
    if (!iface || !destination || !gateway || !netmask || !/^[0-9a-f]+$/i.test(flags ?? '') || !/^\d+$/.test(metric ?? '')) continue;
    const prefixLength = ipaddr.IPv4.parse(netmask).prefixLengthFromSubnetMask();
    if (prefixLength === null) continue;
    routes.push({ iface, destination, gateway, netmask, prefixLength, flags: Number.parseInt(flags!, 16), metric: Number(metric) });
  }
  return routes;
}

/**
 * Parses the text of `/proc/net/ipv6_route` (no header; every number is hex).
 * @example
 * parseIpv6RouteTable('00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n')
 * // [{ iface: 'eth0', destination: '::', prefixLength: 0, gateway: 'fe80::1', metric: 1024, flags: 3 }]
 */
export function parseIpv6RouteTable(text: string): Ipv6Route[] {
  const routes: Ipv6Route[] = [];
  for (const [dest, destLen, , , next, metric, , , flags, iface] of rows(text)) {
    const destination = hexToIpv6(dest ?? '');
    const gateway = hexToIpv6(next ?? '');
    const numbers = [destLen, metric, flags].map((h) => (/^[0-9a-f]+$/i.test(h ?? '') ? Number.parseInt(h!, 16) : NaN));
    if (!iface || !destination || !gateway || numbers.some(Number.isNaN)) continue;
    const [prefixLength, metricN, flagsN] = numbers as [number, number, number];
    routes.push({ iface, destination, prefixLength, gateway, metric: metricN, flags: flagsN });
  }
  return routes;
}

/**
 * The default route: destination 0.0.0.0/0 (or ::/0), flagged up and not a reject route, with
 * the lowest metric (the first of equals, as the kernel lists them).
 * @example defaultRoute(parseRouteTable(text))?.iface // 'eth0'
 */
export function defaultRoute<R extends Route>(routes: readonly R[]): R | undefined {
  let best: R | undefined;
  for (const r of routes) {
    if (r.prefixLength !== 0 || (r.flags & RTF_UP) === 0 || (r.flags & RTF_REJECT) !== 0) continue;
    if (!best || r.metric < best.metric) best = r;
  }
  return best;
}

/**
 * Reads both routing tables. Where a table cannot be read (another OS, IPv6 disabled) it is
 * empty rather than an error: callers then fall back to the interface list.
 * @example (await readRoutes()).ipv4.find((r) => r.prefixLength === 0)?.gateway
 */
export async function readRoutes(options: NetOsOptions = {}): Promise<RoutingTables> {
  const readers = readersOf(options);
  const [v4, v6] = await Promise.all([readOptional(readers, '/proc/net/route'), readOptional(readers, '/proc/net/ipv6_route')]);
  return { ipv4: parseRouteTable(v4 ?? ''), ipv6: parseIpv6RouteTable(v6 ?? '') };
}
