/**
 * What iproute2 says about a network namespace (`ip -j addr`, `ip -j route`), as the
 * independent reference that `net/` is checked against.
 */
import { execFileSync } from 'node:child_process';

/** One link of `ip -j addr`. */
export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  operstate: string;
  link_type: string;
  address?: string;
  addr_info: Array<{ family: 'inet' | 'inet6'; local: string; prefixlen: number; broadcast?: string; scope: string; tentative?: boolean }>;
}

/** One route of `ip -j route`. */
export interface IpRoute {
  dst: string;
  gateway?: string;
  dev: string;
  metric?: number;
  prefsrc?: string;
}

/** Runs `ip -j ARGS`, inside `ns` when given. */
function ipJson<T>(args: readonly string[], ns?: string): T {
  const out = execFileSync('ip', [...(ns ? ['-n', ns] : []), '-j', ...args], { encoding: 'utf8', timeout: 10_000 });
  return JSON.parse(out) as T;
}

export const ipAddr = (ns?: string): IpLink[] => ipJson<IpLink[]>(['addr'], ns);

/** The default route with the lowest metric, as the kernel would pick it. */
export function ipDefaultRoute(ns?: string): IpRoute | undefined {
  const routes = ipJson<IpRoute[]>(['route', 'show', 'default'], ns);
  return routes.sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))[0];
}

/** What `udpkit info` should say for a link: `up`, `down` or `unknown`. */
export function stateOf(link: IpLink): string {
  if (!link.flags.includes('UP')) return 'down';
  return link.operstate === 'UP' ? 'up' : link.operstate === 'UNKNOWN' ? 'unknown' : 'down';
}

/** The primary interface by iproute2's account: the default route's, else the first up non-loopback with IPv4. */
export function ipPrimary(ns?: string): { interface: string; ipv4: string; mac: string } | undefined {
  const links = ipAddr(ns);
  const v4 = (l: IpLink) => l.addr_info.filter((a) => a.family === 'inet');
  const route = ipDefaultRoute(ns);
  const pick =
    links.find((l) => l.ifname === route?.dev && v4(l).length > 0 && stateOf(l) !== 'down') ??
    links.find((l) => l.link_type !== 'loopback' && v4(l).length > 0 && stateOf(l) !== 'down');
  if (!pick) return undefined;
  const addr = v4(pick).find((a) => a.local === route?.prefsrc) ?? v4(pick)[0]!;
  return { interface: pick.ifname, ipv4: addr.local, mac: pick.address ?? '' };
}

/** The lines `udpkit info` prints for one link, built from iproute2's view of it. */
export function expectedInterfaceLines(l: IpLink): string[] {
  const marks = [stateOf(l), l.address ? `mac ${l.address}` : 'no mac', l.link_type === 'loopback' && 'loopback', l.flags.includes('MULTICAST') && 'multicast'];
  return [
    `${l.ifname}: ${marks.filter(Boolean).join(', ')}`,
    ...l.addr_info.filter((a) => a.family === 'inet').map((a) => `  inet ${a.local}/${a.prefixlen}${a.broadcast ? ` brd ${a.broadcast}` : ''}`),
    ...l.addr_info.filter((a) => a.family === 'inet6').map((a) => `  inet6 ${a.local}/${a.prefixlen} scope ${a.scope}`),
  ];
}
