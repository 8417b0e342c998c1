/**
 * The IP Messenger peer table, keyed by `address:port`, with its ageing: a peer silent for
 * `probeAfterMs` is asked again (a unicast BR_ENTRY, which any IPMsg client answers), every
 * `probeIntervalMs`, and forgotten once silent for `probeAfterMs + dropAfterMs`. Pure: times are
 * the `now` the caller passes, in ms.
 */

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
  readonly address: string;
  readonly port: number;
  /** When a packet from it last arrived (the `now` of that receive). */
  readonly lastSeen: number;
}

/** Ageing times, in ms. */
export interface IpmsgAgeing {
  readonly probeAfterMs: number;
  readonly probeIntervalMs: number;
  readonly dropAfterMs: number;
}

interface PeerRecord {
  peer: IpmsgPeer;
  /** When the last probe left. Probes leave only once silent `probeAfterMs`, so none has since
   * the peer was last heard from when this is earlier than `lastSeen + probeAfterMs`. */
  probedAt: number;
}

/** The key of an endpoint. @example peerKey('10.0.0.2', 2425) // '10.0.0.2:2425' */
export function peerKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Known peers and when each must be probed or dropped.
 * @example
 * const table = new IpmsgPeerTable({ probeAfterMs: 10_000, probeIntervalMs: 3000, dropAfterMs: 10_000 }, 1024);
 * table.heard({ address: '10.0.0.2', port: 2425 }, { user: 'bob', host: 'pc2', nickname: 'Bob' }, now);
 * const { probe, dropped } = table.due(now + 20_000); // dropped: [Bob]
 */
export class IpmsgPeerTable {
  readonly #peers = new Map<string, PeerRecord>();
  readonly #ageing: IpmsgAgeing;
  readonly #maxPeers: number;

  constructor(ageing: IpmsgAgeing, maxPeers: number) {
    this.#ageing = ageing;
    this.#maxPeers = maxPeers;
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
   * taking the name it announced, if any. `undefined` when the table is full.
   */
  heard(
    from: { readonly address: string; readonly port: number },
    who: { readonly user: string; readonly host: string; readonly nickname?: string; readonly group?: string },
    now: number,
  ): { peer: IpmsgPeer; joined: boolean } | undefined {
    const key = peerKey(from.address, from.port);
    const known = this.#peers.get(key);
    if (!known && this.#peers.size >= this.#maxPeers) return undefined;
    const before = known?.peer;
    const announced = who.nickname !== undefined;
    const peer: IpmsgPeer = {
      key,
      name: announced ? who.nickname || who.user : (before?.name ?? who.user),
      user: who.user,
      host: who.host,
      group: announced ? (who.group ?? '') : (before?.group ?? ''),
      address: from.address,
      port: from.port,
      lastSeen: Math.max(now, before?.lastSeen ?? now),
    };
    if (known) known.peer = peer;
    else this.#peers.set(key, { peer, probedAt: -Infinity });
    return { peer, joined: !known };
  }

  /** Forgets a peer; returns it when it was known. */
  remove(key: string): IpmsgPeer | undefined {
    const r = this.#peers.get(key);
    this.#peers.delete(key);
    return r?.peer;
  }

  /** The peers to probe now, and those silent too long, which are removed. */
  due(now: number): { probe: IpmsgPeer[]; dropped: IpmsgPeer[] } {
    const { probeAfterMs, probeIntervalMs, dropAfterMs } = this.#ageing;
    const probe: IpmsgPeer[] = [];
    const dropped: IpmsgPeer[] = [];
    for (const [key, r] of this.#peers) {
      const silent = now - r.peer.lastSeen;
      if (silent >= probeAfterMs + dropAfterMs) {
        this.#peers.delete(key);
        dropped.push(r.peer);
      } else if (silent >= probeAfterMs && (r.probedAt < r.peer.lastSeen + probeAfterMs || now - r.probedAt >= probeIntervalMs)) {
        r.probedAt = now;
        probe.push(r.peer);
      }
    }
    return { probe, dropped };
  }

  /** When {@link due} has something to do next, or `undefined` with no peer. */
  nextDeadline(): number | undefined {
    const { probeAfterMs, probeIntervalMs, dropAfterMs } = this.#ageing;
    let next: number | undefined;
    for (const r of this.#peers.values()) {
      const probeAt = r.peer.lastSeen + probeAfterMs;
      const at = r.probedAt < probeAt ? probeAt : Math.min(r.probedAt + probeIntervalMs, probeAt + dropAfterMs);
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
