/**
 * The page's Broadcast box is a promise: unticked, nothing goes to a broadcast address. The
 * library sets SO_BROADCAST by itself for such destinations (what the CLI wants), so the page
 * resolves the host once, refuses broadcast addresses unless asked, and sends to that address.
 */
import type os from 'node:os';
import ipaddr from 'ipaddr.js';
import { isBroadcastAddress } from '../net/broadcast-address.js';
import { resolveHost } from '../socket/resolve.js';
import type { Lookup } from '../types.js';
import type { SendForm } from './send-form.js';

/** What the gate may be given instead of the system's resolver and interfaces (tests). */
export interface GateOptions {
  readonly lookup?: Lookup;
  readonly interfaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  /** What a refusal says after `X is a broadcast address: `; default `tick Broadcast to send there`. */
  readonly refusal?: string;
}

/** The IPv4 address behind `address`, unwrapping `::ffff:a.b.c.d`; undefined for other IPv6. */
function asIPv4(address: string, family: 4 | 6): string | undefined {
  if (family === 4) return address;
  if (!ipaddr.IPv6.isValid(address)) return undefined;
  const v6 = ipaddr.IPv6.parse(address);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : undefined;
}

/**
 * The form with its host resolved to the address it will be sent to, or why it is refused: a
 * broadcast destination (255.255.255.255 or the directed broadcast of a local network) without
 * `broadcast`. A host that does not resolve is passed on as it is, for the send to report.
 * Any form with a host and a broadcast box goes through it (the Send form, the Bench form).
 * @example
 * const gated = await gateBroadcast(form);
 * if (typeof gated === 'string') return c.json({ error: gated }, 400);
 */
export async function gateBroadcast<F extends Pick<SendForm, 'host' | 'broadcast'>>(form: F, options: GateOptions = {}): Promise<F | string> {
  let resolved;
  try {
    resolved = await resolveHost(form.host, options.lookup ? { lookup: options.lookup } : {});
  } catch {
    return form;
  }
  const v4 = asIPv4(resolved.address, resolved.family);
  if (!form.broadcast && v4 !== undefined && isBroadcastAddress(v4, options.interfaces)) {
    const what = v4 === form.host ? v4 : `${form.host} (${v4})`;
    return `${what} is a broadcast address: ${options.refusal ?? 'tick Broadcast to send there'}`;
  }
  return { ...form, host: resolved.address };
}
