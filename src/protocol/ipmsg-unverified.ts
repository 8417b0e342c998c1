/**
 * The IP Messenger peers that have not answered us yet, least recently heard first, overall and
 * per address, so that the peer table finds whom to evict in constant time even while a flood
 * of forged entries arrives. Pure bookkeeping.
 */

/**
 * Unverified peer keys in order of last packet, with their address.
 * @example
 * const u = new UnverifiedPeers();
 * u.touch('10.0.0.2:2425', '10.0.0.2');
 * u.touch('10.0.0.3:2425', '10.0.0.3');
 * u.oldest(); // '10.0.0.2:2425'
 */
export class UnverifiedPeers {
  /** Key to address, least recently heard first (a Map keeps insertion order). */
  readonly #all = new Map<string, string>();
  /** The same keys, by address. */
  readonly #byAddress = new Map<string, Set<string>>();

  get size(): number {
    return this.#all.size;
  }

  /** Notes a packet from the peer `key` at `address` (adds it, or moves it to the back). */
  touch(key: string, address: string): void {
    this.delete(key);
    this.#all.set(key, address);
    let keys = this.#byAddress.get(address);
    if (keys === undefined) this.#byAddress.set(address, (keys = new Set()));
    keys.add(key);
  }

  /** Forgets `key` (it answered, left, or was evicted). */
  delete(key: string): void {
    const address = this.#all.get(key);
    if (address === undefined) return;
    this.#all.delete(key);
    const keys = this.#byAddress.get(address);
    keys?.delete(key);
    if (keys?.size === 0) this.#byAddress.delete(address);
  }

  /** The least recently heard unverified peer, at `address` when given. */
  oldest(address?: string): string | undefined {
    const keys = address === undefined ? this.#all.keys() : this.#byAddress.get(address)?.values();
    return keys?.next().value;
  }
}
