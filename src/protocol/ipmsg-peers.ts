/**
 * The IP Messenger peer table, keyed by `address:port`, with its ageing and its admission
 * rules. Ageing: a peer silent for `probeAfterMs` is asked again (a unicast BR_ENTRY, which any
 * IPMsg client answers), and forgotten once silent for `probeAfterMs + dropAfterMs`. A peer
 * that has answered us ({@link IpmsgPeerTable.verify}) is asked every `probeIntervalMs` while
 * silent; one that never has is asked once in its life, because its source may be forged and
 * every probe would then be reflected at someone else (when the caller cannot send that probe
 * yet, it is tried again every `probeIntervalMs` until the peer is dropped). Admission: at most
 * `maxPeers` peers, and `maxPeersPerAddress` per address; when either is reached, the least
 * recently heard peer that never answered makes room, so a flood of forged entries cannot keep
 * a real newcomer out. Pure: times are the `now` the caller passes, in ms. (About 260 lines:
 * ageing and admission decide together which peer goes, so they stay in one table.)
 */
import { UnverifiedPeers } from './ipmsg-unverified.js';

/** A peer as the session shows it. */
export interface IpmsgPeer {
  /** `address:port`: what identifies a peer. */
  readonly key: string;
  /** The nickname it announced, else its user name. */
  readonly name: string;
  readonly user: string;
  readonly host: string;
  /** Its group, when it announced one; empty otherwise. */
  readonly group: string;
  /** Its last entry said it is away (ABSENCEOPT). */
  readonly away: boolean;
  /**
   * The encoding of its text without UTF8OPT: the one it declared, else the one its last such
   * non-ASCII packet was read in; empty until known. Messages to it go in it (./ipmsg-encoding.ts).
   */
  readonly encoding: string;
  /** It reads UTF-8: it announced CAPUTF8OPT or sent UTF8OPT. */
  readonly utf8: boolean;
  readonly address: string;
  readonly port: number;
  /** When a packet from it last arrived (the `now` of that receive). */
  readonly lastSeen: number;
  /**
   * It has answered us (an ANSENTRY to a BR_ENTRY we sent it, or the receipt of a message):
   * likely a real client rather than a forged source address.
   */
  readonly verified: boolean;
}

/** Ageing times, in ms, and the table's limits. */
export interface IpmsgPeerLimits {
  readonly probeAfterMs: number;
  readonly probeIntervalMs: number;
  readonly dropAfterMs: number;
  readonly maxPeers: number;
  readonly maxPeersPerAddress: number;
}

interface PeerRecord {
  peer: IpmsgPeer;
  /** When the last probe left. Probes leave only once silent `probeAfterMs`, so none has since
   * the peer was last heard from when this is earlier than `lastSeen + probeAfterMs`. */
  probedAt: number;
  /** We sent it a unicast BR_ENTRY (a probe or an introduction): an ANSENTRY from it answers us. */
  asked: boolean;
  /** Not before this may the one probe of an unverified peer be tried again (it was held back). */
  retryAt: number;
}

/** The key of an endpoint. @example peerKey('10.0.0.2', 2425) // '10.0.0.2:2425' */
export function peerKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** What {@link IpmsgPeerTable.heard} found: the peer, whether it is new, whom it pushed out. */
export interface IpmsgHeard {
  readonly peer: IpmsgPeer;
  readonly joined: boolean;
  /** Unverified peers removed to make room for it (at most one). */
  readonly evicted: readonly IpmsgPeer[];
}

/**
 * Known peers and when each must be probed or dropped.
 * @example
 * const table = new IpmsgPeerTable({ probeAfterMs: 10_000, probeIntervalMs: 3000, dropAfterMs: 10_000, maxPeers: 1024, maxPeersPerAddress: 64 });
 * table.heard({ address: '10.0.0.2', port: 2425 }, { user: 'bob', host: 'pc2', nickname: 'Bob' }, now);
 * const { probe, dropped } = table.due(now + 20_000); // dropped: [Bob]
 */
export class IpmsgPeerTable {
  /** In the order they joined. */
  readonly #peers = new Map<string, PeerRecord>();
  readonly #unverified = new UnverifiedPeers();
  readonly #perAddress = new Map<string, number>();
  readonly #limits: IpmsgPeerLimits;

  constructor(limits: IpmsgPeerLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#peers.size;
  }

  get(key: string): IpmsgPeer | undefined {
    return this.#peers.get(key)?.peer;
  }

