/**
 * The textbook's `gethostbyname(gethostname())` pitfall, detected from `/etc/hosts` alone (never
 * a DNS query): Debian and Ubuntu write `127.0.1.1 myhost` there, so that call answers with a
 * loopback address instead of the LAN one.
 */
import ipaddr from 'ipaddr.js';
import { readersOf, readOptional, type NetOsOptions } from './os-readers.js';

/** One line of a hosts file. */
export interface HostsEntry {
  readonly address: string;
  readonly names: readonly string[];
}

/**
 * Parses hosts-file text; comments, blank lines and lines without a valid address are skipped.
 * @example parseHostsFile('127.0.1.1 myhost.example myhost # Debian') // [{ address: '127.0.1.1', names: ['myhost.example', 'myhost'] }]
 */
export function parseHostsFile(text: string): HostsEntry[] {
  const entries: HostsEntry[] = [];
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (address && names.length > 0 && ipaddr.isValid(address.replace(/%.*$/, ''))) entries.push({ address, names });
  }
  return entries;
}

/**
 * The address the hosts file gives `hostname` for IPv4, as the resolver's `files` source does:
 * the first matching line, names compared without regard to case.
 * @example hostsFileAddress(parseHostsFile('127.0.1.1 vm'), 'VM') // '127.0.1.1'
 */
export function hostsFileAddress(entries: readonly HostsEntry[], hostname: string): string | undefined {
  const wanted = hostname.toLowerCase();
  return entries.find((e) => ipaddr.IPv4.isValidFourPartDecimal(e.address) && e.names.some((n) => n.toLowerCase() === wanted))?.address;
}

/**
 * The note to show when the hosts file maps `hostname` to a loopback address, else `undefined`.
 * @example loopbackNoteFor('vm', '127.0.1.1 vm\n') // '/etc/hosts maps this machine\'s name "vm" to 127.0.1.1, so ...'
 */
export function loopbackNoteFor(hostname: string, hostsText: string): string | undefined {
  const address = hostsFileAddress(parseHostsFile(hostsText), hostname);
  if (address === undefined || ipaddr.IPv4.parse(address).range() !== 'loopback') return undefined;
  return (
    `/etc/hosts maps this machine's name "${hostname}" to ${address}, so the textbook's ` +
    `gethostbyname(gethostname()) returns ${address}, a loopback address no other host can reach; ` +
    `udpkit reads the interfaces instead`
  );
}

/**
 * Reads `/etc/hosts` and returns the loopback note for this machine's name, if it applies.
 * Makes no DNS query.
 * @example const note = await hostnameLoopbackNote(); if (note) console.error(note);
 */
export async function hostnameLoopbackNote(options: NetOsOptions = {}): Promise<string | undefined> {
  const readers = readersOf(options);
  const text = await readOptional(readers, '/etc/hosts');
  return text === undefined ? undefined : loopbackNoteFor(readers.hostname(), text);
}
