/** Everything `udpkit info` shows, as one read-only value: the library side of that command. */
import { hostnameLoopbackNote } from './hosts-file.js';
import { listInterfaces, type NetworkInterface } from './interfaces.js';
import { readersOf, type NetOsOptions } from './os-readers.js';
import { selectPrimary, type PrimaryInterface } from './primary.js';
import { readRoutes } from './routes.js';

/** This machine's name, primary address and interfaces. */
export interface NetworkInfo {
  readonly hostname: string;
  /** The interface carrying the default route; `undefined` when no interface has IPv4. */
  readonly primary: PrimaryInterface | undefined;
  /** Set when /etc/hosts maps the hostname to a loopback address (the textbook's pitfall). */
  readonly hostnameNote?: string;
  /** Every interface, loopback and down ones included, in `ip link` order. */
  readonly interfaces: readonly NetworkInterface[];
}

/**
 * Reads this machine's network identity without any DNS query. The OS readers can be replaced
 * (tests pass fixtures).
 * @example
 * const info = await networkInfo();
 * console.log(`IP: ${info.primary?.ipv4}`, `MAC: ${info.primary?.mac}`);
 */
export async function networkInfo(options: NetOsOptions = {}): Promise<NetworkInfo> {
  const readers = readersOf(options);
  const [interfaces, routes, hostnameNote] = await Promise.all([listInterfaces(readers), readRoutes(readers), hostnameLoopbackNote(readers)]);
  return {
    hostname: readers.hostname(),
    primary: selectPrimary(interfaces, routes.ipv4),
    ...(hostnameNote ? { hostnameNote } : {}),
    interfaces,
  };
}
