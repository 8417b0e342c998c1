/**
 * The relay's entry point: {@link relay} checks the options, resolves the upstream, refuses a
 * relay that would forward to itself, binds the front socket and starts a {@link Relay}
 * (relay-forwarder.ts), which runs the impairment core between the clients and the upstream.
 */
import { randomInt } from 'node:crypto';
import { UdpkitRangeError, formatHostPort } from '../errors.js';
import { isOwnAddress } from '../net/own-address.js';
import { readersOf } from '../net/os-readers.js';
import { IPV4_UDP_HEADERS, Impairment } from '../protocol/impairment.js';
import { validateImpairment, type ImpairmentOptions } from '../protocol/impairment-options.js';
import { seededRandom } from '../protocol/seeded-random.js';
import { listen } from './listener.js';
import { resolveHost } from '../socket/resolve.js';
import type { Lookup } from '../types.js';
import { validateHost, validateInteger, validatePort, type HostPort } from '../validate.js';
import { RelaySealing } from './relay-sealing.js';
import { loadSealingKit } from '../socket/sealing.js';
import { Relay, keepParcel, type Parcel, type TraceEntry } from './relay-forwarder.js';
import type { CaptureWriter } from './capture-writer.js';

export { Relay, type RelayStats, type RelayDirectionStats, type TraceEntry } from './relay-forwarder.js';

/**
 * Mixed into the seed for the down direction's generator, so each direction has its own stream
 * of decisions: its fates then do not depend on how its datagrams interleave with the other's.
 */
const DOWN_SEED_SALT = 0x9e3779b9;

/** IPv6 and UDP headers: what an IPv6 datagram's packet adds to its payload. */
const IPV6_UDP_HEADERS = 48;

/** Flips one bit of a parcel the core keeps (its own copy, never a receive buffer). */
const flipBit = (p: Parcel, bit: number): void => {
  const i = bit >>> 3;
  p.data[i] = (p.data[i] as number) ^ (1 << (bit & 7));
};

/** Options of {@link relay}: where to listen, where to forward, and the impairments. */
export interface RelayOptions extends ImpairmentOptions {
  /** The server to forward to. */
  readonly upstream: HostPort;
  /** UDP port clients send to, 0 to let the OS choose; default 0. */
  readonly port?: number;
  /** Address to listen on; default every address (dual-stack). */
  readonly address?: string;
  /** 4 or 6 for one family only (listening and resolving upstream); 0 (default) for both. */
  readonly family?: 0 | 4 | 6;
  /** Seeds the random decisions (the same seed, the same decisions); default a random seed. */
  readonly seed?: number;
  /** A client silent this long (both ways) loses its upstream socket; default 60 s. */
  readonly idleTimeoutMs?: number;
  /** Clients at once; a new one beyond this replaces the longest silent. Default 256. */
  readonly maxSessions?: number;
  /** Name resolver for `upstream.host`; tests inject one. */
  readonly lookup?: Lookup;
  /**
   * The shared secret of sealed traffic (`--key`). Sealed frames open only on the port they were
   * sealed for, and the relay changes ports, so with the key it opens what arrives (refusing,
   * and counting, what does not open) and seals it again for the next hop, before the
   * impairments. Without it, sealed frames pass unchanged and the far end refuses them as
   * `misdirected`; the relay emits `'sealed'` once when it sees one.
   */
  readonly key?: string | Uint8Array;
  /** Closes the relay when aborted. */
  readonly signal?: AbortSignal;
  /**
   * Records every datagram the relay forwards, both ways, as it leaves (after the impairments):
   * client to upstream and upstream to client, with their real addresses and ports. A datagram
   * between a client and an upstream of different families is counted in `capture.dropped`.
   */
  readonly capture?: CaptureWriter;
  /**
   * Called for every datagram as it arrives, with its fate (`--trace`). The fates of one
   * direction depend only on the seed and the order its datagrams arrive in; the policer, the
   * bottleneck queue and the memory bound also depend on timing.
   */
  readonly onTrace?: (entry: TraceEntry) => void;
}

/**
 * Starts a relay to `upstream`, impairing what passes as asked. Resolves once listening.
 * @example
 * const r = await relay({ upstream: { host: '127.0.0.1', port: 9000 }, loss: 0.2, seed: 1 });
 * console.log(r.address().port); // clients send here instead of to 9000
 * // ...
 * await r.close();
 * console.log(r.stats.up.dropped);
 */
export async function relay(options: RelayOptions): Promise<Relay> {
  const host = validateHost(options.upstream?.host);
  const upstreamPort = validatePort(options.upstream.port, { name: 'upstream port' });
  const port = validatePort(options.port ?? 0, { allowZero: true });
  const settings = validateImpairment(options);
  const seed = options.seed === undefined ? randomInt(0, 2 ** 32) : validateInteger(options.seed, { name: 'seed', max: 2 ** 32 - 1 });
  const idleTimeoutMs = validateInteger(options.idleTimeoutMs ?? 60_000, { name: 'idleTimeoutMs', min: 1000, max: 86_400_000 });
  const maxSessions = validateInteger(options.maxSessions ?? 256, { name: 'maxSessions', min: 1, max: 65_536 });
  const family = options.family ?? 0;
  const target = await resolveHost(host, { family, ...(options.lookup ? { lookup: options.lookup } : {}) });
  const sealing = options.key === undefined ? undefined : new RelaySealing(await loadSealingKit(options.key));
  const loops = (relayPort: number): boolean =>
    upstreamPort === relayPort && isOwnAddress(target.address, options.address, readersOf().networkInterfaces());
  const refuseLoop = (relayPort: number): UdpkitRangeError =>
    new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `the upstream ${formatHostPort(host, upstreamPort)} is this relay's own port ${relayPort} on this machine${host === target.address ? '' : ` (${target.address})`}: datagrams would go round in a loop`);
  if (port !== 0 && loops(port)) throw refuseLoop(port);
  const front = await listen({ port, family, reliable: false, ...(options.address !== undefined ? { address: options.address } : {}) });
  // With port 0 the OS chose: it may have chosen the upstream's port.
  const bound = front.address().port;
  if (loops(bound)) {
    await front.close();
    throw refuseLoop(bound);
  }
  // IP packet sizes (--mtu, a bit rate): the header of the family the datagram leaves by.
  const upHeaders = target.family === 6 ? IPV6_UDP_HEADERS : IPV4_UDP_HEADERS;
  const wireSizeOf = (p: Parcel): number =>
    p.data.length + (p.direction === 'up' ? upHeaders : p.session.clientAddress.includes(':') && !p.session.clientAddress.startsWith('::ffff:') ? IPV6_UDP_HEADERS : IPV4_UDP_HEADERS);
  const random = { up: seededRandom(seed), down: seededRandom(seed ^ DOWN_SEED_SALT) };
  const core = new Impairment<Parcel>(settings, random, { sizeOf: (p) => p.data.length, keep: keepParcel, wireSizeOf, corrupt: flipBit });
  const r = new Relay(front, { ...target, port: upstreamPort }, core, seed, { idleTimeoutMs, maxSessions }, sealing, options.capture, options.onTrace);
  const signal = options.signal;
  if (signal?.aborted) await r.close();
  else signal?.addEventListener('abort', () => void r.close(), { once: true });
  return r;
}
