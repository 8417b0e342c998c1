/**
 * What stops `listen --echo` from looping (README, "udpkit listen"). An echo is one datagram out
 * for one in, to whatever source the datagram claims, so a forged source can aim it: at the
 * listener itself (it answers itself for ever), at a network (broadcast, multicast), or at
 * another echo listener (the two bounce one datagram between them for ever). In order:
 *
 * 1. a datagram sealed as an answer (an echo, an ACK) is never answered: between two keyed
 *    udpkits a loop ends at the first bounce;
 * 2. no answer to port 0, an unspecified, broadcast or multicast address;
 * 3. no answer to the listener's own port on any of this machine's addresses;
 * 4. per peer address, a token bucket (default 1000/s, burst 1000): bounds what a forged source
 *    can aim at one victim, while a client sending distinct messages fast is still answered;
 * 5. per peer address, port and payload, a token bucket (default 1/s, burst 2): a loop carries
 *    the same payload every hop, so it ends after two bounces each way, whatever bucket 4
 *    allows; a client repeating one message once a second (or a network duplicate) is still
 *    answered.
 *
 * What remains: two plain echo listeners whose round trip is over a second (bucket 5 refills
 * between bounces) bounce at most one datagram a second each, and a peer that changes the
 * payload on every hop is held by bucket 4 only. Pure: `now` (ms) in, a decision out; the
 * caller says which addresses are this machine's.
 */
import { createHash } from 'node:crypto';
import type { AddressKind } from '../types.js';
import { validatePort } from '../validate.js';
import { PeerRateLimiter } from './peer-rate-limiter.js';

/** Why a datagram was not echoed. */
export type EchoRefusal =
  /** It was sealed as an automatic answer (an echo, an ACK). */
  | 'answer'
  /** Its source is port 0, or an unspecified, broadcast or multicast address. */
  | 'not-unicast'
  /** Its source is this listener's own port on one of this machine's addresses. */
  | 'own-address'
  /** Its source address was echoed to too often (bucket 4 above). */
  | 'peer-rate'
  /** The same payload was echoed to the same address and port too often (bucket 5 above). */
  | 'same-payload';

/** The refusal reasons, in the order they are checked. */
export const ECHO_REFUSALS: readonly EchoRefusal[] = ['answer', 'not-unicast', 'own-address', 'peer-rate', 'same-payload'];

/** A token bucket's refill per second and size. */
export interface EchoBucket {
  readonly rate: number;
  readonly burst: number;
}

/** Default per-peer bucket: a thousand echoes a second to one address, a second's worth at once. */
export const ECHO_PEER_LIMIT: EchoBucket = Object.freeze({ rate: 1000, burst: 1000 });
/** Default same-payload bucket: the same message to the same peer twice at once, then once a second. */
export const ECHO_REPEAT_LIMIT: EchoBucket = Object.freeze({ rate: 1, burst: 2 });
/** Default number of peers (and of peer-payload pairs) remembered. */
export const ECHO_MAX_PEERS = 4096;

/** Options of an {@link EchoGuard}. */
export interface EchoGuardOptions {
  /** The listener's own port. */
  readonly port: number;
  /** What an address is to this machine; the caller keeps the interface list. */
  readonly addressKind: (address: string) => AddressKind;
  /** Per peer address; default {@link ECHO_PEER_LIMIT}. */
  readonly perPeer?: EchoBucket;
  /** Per peer address, port and payload; default {@link ECHO_REPEAT_LIMIT}. */
  readonly samePayload?: EchoBucket;
  /** Keys each bucket table remembers; default {@link ECHO_MAX_PEERS}. */
  readonly maxPeers?: number;
}

/** One datagram an echo is considered for. */
export interface EchoCandidate {
  /** The source address as shown (IPv4 plain, IPv6 maybe with `%scope`). */
  readonly address: string;
  readonly port: number;
  readonly payload: Uint8Array;
  /** It was sealed as an automatic answer. */
  readonly answer: boolean;
}

/**
 * Says whether one datagram may be echoed. Call {@link check} once per datagram, in arrival
 * order, with a `now` that never goes back; an allowed echo uses up its tokens.
 * @example
 * const guard = new EchoGuard({ port: 5000, addressKind: (a) => addressKind(a, local) });
 * const why = guard.check({ address, port, payload, answer: false }, Date.now());
 * if (why === undefined) socket.send(payload, port, address);
 */
export class EchoGuard {
  readonly #port: number;
  readonly #addressKind: (address: string) => AddressKind;
  readonly #perPeer: PeerRateLimiter;
  readonly #samePayload: PeerRateLimiter;

  /** @throws `RangeError` coded `UDPKIT_INVALID_PORT` or `UDPKIT_INVALID_ARGUMENT` for a bad option. */
  constructor(options: EchoGuardOptions) {
    this.#port = validatePort(options.port);
    this.#addressKind = options.addressKind;
    const maxKeys = options.maxPeers ?? ECHO_MAX_PEERS;
    this.#perPeer = new PeerRateLimiter({ ...(options.perPeer ?? ECHO_PEER_LIMIT), maxKeys });
    this.#samePayload = new PeerRateLimiter({ ...(options.samePayload ?? ECHO_REPEAT_LIMIT), maxKeys });
  }

  /** Peers and peer-payload pairs remembered now (each at most `maxPeers`). */
  get size(): { readonly peers: number; readonly payloads: number } {
    return { peers: this.#perPeer.size, payloads: this.#samePayload.size };
  }

  /** `undefined` when the datagram may be echoed (its tokens are taken), or why not. */
  check(d: EchoCandidate, now: number): EchoRefusal | undefined {
    if (d.answer) return 'answer';
    const kind = this.#addressKind(d.address);
    if (d.port === 0 || kind !== 'local' && kind !== 'other') return 'not-unicast';
    if (d.port === this.#port && kind === 'local') return 'own-address';
    const peer = d.address.replace(/%.*$/, '');
    if (!this.#perPeer.allow(peer, now)) return 'peer-rate';
    // A digest keeps each key small whatever the payload; collisions only cost an echo.
    const digest = createHash('sha256').update(d.payload).digest('base64');
    if (!this.#samePayload.allow(`${d.port} ${peer} ${digest}`, now)) return 'same-payload';
    return undefined;
  }
}