  /** Every peer, in the order they joined. */
  list(): IpmsgPeer[] {
    return [...this.#peers.values()].map((r) => r.peer);
  }

  /**
   * Notes a packet from `address:port` at `now`, adding the peer when unknown (`joined`), and
   * taking the name it announced, if any. Room for a new peer is made by evicting the least
   * recently heard unverified peer (of its address when that address has its share, else of
   * all); `undefined` when there is none to evict.
   */
  heard(
    from: { readonly address: string; readonly port: number },
    who: {
      readonly user: string;
      readonly host: string;
      readonly nickname?: string;
      readonly group?: string;
      /** Given by entries only. */
      readonly away?: boolean;
      readonly encoding?: string;
      readonly utf8?: boolean;
    },
    now: number,
  ): IpmsgHeard | undefined {
    const key = peerKey(from.address, from.port);
    const known = this.#peers.get(key);
    const evicted: IpmsgPeer[] = [];
    if (!known) {
      const crowded = (this.#perAddress.get(from.address) ?? 0) >= this.#limits.maxPeersPerAddress;
      if (crowded || this.#peers.size >= this.#limits.maxPeers) {
        const victim = this.#unverified.oldest(crowded ? from.address : undefined);
        if (victim === undefined) return undefined;
        evicted.push(this.remove(victim) as IpmsgPeer);
      }
    }
    const before = known?.peer;
    const announced = who.nickname !== undefined;
    const peer: IpmsgPeer = {
      key,
      name: announced ? who.nickname || who.user : (before?.name ?? who.user),
      user: who.user,
      host: who.host,
      group: announced ? (who.group ?? '') : (before?.group ?? ''),
      away: who.away ?? before?.away ?? false,
      encoding: who.encoding ?? before?.encoding ?? '',
      utf8: (who.utf8 ?? false) || (before?.utf8 ?? false),
      address: from.address,
      port: from.port,
      lastSeen: Math.max(now, before?.lastSeen ?? now),
      verified: before?.verified ?? false,
    };
    if (known) known.peer = peer;
    else {
      this.#peers.set(key, { peer, probedAt: -Infinity, asked: false, retryAt: -Infinity });
      this.#perAddress.set(from.address, (this.#perAddress.get(from.address) ?? 0) + 1);
    }
    if (!peer.verified) this.#unverified.touch(key, from.address);
    return { peer, joined: !known, evicted };
  }

  /** Whether we have sent `key` a unicast BR_ENTRY, so that its ANSENTRY answers us. */
  asked(key: string): boolean {
    return this.#peers.get(key)?.asked === true;
  }

  /** Notes that we sent `key` a unicast BR_ENTRY (an introduction). */
  markAsked(key: string): void {
    const r = this.#peers.get(key);
    if (r) r.asked = true;
  }

  /** Marks `key` as having answered us: probed while silent from now on, never evicted. */
  verify(key: string): IpmsgPeer | undefined {
    const r = this.#peers.get(key);
    if (r === undefined || r.peer.verified) return r?.peer;
    r.peer = { ...r.peer, verified: true };
    this.#unverified.delete(key);
    return r.peer;
  }

  /** Forgets a peer; returns it when it was known. */
  remove(key: string): IpmsgPeer | undefined {
    const r = this.#peers.get(key);
    if (r === undefined) return undefined;
    this.#peers.delete(key);
    this.#unverified.delete(key);
    const n = (this.#perAddress.get(r.peer.address) ?? 1) - 1;
    if (n > 0) this.#perAddress.set(r.peer.address, n);
    else this.#perAddress.delete(r.peer.address);
    return r.peer;
  }

  /** When the peer of `r` is to be probed next, or dropped when no probe is left for it. */
  #nextAt(r: PeerRecord): { at: number; probe: boolean } {
    const { probeAfterMs, probeIntervalMs, dropAfterMs } = this.#limits;
    const probeAt = r.peer.lastSeen + probeAfterMs;
    const dropAt = probeAt + dropAfterMs;
    // An unverified peer gets one probe in its life: the first time it falls silent.
    if (!r.peer.verified) return r.probedAt === -Infinity ? { at: Math.min(Math.max(probeAt, r.retryAt), dropAt), probe: true } : { at: dropAt, probe: false };
    if (r.probedAt < probeAt) return { at: probeAt, probe: true };
    const again = r.probedAt + probeIntervalMs;
    return again < dropAt ? { at: again, probe: true } : { at: dropAt, probe: false };
  }

  /**
   * The peers to probe now, and those silent too long, which are removed. `mayProbe` says
   * whether a probe can be sent now; one that cannot is tried again `probeIntervalMs` later.
   * `unprobed` counts the dropped peers whose one probe never could be sent.
   */
  due(now: number, mayProbe: (peer: IpmsgPeer) => boolean = () => true): { probe: IpmsgPeer[]; dropped: IpmsgPeer[]; unprobed: number } {
    const { probeAfterMs, probeIntervalMs, dropAfterMs } = this.#limits;
    const probe: IpmsgPeer[] = [];
    const dropped: IpmsgPeer[] = [];
    let unprobed = 0;
    for (const [key, r] of this.#peers) {
      if (now - r.peer.lastSeen >= probeAfterMs + dropAfterMs) {
        if (r.retryAt > -Infinity && r.probedAt === -Infinity) unprobed++;
        dropped.push(this.remove(key) as IpmsgPeer);
        continue;
      }
      const next = this.#nextAt(r);
      if (!next.probe || next.at > now) continue;
      if (mayProbe(r.peer)) {
        r.probedAt = now;
        r.asked = true;
        probe.push(r.peer);
      } else r.retryAt = now + probeIntervalMs;
    }
    return { probe, dropped, unprobed };
  }

  /** When {@link due} has something to do next, or `undefined` with no peer. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const r of this.#peers.values()) {
      const { at } = this.#nextAt(r);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }
}

/**
 * The peers `who` names: those with that nickname, else with that nickname ignoring case, else
 * the one at that address (`10.0.0.2`) or endpoint (`10.0.0.2:2425`).
 * @example findPeers(table.list(), 'bob') // [{ name: 'Bob', ... }]
 */
export function findPeers(peers: readonly IpmsgPeer[], who: string): IpmsgPeer[] {
  const exact = peers.filter((p) => p.name === who);
  if (exact.length > 0) return exact;
  const lower = who.toLowerCase();
  const folded = peers.filter((p) => p.name.toLowerCase() === lower);
  if (folded.length > 0) return folded;
  return peers.filter((p) => p.address === who || p.key === who);
}
