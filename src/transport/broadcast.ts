/**
 * Broadcast to every local IPv4 network: one sender per interface address, bound to that
 * address so the datagram leaves on that interface. Directed broadcast (`10.0.0.255`) goes to
 * one subnet; limited broadcast (`255.255.255.255`) is never routed, and Linux sends it out of
 * the interface that owns the socket's source address.
 */
import { UdpkitError } from '../errors.js';
import { LIMITED_BROADCAST } from '../net/broadcast-address.js';
import { isInterfaceUp, listInterfaces, type NetworkInterface } from '../net/interfaces.js';
import { DEFAULT_PORT, checkPayloadSize, validatePort } from '../validate.js';
import { openSender, type Sender } from './sender.js';

/** Options of {@link broadcast} and {@link openBroadcaster}. */
export interface BroadcastOptions {
  /** Destination port; default 5000. */
  readonly port?: number;
  /** Only this interface (by name); default every up, non-loopback IPv4 interface. */
  readonly iface?: string;
  /** Send to 255.255.255.255 rather than each subnet's directed broadcast address. */
  readonly limited?: boolean;
  /** Closes the sockets when aborted. */
  readonly signal?: AbortSignal;
  /** A shared secret: seal every datagram with it (see docs/protocol.md). */
  readonly key?: string | Uint8Array;
  /** The interfaces to choose from; default {@link listInterfaces}() (tests pass fixtures). */
  readonly interfaces?: readonly NetworkInterface[];
}

/** Where one broadcast goes: the destination, and the local address it is sent from. */
export interface BroadcastTarget {
  readonly iface: string;
  readonly localAddress: string;
  readonly address: string;
  readonly port: number;
}

/** One datagram handed to the kernel. */
export interface BroadcastSent {
  readonly iface: string;
  readonly address: string;
  readonly port: number;
  readonly bytes: number;
}

/**
 * Where a broadcast goes from these interfaces: one target per directed broadcast address (or,
 * with `limited`, one 255.255.255.255 per interface). Throws `UDPKIT_NO_INTERFACE` when there
 * is none.
 * @example broadcastTargets(await listInterfaces(), { port: 5000 }) // [{ iface: 'eth0', localAddress: '10.0.0.2', address: '10.0.0.255', port: 5000 }]
 */
export function broadcastTargets(
  interfaces: readonly NetworkInterface[],
  { port, iface, limited = false }: { readonly port: number; readonly iface?: string; readonly limited?: boolean },
): BroadcastTarget[] {
  let candidates = interfaces.filter((i) => !i.loopback && isInterfaceUp(i));
  if (iface !== undefined) {
    const named = interfaces.find((i) => i.name === iface);
    if (!named) throw new UdpkitError('UDPKIT_NO_INTERFACE', `no interface named ${iface}`);
    if (!isInterfaceUp(named)) throw new UdpkitError('UDPKIT_NO_INTERFACE', `interface ${iface} is down`);
    candidates = [named];
  }
  const targets: BroadcastTarget[] = [];
  for (const i of candidates) {
    if (limited) {
      const from = i.broadcast ? i.ipv4[0] : undefined;
      if (from) targets.push({ iface: i.name, localAddress: from.address, address: LIMITED_BROADCAST, port });
      continue;
    }
    for (const a of i.ipv4) {
      if (a.broadcast && !targets.some((t) => t.iface === i.name && t.address === a.broadcast)) {
        targets.push({ iface: i.name, localAddress: a.address, address: a.broadcast, port });
      }
    }
  }
  if (targets.length === 0) {
    const why = iface === undefined ? 'no up IPv4 interface' : `interface ${iface} has no IPv4 address`;
    throw new UdpkitError('UDPKIT_NO_INTERFACE', `${why} with a broadcast address`);
  }
  return targets;
}

function payloadOf(message: Buffer | Uint8Array | string): Buffer | Uint8Array {
  const data = typeof message === 'string' ? Buffer.from(message) : message;
  checkPayloadSize(data.length, 4);
  return data;
}

/** Open sockets to every broadcast target; send any number of messages, then close. */
export class Broadcaster {
  readonly #senders: ReadonlyArray<{ readonly target: BroadcastTarget; readonly sender: Sender }>;

  /** @internal use {@link openBroadcaster} */
  constructor(senders: ReadonlyArray<{ readonly target: BroadcastTarget; readonly sender: Sender }>) {
    this.#senders = senders;
  }

  /** Where each message goes. */
  get targets(): readonly BroadcastTarget[] {
    return this.#senders.map((s) => s.target);
  }

  /** Sends one datagram to every target; resolves once the kernel has them all. */
  async send(message: Buffer | Uint8Array | string): Promise<BroadcastSent[]> {
    const data = payloadOf(message);
    await Promise.all(this.#senders.map((s) => s.sender.send(data)));
    return this.#senders.map(({ target }) => ({ iface: target.iface, address: target.address, port: target.port, bytes: data.length }));
  }

  /** Closes every socket. Safe to call more than once. */
  async close(): Promise<void> {
    await Promise.all(this.#senders.map((s) => s.sender.close()));
  }
}

/**
 * Opens one socket per broadcast target, each bound to its interface's address.
 * @example
 * const b = await openBroadcaster({ port: 5000 });
 * for (const line of ['a', 'b']) await b.send(line);
 * await b.close();
 */
export async function openBroadcaster(options: BroadcastOptions = {}): Promise<Broadcaster> {
  const port = validatePort(options.port ?? DEFAULT_PORT);
  options.signal?.throwIfAborted();
  const interfaces = options.interfaces ?? (await listInterfaces());
  const targets = broadcastTargets(interfaces, { port, limited: options.limited === true, ...(options.iface !== undefined ? { iface: options.iface } : {}) });
  const opened = await Promise.allSettled(
    targets.map((t) =>
      openSender({
        host: t.address,
        port,
        localAddress: t.localAddress,
        broadcast: true,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.key !== undefined ? { key: options.key } : {}),
      }),
    ),
  );
  const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) {
    await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.close() : undefined)));
    throw failed.reason;
  }
  return new Broadcaster(opened.map((o, i) => ({ target: targets[i]!, sender: (o as PromiseFulfilledResult<Sender>).value })));
}

/**
 * Sends one datagram to the broadcast address of every up, non-loopback IPv4 interface (or
 * only `iface`), each from a socket bound to that interface's address.
 * @example
 * const sent = await broadcast('hello', { port: 5000 });
 * // [{ iface: 'eth0', address: '192.168.1.255', port: 5000, bytes: 5 }]
 */
export async function broadcast(message: Buffer | Uint8Array | string, options: BroadcastOptions = {}): Promise<BroadcastSent[]> {
  const data = payloadOf(message);
  const b = await openBroadcaster(options);
  try {
    return await b.send(data);
  } finally {
    await b.close();
  }
}
