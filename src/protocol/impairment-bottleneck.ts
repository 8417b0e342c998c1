/**
 * The relay's bottleneck (`--rate` with a queue): one FIFO link served at a fixed rate, like
 * netem's `rate` with its `limit`. A datagram waits behind those before it, then takes its own
 * serialization time (1/rate s a datagram, or its size in bits over a bit rate) and leaves.
 * One that arrives to a full queue is dropped at the tail and counted by the caller.
 *
 * Pure: `now` in milliseconds, fractional. The queue is only departure times and sizes; the
 * datagrams themselves wait in the relay's {@link DueQueue}, due at their departure (plus delay).
 */

/** A bottleneck, checked. */
export interface BottleneckSettings {
  /** Datagrams (`'packets'`) or bits (`'bits'`) per second. */
  readonly rate: number;
  readonly unit: 'packets' | 'bits';
  /** Most datagrams in the queue (the one being sent included); `undefined`: no packet limit. */
  readonly limitPackets: number | undefined;
  /** Most bytes in the queue; `undefined`: no byte limit. */
  readonly limitBytes: number | undefined;
}

/** Datagrams a bottleneck queue holds when no limit is given: netem's default `limit`. */
export const DEFAULT_QUEUE_LIMIT = 1000;

/**
 * A FIFO link: call {@link offer} for each datagram in arrival order.
 * @example
 * const b = new Bottleneck({ rate: 1000, unit: 'packets', limitPackets: 2, limitBytes: undefined });
 * b.offer(100, 0); // 1: leaves at 1 ms
 * b.offer(100, 0); // 2
 * b.offer(100, 0); // undefined: the queue holds 2 already
 */
export class Bottleneck {
  readonly settings: BottleneckSettings;
  /** Departure times and sizes of the queued datagrams, oldest first, from index #head. */
  #departs: number[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;
  #lastDepart = -Infinity;

  constructor(settings: BottleneckSettings) {
    this.settings = settings;
  }

  /** Datagrams in the queue at the last {@link offer}. */
  get length(): number {
    return this.#departs.length - this.#head;
  }

  /** Bytes in the queue at the last {@link offer}. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Milliseconds the link takes to send `size` bytes. */
  serviceMs(size: number): number {
    const s = this.settings;
    return s.unit === 'packets' ? 1000 / s.rate : (size * 8 * 1000) / s.rate;
  }

  /**
   * A datagram of `size` bytes arrives at `now` (ms, never going back): the time it leaves the
   * link, or `undefined` if the queue is full (tail drop; it takes no place in the queue).
   */
  offer(size: number, now: number): number | undefined {
    this.#leave(now);
    const s = this.settings;
    if (s.limitPackets !== undefined && this.length >= s.limitPackets) return undefined;
    if (s.limitBytes !== undefined && this.#bytes + size > s.limitBytes) return undefined;
    const depart = Math.max(now, this.#lastDepart) + this.serviceMs(size);
    this.#lastDepart = depart;
    this.#departs.push(depart);
    this.#sizes.push(size);
    this.#bytes += size;
    return depart;
  }

  /** Forgets the datagrams gone by `now`. */
  #leave(now: number): void {
    while (this.#head < this.#departs.length && (this.#departs[this.#head] as number) <= now) {
      this.#bytes -= this.#sizes[this.#head] as number;
      this.#head++;
    }
    // Compact once the gone part is the larger half, so memory follows what is queued.
    if (this.#head > 64 && this.#head * 2 > this.#departs.length) {
      this.#departs = this.#departs.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
  }
}
