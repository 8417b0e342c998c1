/** Source-address allow-lists: which senders a listener shows. */
import ipaddr from 'ipaddr.js';
import { UdpkitTypeError } from '../errors.js';
import { ipFamily } from '../validate.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Parses CIDRs such as `192.168.1.0/24`, `fe80::/10`, or single addresses (a /32 or /128),
 * separated by commas. Throws a coded TypeError naming the first bad entry.
 * @example parseCidrList('10.0.0.0/8, ::1') // ['10.0.0.0/8', '::1/128']
 */
export function parseCidrList(value: string | readonly string[]): string[] {
  const items = (typeof value === 'string' ? value.split(',') : value.flatMap((v) => v.split(','))).map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UdpkitTypeError('UDPKIT_INVALID_ARGUMENT', 'the allow-list is empty; give CIDRs such as 192.168.1.0/24');
  return items.map((item) => {
    try {
      if (ipFamily(item.split('/')[0] ?? '') === undefined || item.includes('%')) throw new Error('not an address');
      if (item.includes('/')) {
        const [addr, bits] = ipaddr.parseCIDR(item);
        return `${addr.toString()}/${bits}`;
      }
      const addr = ipaddr.parse(item);
      return `${addr.toString()}/${addr.kind() === 'ipv4' ? 32 : 128}`;
    } catch {
      throw new UdpkitTypeError('UDPKIT_INVALID_ARGUMENT', `not an address or CIDR: ${JSON.stringify(item)} (e.g. 192.168.1.0/24, fe80::/10)`);
    }
  });
}

/**
 * A test for source addresses against CIDRs (from {@link parseCidrList}). An IPv4 address also
 * matches IPv4-mapped IPv6 ranges and the other way round. Decisions are cached per address,
 * so a flood from one sender costs one lookup each.
 * @example createAddressFilter(['127.0.0.0/8'])('127.0.0.2') // true
 */
export function createAddressFilter(cidrs: readonly string[]): (address: string) => boolean {
  const ranges: Range[] = cidrs.map((c) => ipaddr.parseCIDR(c));
  const cache = new Map<string, boolean>();
  const decide = (address: string): boolean => {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = ipaddr.process(address.replace(/%.*$/, ''));
    } catch {
      return false;
    }
    const mapped = addr.kind() === 'ipv4' ? (addr as ipaddr.IPv4).toIPv4MappedAddress() : undefined;
    return ranges.some(([net, bits]) => {
      if (net.kind() === addr.kind()) return addr.match(net, bits);
      return mapped !== undefined && mapped.match(net, bits);
    });
  };
  return (address) => {
    let ok = cache.get(address);
    if (ok === undefined) {
      ok = decide(address);
      if (cache.size >= 4096) cache.clear();
      cache.set(address, ok);
    }
    return ok;
  };
}
