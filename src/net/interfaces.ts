/**
 * This machine's network interfaces, from two sources: `os.networkInterfaces()` for addresses
 * (it lists only interfaces that have one and are up) and `/sys/class/net` for every link,
 * including those without an address or down, with its state, flags and MAC.
 */
import type os from 'node:os';
import ipaddr from 'ipaddr.js';
import { directedBroadcast } from './broadcast-address.js';
import { readersOf, readOptional, type NetOsOptions, type NetOsReaders } from './os-readers.js';

/** Interface flags from `<linux/if.h>`, as `/sys/class/net/NAME/flags` shows them. */
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_MULTICAST = 0x1000;

/** `'unknown'` is what loopback, tun and ppp links report while carrying traffic. */
export type InterfaceState = 'up' | 'down' | 'unknown';

/** Where an IPv6 address is valid, judged from the address itself. */
export type Ipv6Scope = 'host' | 'link' | 'site' | 'global';

/** An IPv4 address of an interface. */
export interface Ipv4Address {
  readonly address: string;
  readonly prefixLength: number;
  readonly netmask: string;
  /** The directed broadcast address; absent on links without broadcast and on /31, /32. */
  readonly broadcast?: string;
}

/** An IPv6 address of an interface. */
export interface Ipv6Address {
  readonly address: string;
  readonly prefixLength: number;
  readonly scope: Ipv6Scope;
  /** The scope id (interface index) that link-local addresses need as `%id`. */
  readonly scopeId: number;
}

/** One network interface. */
export interface NetworkInterface {
  readonly name: string;
  readonly state: InterfaceState;
  /** `aa:bb:cc:dd:ee:ff`; absent for links without one (tun, some VPNs). */
  readonly mac?: string;
  readonly loopback: boolean;
  /** IFF_BROADCAST: the link has a broadcast domain (Ethernet, Wi-Fi; not loopback or tun). */
  readonly broadcast: boolean;
  /** IFF_MULTICAST: the link can send and receive multicast. */
  readonly multicast: boolean;
  readonly ipv4: readonly Ipv4Address[];
  readonly ipv6: readonly Ipv6Address[];
}

/** What `/sys/class/net/NAME` says about one link; fields it could not read are absent. */
export interface SysfsLink {
  readonly name: string;
  readonly ifindex?: number;
  readonly operstate?: string;
  readonly flags?: number;
  readonly address?: string;
}

const DOWN_OPERSTATES = new Set(['down', 'lowerlayerdown', 'notpresent', 'dormant', 'testing']);

function stateOf(link: SysfsLink | undefined): InterfaceState {
  // libuv lists only interfaces that are up and running, so one known only from there is up.
  if (link === undefined) return 'up';
  if (link.flags !== undefined && (link.flags & IFF_UP) === 0) return 'down';
  if (link.operstate === 'up') return 'up';
  return DOWN_OPERSTATES.has(link.operstate ?? '') ? 'down' : 'unknown';
}

/**
 * The scope of an IPv6 address.
 * @example ipv6Scope('fe80::1') // 'link'
 */
export function ipv6Scope(address: string): Ipv6Scope {
  const addr = ipaddr.IPv6.parse(address.replace(/%.*$/, ''));
  const range = addr.range();
  if (range === 'loopback') return 'host';
  if (range === 'linkLocal') return 'link';
  if (((addr.parts[0] ?? 0) & 0xffc0) === 0xfec0) return 'site';
  return 'global';
}

const ZERO_MAC = '00:00:00:00:00:00';

