/**
 * The receiving side's entry point: {@link listen} binds one UDP socket to a port, dual-stack by
 * default, and returns a {@link Listener} (listener-socket.ts) that hands out what arrives.
 * Options are checked here, before any socket exists; multicast memberships are resolved here.
 */
import { UdpkitError, UdpkitRangeError, describeErrno, errnoOf } from '../errors.js';
import { createAddressFilter, parseCidrList } from '../net/address-filter.js';
import { DEFAULT_PORT, validatePort } from '../validate.js';
import { Admission } from './admission.js';
import { openBackend } from '../socket/open-backend.js';
import { openMulticastBackend } from '../socket/multicast-backend.js';
import { resolveMulticastInterface, validateGroups, validateSource, type Membership } from '../socket/multicast.js';
import { loadSealing } from '../socket/sealing.js';
import { Listener } from './listener-socket.js';

export { DEFAULT_PORT } from '../validate.js';
export type { RefusalReason } from './admission.js';
export type { EchoStats } from './echo.js';
export { Listener, DEFAULT_DRAIN_MS, type BoundAddress, type ListenerStats, type ListenerBatchHandler } from './listener-socket.js';

/** Receive buffer requested by default; Linux caps it at net.core.rmem_max. */
export const DEFAULT_RECEIVE_BUFFER = 8 * 1024 * 1024;

/** Options of {@link listen}. */
export interface ListenOptions {
  /** UDP port, 0 to let the OS choose; default 5000. */
  readonly port?: number;
  /** Address to bind; default every address, IPv4 and IPv6 through one dual-stack socket. */
  readonly address?: string;
  /** 4 or 6 for one family only; 0 (default) for both. */
  readonly family?: 0 | 4 | 6;
  /** SO_RCVBUF to ask for, in bytes; default 8 MB (the kernel may give less). */
  readonly receiveBufferSize?: number;
  /** Let other sockets bind the same port (SO_REUSEADDR). */
  readonly reuseAddress?: boolean;
  /** Datagrams the async iterator holds for a slow consumer before it drops (counted). */
  readonly maxQueue?: number;
  /** Only show datagrams from these sources: CIDRs or addresses (`192.168.1.0/24`, `fe80::/10`). */
  readonly allow?: string | readonly string[];
  /**
   * A shared secret: accept only datagrams sealed with it (see docs/protocol.md), and seal
   * replies. Plain, forged, corrupted, stale and replayed datagrams are refused.
   */
  readonly key?: string | Uint8Array;
  /**
   * Acknowledge and order `send --ack` messages (reliable DATA frames), handing each out once, in
   * order per sender session; default true. False shows the frames as they are.
   */
  readonly reliable?: boolean;
  /** Set SO_BROADCAST, so that {@link Listener.sendTo} may send to broadcast addresses. */
  readonly broadcast?: boolean;
  /**
   * Multicast groups to join, all IPv4 (224.0.0.0/4) or all IPv6 (ff00::/8): an array or a
   * comma-separated list. Binds that family only (unless `address` says otherwise) and uses
   * node:dgram even when the native addon is built.
   * @example await listen({ port: 5007, join: '239.77.0.1', reuseAddress: true })
   */
  readonly join?: string | readonly string[];
  /** With `join`: the interface for the memberships, a name (`eth0`) or one of its addresses. */
  readonly iface?: string;
  /** With `join`: only datagrams from this source (source-specific multicast). */
  readonly source?: string;
  /** Closes the listener when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * Binds a UDP port and starts receiving. Resolves once bound.
 * @example
 * const listener = await listen({ port: 0 });
 * console.log(listener.address().port);
 * for await (const d of listener) {
 *   console.log(d.text, d.from.address);
 *   if (d.text === 'bye') break;
 * }
 * await listener.close();
 */
export async function listen(options: ListenOptions = {}): Promise<Listener> {
  const port = validatePort(options.port ?? DEFAULT_PORT, { allowZero: true });
  const allowed = options.allow === undefined ? undefined : createAddressFilter(parseCidrList(options.allow));
  const sealing = options.key === undefined ? undefined : await loadSealing(options.key);
  const membership = await membershipOf(options);
  const request = {
    port,
    family: membership ? membership.family : options.family ?? 0,
    ...(options.address !== undefined ? { address: options.address } : {}),
    ...(options.reuseAddress !== undefined ? { reuseAddress: options.reuseAddress } : {}),
  };
  const backend = membership ? await openMulticastBackend(request, membership) : await openBackend(request);
  try {
    backend.setReceiveBufferSize(options.receiveBufferSize ?? DEFAULT_RECEIVE_BUFFER);
  } catch {
    // The kernel keeps its default; the listener still works.
  }
  if (options.broadcast === true) {
    try {
      backend.setBroadcast(true);
    } catch (err) {
      await backend.close();
      throw new UdpkitError('UDPKIT_IO_FAILED', `cannot allow broadcast on port ${port}/udp: ${describeErrno(errnoOf(err))}`, { syscall: 'setsockopt', errno: errnoOf(err), cause: err });
    }
  }
  const admission = allowed || sealing ? new Admission(allowed, sealing?.opener, backend.address().port) : undefined;
  const listener = new Listener(backend, {
    maxQueue: options.maxQueue ?? 10_000,
    reliable: options.reliable ?? true,
    ...(admission ? { admission } : {}),
    ...(sealing ? { sealer: sealing.sealer } : {}),
  });
  const signal = options.signal;
  if (signal) {
    if (signal.aborted) await listener.close();
    else signal.addEventListener('abort', () => void listener.close(), { once: true });
  }
  return listener;
}

/** The groups, interface and source of `join`, checked; `undefined` without `join`. */
async function membershipOf(options: ListenOptions): Promise<(Membership & { family: 4 | 6 }) | undefined> {
  if (options.join === undefined) {
    if (options.iface !== undefined || options.source !== undefined) {
      throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', 'iface and source apply to multicast: give join too');
    }
    return undefined;
  }
  const { groups, family } = validateGroups(options.join);
  if (options.family !== undefined && options.family !== 0 && options.family !== family) {
    throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `family ${options.family} does not match the IPv${family} groups`);
  }
  const source = options.source === undefined ? undefined : validateSource(options.source, family);
  const iface = options.iface === undefined ? undefined : await resolveMulticastInterface(options.iface, family);
  return { groups, family, ...(iface !== undefined ? { iface } : {}), ...(source !== undefined ? { source } : {}) };
}
