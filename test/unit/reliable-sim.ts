/**
 * An in-memory network and simulated clock for the reliable-delivery tests: senders and one
 * receiver exchange datagrams through a link that drops, duplicates, delays and reorders them as
 * a script says. No sockets, no timers, no sleeps: time jumps to the next event.
 */
import { ReliableReceiver } from '../../src/protocol/reliable-receiver.js';
import { ReliableSender, type ReliableSenderEvent } from '../../src/protocol/reliable-sender.js';
import { TimerHeap } from '../../src/protocol/timer-heap.js';

/** What the link does to one datagram: `copies` 0 drops it; each copy arrives `delay` ms later, the next `spread` ms after. */
export interface Fate {
  readonly copies: number;
  readonly delay: number;
  readonly spread: number;
}

/** Perfect and instant. */
export const CLEAN: Fate = { copies: 1, delay: 0, spread: 0 };

/**
 * One direction of the link: the i-th datagram gets `script[i]`; past the script, `after`
 * (by default the last delay, no loss): the link "eventually delivers".
 */
export class Link {
  used = 0;
  constructor(
    readonly script: readonly Fate[],
    readonly after: (i: number) => Fate = () => CLEAN,
  ) {}

  next(): Fate {
    const i = this.used++;
    return this.script[i] ?? this.after(i);
  }
}

export interface SimSender {
  readonly peer: string;
  readonly sender: ReliableSender;
  readonly messages: readonly Buffer[];
  readonly toReceiver: Link;
  readonly toSender: Link;
  readonly events: ReliableSenderEvent[];
  /** Every DATA datagram put on the link, with its time. */
  readonly sent: { at: number; datagram: Buffer }[];
  /** What the receiver delivered when given this sender's datagrams, copied. */
  readonly delivered: Buffer[];
  pushed: number;
}

/** The whole network: runs until every sender is done or failed, or `maxTime` passes. */
export class Simulation {
  now = 0;
  /** Datagrams in flight: arrival time, and an id into `#arrivals` (ids in send order break ties). */
  readonly #queue = new TimerHeap();
  readonly #arrivals = new Map<number, () => void>();
  #order = 0;
  /** Called after every step, to check invariants. */
  onStep: () => void = () => {};

  constructor(
    readonly receiver: ReliableReceiver,
    readonly senders: readonly SimSender[],
  ) {}

  run(maxTime = 10_000_000): void {
    for (;;) {
      for (const s of this.senders) this.#feed(s);
      this.onStep();
      if (this.senders.every((s) => s.sender.state === 'done' || s.sender.state === 'failed')) return;
      const next = this.#nextTime();
      if (next === undefined || next > maxTime) return;
      this.now = Math.max(this.now, next);
      for (let t = this.#queue.peek(); t !== undefined && t.at <= this.now; t = this.#queue.peek()) {
        this.#queue.pop();
        const arrive = this.#arrivals.get(t.id) as () => void;
        this.#arrivals.delete(t.id);
        arrive();
      }
      if ((this.receiver.nextDeadline() ?? Infinity) <= this.now) this.receiver.handleTimeout(this.now);
    }
  }

  #feed(s: SimSender): void {
    while (s.pushed < s.messages.length && s.sender.canPush()) s.sender.push(s.messages[s.pushed++] as Buffer);
    if (s.pushed === s.messages.length) s.sender.finish();
    for (const datagram of s.sender.pollTransmit(this.now)) {
      s.sent.push({ at: this.now, datagram });
      this.#transmit(s.toReceiver, () => this.#arrive(s, datagram));
    }
    s.events.push(...s.sender.pollEvents());
  }

  #arrive(s: SimSender, datagram: Buffer): void {
    const receipt = this.receiver.handleDatagram(datagram, { address: s.peer, port: 5555 }, this.now);
    if (receipt === undefined) throw new Error('the receiver did not take a DATA frame');
    s.delivered.push(...receipt.deliver.map((p) => Buffer.from(p)));
    const { ack } = receipt;
    if (ack !== undefined) this.#transmit(s.toSender, () => s.sender.handleDatagram(ack, this.now));
  }

  #transmit(link: Link, run: () => void): void {
    const fate = link.next();
    for (let i = 0; i < fate.copies; i++) {
      this.#arrivals.set(this.#order, run);
      this.#queue.push(this.now + fate.delay + i * fate.spread, this.#order++);
    }
  }

  #nextTime(): number | undefined {
    let next = Math.min(this.#queue.peek()?.at ?? Infinity, this.receiver.nextDeadline() ?? Infinity);
    for (const s of this.senders) next = Math.min(next, s.sender.nextDeadline() ?? Infinity);
    return next === Infinity ? undefined : next;
  }
}

/** A session id from a small number, for readable tests. */
export function sessionId(n: number): Buffer {
  const id = Buffer.alloc(8);
  id.writeUInt32BE(n, 4);
  return id;
}

/** A sender with its links, ready for a {@link Simulation}. */
export function simSender(
  peer: string,
  sender: ReliableSender,
  messages: readonly Buffer[],
  toReceiver = new Link([]),
  toSender = new Link([]),
): SimSender {
  return { peer, sender, messages, toReceiver, toSender, events: [], sent: [], delivered: [], pushed: 0 };
}