function buildOne(name: string, link: SysfsLink | undefined, entries: readonly os.NetworkInterfaceInfo[]): NetworkInterface {
  const loopback = link?.flags !== undefined ? (link.flags & IFF_LOOPBACK) !== 0 : entries.some((e) => e.internal);
  const canBroadcast = link?.flags !== undefined ? (link.flags & IFF_BROADCAST) !== 0 : !loopback;
  const fallbackMac = entries.find((e) => e.mac !== ZERO_MAC)?.mac;
  const mac = link?.address ? link.address.toLowerCase() : fallbackMac;
  const ipv4: Ipv4Address[] = [];
  const ipv6: Ipv6Address[] = [];
  for (const e of entries) {
    if (e.family === 'IPv4') {
      const prefixLength = ipaddr.IPv4.parse(e.netmask).prefixLengthFromSubnetMask() ?? 32;
      const broadcast = canBroadcast ? directedBroadcast(e.address, e.netmask) : undefined;
      ipv4.push({ address: e.address, prefixLength, netmask: e.netmask, ...(broadcast ? { broadcast } : {}) });
    } else {
      const prefixLength = ipaddr.IPv6.parse(e.netmask).prefixLengthFromSubnetMask() ?? 128;
      ipv6.push({ address: e.address, prefixLength, scope: ipv6Scope(e.address), scopeId: e.scopeid ?? 0 });
    }
  }
  return {
    name,
    state: stateOf(link),
    ...(mac ? { mac } : {}),
    loopback,
    broadcast: canBroadcast,
    multicast: link?.flags !== undefined ? (link.flags & IFF_MULTICAST) !== 0 : false,
    ipv4,
    ipv6,
  };
}

/**
 * Merges the links of `/sys/class/net` (ordered by index, like `ip link`) with the addresses of
 * `os.networkInterfaces()`. An alias label such as `eth0:1` joins its link `eth0`.
 * @example
 * buildInterfaces([{ name: 'eth0', ifindex: 2, operstate: 'up', flags: 0x1003, address: '02:00:00:00:00:01' }], os.networkInterfaces())
 */
export function buildInterfaces(links: readonly SysfsLink[], addresses: NodeJS.Dict<os.NetworkInterfaceInfo[]>): NetworkInterface[] {
  const byName = new Map(links.map((l) => [l.name, l]));
  const entries = new Map<string, os.NetworkInterfaceInfo[]>();
  for (const [label, list] of Object.entries(addresses)) {
    const base = label.split(':')[0] ?? label;
    const name = byName.has(label) || !byName.has(base) ? label : base;
    entries.set(name, [...(entries.get(name) ?? []), ...(list ?? [])]);
  }
  const ordered = [...links].sort((a, b) => (a.ifindex ?? Infinity) - (b.ifindex ?? Infinity)).map((l) => l.name);
  const names = [...ordered, ...[...entries.keys()].filter((n) => !byName.has(n))];
  return names.map((name) => buildOne(name, byName.get(name), entries.get(name) ?? []));
}

/**
 * Reads every link under `/sys/class/net`; none where there is no sysfs (other OSes).
 * @example (await readSysfsLinks(systemReaders)).map((l) => l.name) // ['lo', 'eth0']
 */
export async function readSysfsLinks(readers: NetOsReaders): Promise<SysfsLink[]> {
  let names: readonly string[];
  try {
    names = await readers.listDir('/sys/class/net');
  } catch {
    return [];
  }
  const links = await Promise.all(
    names.map(async (name): Promise<SysfsLink | undefined> => {
      const read = (file: string) => readOptional(readers, `/sys/class/net/${name}/${file}`).then((t) => t?.trim());
      const [ifindex, operstate, flags, address] = await Promise.all(['ifindex', 'operstate', 'flags', 'address'].map(read));
      // Not a link (e.g. the file bonding_masters) when it has neither flags nor a state.
      if (flags === undefined && operstate === undefined) return undefined;
      return {
        name,
        ...(ifindex && /^\d+$/.test(ifindex) ? { ifindex: Number(ifindex) } : {}),
        ...(operstate ? { operstate } : {}),
        ...(flags && /^0x[0-9a-f]+$/i.test(flags) ? { flags: Number.parseInt(flags, 16) } : {}),
        ...(address ? { address } : {}),
      };
    }),
  );
  return links.filter((l): l is SysfsLink => l !== undefined);
}

/**
 * Lists every network interface: with an address or not, up or down.
 * @example
 * for (const i of await listInterfaces()) console.log(i.name, i.state, i.ipv4.map((a) => a.address));
 */
export async function listInterfaces(options: NetOsOptions = {}): Promise<NetworkInterface[]> {
  const readers = readersOf(options);
  return buildInterfaces(await readSysfsLinks(readers), readers.networkInterfaces());
}

/**
 * True for an interface that can carry traffic now (`'unknown'` counts: see {@link InterfaceState}).
 * @example (await listInterfaces()).filter(isInterfaceUp)
 */
export function isInterfaceUp(iface: NetworkInterface): boolean {
  return iface.state !== 'down';
}
