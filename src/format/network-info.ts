/** How `udpkit info` shows this machine's addresses: the textbook's two lines, then `ip`-like detail. */
import type { NetworkInterface } from '../net/interfaces.js';
import type { NetworkInfo } from '../net/network-info.js';

/** Which interfaces to show: by default neither loopback nor down ones. */
export interface InfoView {
  readonly all?: boolean;
}

function shown(info: NetworkInfo, view: InfoView): readonly NetworkInterface[] {
  return view.all ? info.interfaces : info.interfaces.filter((i) => !i.loopback && i.state !== 'down');
}

/**
 * The lines of one interface: a heading, then one line per address.
 * @example formatInterface(eth0) // ['eth0: up, mac 02:00:00:00:00:01, multicast', '  inet 10.0.0.2/24 brd 10.0.0.255']
 */
export function formatInterface(i: NetworkInterface): string[] {
  const marks = [i.state, i.mac ? `mac ${i.mac}` : 'no mac', i.loopback && 'loopback', i.multicast && 'multicast'];
  const lines = [`${i.name}: ${marks.filter(Boolean).join(', ')}`];
  for (const a of i.ipv4) lines.push(`  inet ${a.address}/${a.prefixLength}${a.broadcast ? ` brd ${a.broadcast}` : ''}`);
  for (const a of i.ipv6) lines.push(`  inet6 ${a.address}/${a.prefixLength} scope ${a.scope}`);
  return lines;
}

/**
 * The text of `udpkit info`: `IP: ...` and `MAC: ...` of the primary interface, the hosts-file
 * note if any, a blank line, then each interface.
 * @example formatNetworkInfo(info).slice(0, 2) // ['IP: 192.168.1.7', 'MAC: 02:00:00:00:00:01']
 */
export function formatNetworkInfo(info: NetworkInfo, view: InfoView = {}): string[] {
  const lines = [`IP: ${info.primary?.ipv4 ?? 'none'}`, `MAC: ${info.primary?.mac ?? 'none'}`];
  if (info.hostnameNote) lines.push(`note: ${info.hostnameNote}`);
  lines.push('');
  for (const i of shown(info, view)) lines.push(...formatInterface(i));
  return lines;
}

/**
 * The `--json` document of `udpkit info`: the same data, `primary` null when there is none.
 * @example JSON.parse(JSON.stringify(networkInfoJson(info))).primary.ipv4 // '192.168.1.7'
 */
export function networkInfoJson(info: NetworkInfo, view: InfoView = {}): object {
  return { ...info, primary: info.primary ?? null, interfaces: shown(info, view) };
}
