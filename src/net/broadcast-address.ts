import os from 'node:os';
import ipaddr from 'ipaddr.js';

/** The limited broadcast address: every host on the local link. */
export const LIMITED_BROADCAST = '255.255.255.255';

/**
 * The directed broadcast address of an IPv4 interface address and netmask, or `undefined` for
 * prefixes with no broadcast (/31, /32).
 * @example directedBroadcast('192.168.1.7', '255.255.255.0') // '192.168.1.255'
 */
export function directedBroadcast(address: string, netmask: string): string | undefined {
  const prefix = ipaddr.IPv4.parse(netmask).prefixLengthFromSubnetMask();
  if (prefix === null || prefix >= 31) return undefined;
  return ipaddr.IPv4.broadcastAddressFromCIDR(`${address}/${prefix}`).toString();
}

/**
 * True when `address` is the limited broadcast address or the directed broadcast address of one
 * of this machine's IPv4 interfaces (so SO_BROADCAST is needed to send there).
 * @param interfaces defaults to `os.networkInterfaces()` (read only when needed); pass a fixture in tests.
 */
export function isBroadcastAddress(address: string, interfaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]>): boolean {
  if (address === LIMITED_BROADCAST) return true;
  // A broadcast address has all host bits set, so for any prefix up to /30 its last two bits are
  // 1; anything else cannot be one, and the interface list (slow to read) is not needed.
  const last = Number(address.slice(address.lastIndexOf('.') + 1));
  if ((last & 3) !== 3) return false;
  for (const list of Object.values(interfaces ?? os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && directedBroadcast(a.address, a.netmask) === address) return true;
    }
  }
  return false;
}
