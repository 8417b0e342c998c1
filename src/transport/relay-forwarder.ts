/**
 * The running relay that {@link relay} (relay.ts) starts: runs the sans-I/O {@link Impairment}
 * core between clients and one upstream server, over a front socket, one upstream socket per
 * client (so replies find their way back) and one timer, armed for whatever comes first: the
 * next datagram due, or the next client gone idle.
 *
 * Longer than most files (about 320 lines): the two directions share the client table, the timer,
 * the queue bound, the batched sends and the trace, so they stay together; options, sealing and
 * sessions live apart (relay.ts, relay-sealing.ts, relay-sessions.ts).
 */
import { EventEmitter } from 'node:events';
import type { Fate, Impairment, ImpairmentCounts } from '../protocol/impairment.js';
import type { Direction, ImpairmentSettings } from '../protocol/impairment-options.js';
import type { DatagramBatch } from '../socket/batch.js';
import type { BoundAddress, Listener } from './listener.js';
import type { ResolvedAddress } from '../socket/resolve.js';
import type { SocketState } from '../types.js';
import { milliseconds } from './clock.js';
import { RelaySessions, type RelaySession } from './relay-sessions.js';
import { looksSealed, type RelaySealing } from './relay-sealing.js';
import { CloseOnce } from './close-once.js';
import type { CaptureEndpoint, CaptureWriter } from './capture-writer.js';

/** Counters for one direction: the core's, plus sends the OS refused. */
export interface RelayDirectionStats extends ImpairmentCounts {
  /** Datagrams let through whose send failed. */
  failed: number;
  /** With a key: datagrams that did not open, never forwarded nor counted in `received`. */
  refused: number;
}

/** What a relay has done so far. `up`: client to upstream; `down`: back. */
export interface RelayStats {
  readonly up: RelayDirectionStats;
  readonly down: RelayDirectionStats;
  /**
   * Datagrams from clients the kernel dropped before the relay read them (its listening
   * socket's buffer was full); read when the relay closes, `undefined` before or where unknown.
   */
  readonly kernelDropped: number | undefined;
  /** Clients with an upstream socket now. */
  readonly sessions: number;
  /** Clients seen since the start. */
  readonly sessionsOpened: number;
}

/** One datagram's fate, for `--trace`: what a relay passes to `onTrace` as each one arrives. */
export interface TraceEntry {
  /** Milliseconds since the relay started (fractional). */
  readonly timeMs: number;
  readonly direction: Direction;
  /** Payload bytes as it arrived. */
  readonly size: number;
  /** The core's fate, or `'refused'` for a datagram that did not open with the key. */
  readonly fate: Fate | 'refused';
  readonly duplicated: boolean;
  readonly corrupted: boolean;
  readonly reordered: boolean;
  /** Forwarded: planned time from arrival to leaving (delay, jitter, bottleneck queue), ms. */
  readonly delayMs: number;
}

export interface Parcel {
  readonly session: RelaySession;
  readonly direction: Direction;
  readonly data: Buffer;
}

/** Datagram `i` of a batch, as a view into the batch's buffer (reused for the next batch). */
const viewOf = (b: DatagramBatch, i: number): Buffer => {
  const start = b.starts[i] as number;
  return b.data.subarray(start, start + (b.lengths[i] as number));
};

/**
 * The queue keeps its own copy of a datagram, exactly its size. Not from Node's shared pool: a
 * small pooled copy held in the queue would keep its whole 8 KiB slab alive, unseen by the
 * queue's byte budget.
 */
export const keepParcel = (p: Parcel): Parcel => {
  const copy = Buffer.allocUnsafeSlow(p.data.length);
  p.data.copy(copy);
  return { ...p, data: copy };
};

/**
 * A running relay. Emits `'error'` when its listening socket fails, `'sealed'` (once, without a
 * key) when a sealed frame passes through, and `'close'`.
 */
export class Relay extends EventEmitter {
  readonly #closer = new CloseOnce();
  #state: SocketState = 'bound';
  readonly #front: Listener;
  readonly #core: Impairment<Parcel>;
  readonly #sessions: RelaySessions;
  readonly #failed: Record<Direction, number> = { up: 0, down: 0 };
  readonly #refused: Record<Direction, number> = { up: 0, down: 0 };
  readonly #sealing: RelaySealing | undefined;
  readonly #capture: CaptureWriter | undefined;
  readonly #upstreamEnd: CaptureEndpoint;
  #sawSealed = false;
  readonly #frontPort: number;
  #timer: NodeJS.Timeout | undefined;
  #timerAt: number | undefined;
  #kernelDropped: number | undefined;
  readonly #onTrace: ((entry: TraceEntry) => void) | undefined;
  /** Nothing to impair, open, trace or record: batches go out as they came (see #passBatch). */
  readonly #passThrough: boolean;
  readonly #startedAt = milliseconds();
  /** The seed of the random decisions (given, or drawn at start). */
  readonly seed: number;
  /** Where datagrams go: the resolved upstream. */
  readonly upstream: ResolvedAddress & { readonly port: number };

  /** @internal use relay (relay.ts) */
  constructor(
    front: Listener,
    upstream: ResolvedAddress & { port: number },
    core: Impairment<Parcel>,
    seed: number,
    limits: { idleTimeoutMs: number; maxSessions: number },
    sealing?: RelaySealing,
    capture?: CaptureWriter,
    onTrace?: (entry: TraceEntry) => void,
  ) {
    super();
    this.#onTrace = onTrace;
    this.#capture = capture;
    this.#upstreamEnd = { address: upstream.address, port: upstream.port };
    this.#front = front;
    this.#frontPort = front.address().port;
    this.#sealing = sealing;
    this.upstream = upstream;
    this.#core = core;
    this.#passThrough = core.transparent && sealing === undefined && capture === undefined && onTrace === undefined;
    this.seed = seed;
    this.#sessions = new RelaySessions({
      upstream,
      ...limits,
      onReply: (s, b, port) => this.#onReply(s, b, port),
      onClose: (s) => {
        this.#core.forget(s.flows.up);
        this.#core.forget(s.flows.down);
      },
    });
    front.onBatch((b) => this.#onRequest(b));
    front.on('error', (err: Error) => this.emit('error', err));
  }

  /** The address and port clients send to (read the port here after asking for port 0). */
  address(): BoundAddress {
    return this.#front.address();
  }

  /** `'bound'` while relaying, then `'closing'` and `'closed'`. */
  get state(): SocketState {
    return this.#state;
  }

  /** The impairments, checked and with their defaults. */
  get settings(): ImpairmentSettings {
    return this.#core.settings;
  }

  /** A snapshot of the counters. */
  get stats(): RelayStats {
    const { up, down } = this.#core.counts;
    return {
      up: { ...up, failed: this.#failed.up, refused: this.#refused.up },
      down: { ...down, failed: this.#failed.down, refused: this.#refused.down },
      kernelDropped: this.#kernelDropped,
      sessions: this.#sessions.size,
      sessionsOpened: this.#sessions.opened,
    };
  }

  #onRequest(b: DatagramBatch): void {
    const now = milliseconds();
    if (this.#passThrough) return this.#passBatch(b, now);
    for (let i = 0; i < b.count; i++) {
      const data = viewOf(b, i);
      // Opened before a session exists: what does not open never gets an upstream socket.
      const opened = this.#sealing ? this.#sealing.open(data, 'up', this.#frontPort, Date.now()) : undefined;
      if (typeof opened === 'string') {
        this.#refused.up++;
        if (this.#onTrace) this.#refusedTrace('up', data.length, now);
        continue;
      }
      const s = this.#sessions.get(b.replyAddresses[b.senders[i] as number] as string, b.ports[i] as number, now);
      const out = opened ? this.#sealing!.seal(opened, s, 'up', this.upstream.port, Date.now()) : this.#notice(data);
      this.#core.handleDatagram({ session: s, direction: 'up', data: out }, 'up', s.flows.up, now);
      if (this.#onTrace) this.#trace('up', data.length, now);
    }
    this.#run(now);
  }

  /** `port`: the local port of the client's upstream socket, where the replies arrived. */
  #onReply(s: RelaySession, b: DatagramBatch, port: number): void {
    if (this.#state !== 'bound' || s.closed) return;
    const now = milliseconds();
    if (this.#passThrough) {
      // The socket is not connected: only what comes from the upstream's port is a reply.
      const run: Buffer[] = [];
      for (let i = 0; i < b.count; i++) if (b.ports[i] === this.upstream.port) run.push(this.#notice(viewOf(b, i)));
      if (run.length === 0) return;
      this.#sessions.touch(s, now);
      this.#core.countPassed('down', run.length);
      void this.#sendRun(s, 'down', run);
      return this.#run(now);
    }
    for (let i = 0; i < b.count; i++) {
      // The socket is not connected: only what comes from the upstream's port is a reply.
      if (b.ports[i] !== this.upstream.port) continue;
      this.#sessions.touch(s, now);
      let data = viewOf(b, i);
      if (this.#sealing) {
        const opened = this.#sealing.open(data, 'down', port, Date.now());
        if (typeof opened === 'string') {
          this.#refused.down++;
          if (this.#onTrace) this.#refusedTrace('down', data.length, now);
          continue;
        }
        data = this.#sealing.seal(opened, s, 'down', s.clientPort, Date.now());
      } else this.#notice(data);
      const size = data.length;
      this.#core.handleDatagram({ session: s, direction: 'down', data }, 'down', s.flows.down, now);
      if (this.#onTrace) this.#trace('down', size, now);
    }
    this.#run(now);
  }

  /**
   * A batch from clients with nothing to do to it: each run from one client leaves in one send
   * (segmented by the kernel), counted as the core would count it, without the core's work per
   * datagram (its random draws decide nothing when nothing is impaired). A flood of small
   * datagrams spent a third of the relay's time there.
   */
  #passBatch(b: DatagramBatch, now: number): void {
    this.#core.countPassed('up', b.count);
    for (let i = 0; i < b.count; ) {
      const sender = b.senders[i] as number;
      const port = b.ports[i] as number;
      let end = i + 1;
      while (end < b.count && b.senders[end] === sender && b.ports[end] === port) end++;
      const s = this.#sessions.get(b.replyAddresses[sender] as string, port, now);
      const run: Buffer[] = [];
      for (let k = i; k < end; k++) run.push(this.#notice(viewOf(b, k)));
      void this.#sendRun(s, 'up', run);
      i = end;
    }
    this.#run(now);
  }

  /** Tells `onTrace` the fate the core just gave a datagram. */
  #trace(direction: Direction, size: number, now: number): void {
    const v = this.#core.verdict;
    this.#onTrace!({ timeMs: now - this.#startedAt, direction, size, fate: v.fate, duplicated: v.duplicated, corrupted: v.corrupted, reordered: v.reordered, delayMs: v.delayMs });
  }

  #refusedTrace(direction: Direction, size: number, now: number): void {
    this.#onTrace!({ timeMs: now - this.#startedAt, direction, size, fate: 'refused', duplicated: false, corrupted: false, reordered: false, delayMs: 0 });
  }

  /** Without a key: says once that sealed frames pass (the far end will refuse them). */
  #notice(data: Buffer): Buffer {
    if (!this.#sawSealed && looksSealed(data)) {
      this.#sawSealed = true;
      this.emit('sealed');
    }
    return data;
  }

  /** Sends what is due, drops idle clients, and arms the one timer for what comes next. */
  #run(now: number): void {
    this.#sendAll(this.#core.pollTransmit(now));
    this.#sessions.expire(now);
    const due = this.#core.nextDeadline();
    const idle = this.#sessions.nextExpiry();
    const next = due === undefined ? idle : idle === undefined ? due : Math.min(due, idle);
    if (next === undefined || (this.#timerAt !== undefined && this.#timerAt <= next)) return;
    clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timerAt = undefined;
      this.#run(milliseconds());
    }, Math.max(0, Math.ceil(next - now)));
    this.#timer.unref();
  }

  /**
   * Sends parcels in order, each run of them for one client and direction in one call (up to 64
   * per sendmmsg with the addon): one syscall per datagram cost the relay most of its time.
   */
  #sendAll(parcels: readonly Parcel[]): Promise<void> {
    const sends: Promise<void>[] = [];
    for (let i = 0; i < parcels.length; ) {
      const first = parcels[i] as Parcel;
      let end = i + 1;
      while (end < parcels.length && (parcels[end] as Parcel).session === first.session && (parcels[end] as Parcel).direction === first.direction) end++;
      if (end - i === 1) sends.push(this.#send(first));
      else {
        const run = parcels.slice(i, end);
        if (this.#capture) for (const p of run) this.#record(first.session, p.direction, p.data);
        sends.push(this.#sendRun(first.session, first.direction, run.map((p) => p.data)));
      }
      i = end;
    }
    return Promise.all(sends).then(() => undefined);
  }

  /**
   * Sends datagrams of one client and direction in one call (up to 64 per sendmmsg with the
   * addon, runs of one size segmented by the kernel); failures are counted. A new client's
   * first datagrams wait for its upstream socket to bind, as copies (they may be views of a
   * receive buffer that the next batch overwrites), and then leave as one run.
   */
  #sendRun(s: RelaySession, direction: Direction, data: Buffer[]): Promise<void> {
    const [port, address] = direction === 'down' ? [s.clientPort, s.clientAddress] : [this.upstream.port, this.upstream.address];
    const socket = direction === 'down' ? this.#front : s.closed ? undefined : s.socket;
    let failed: Promise<number>;
    if (socket !== undefined) failed = socket.sendManyTo(data, port, address);
    else if (s.closed) failed = Promise.resolve(data.length);
    else {
      const copies = data.map((d) => Buffer.from(d));
      failed = s.ready.then((bound) => (bound === undefined || s.closed ? copies.length : bound.sendManyTo(copies, port, address)));
    }
    return failed.then((n) => void (this.#failed[direction] += n));
  }

  #send(p: Parcel): Promise<void> {
    const { session: s, direction, data } = p;
    if (this.#capture) this.#record(s, direction, data);
    let sent: Promise<void>;
    if (direction === 'down') sent = this.#front.sendTo(data, s.clientPort, s.clientAddress);
    else if (s.socket !== undefined && !s.closed) sent = s.socket.sendTo(data, this.upstream.port, this.upstream.address);
    else {
      // The client's socket is still binding: `data` may be a view of a receive buffer that the
      // next batch overwrites, so what waits for the socket waits as a copy.
      const copy = Buffer.from(data);
      sent = s.ready.then((socket) => {
        if (socket === undefined || s.closed) throw new Error('session closed');
        return socket.sendTo(copy, this.upstream.port, this.upstream.address);
      });
    }
    // Best effort, like UDP itself: a failed send is counted, never thrown.
    return sent.catch(() => void this.#failed[direction]++);
  }

  /** Writes a datagram leaving now to the capture, as between the client and the upstream. */
  #record(s: RelaySession, direction: Direction, data: Buffer): void {
    const client = { address: s.clientAddress, port: s.clientPort };
    if (direction === 'up') this.#capture!.writeDatagram(data, client, this.#upstreamEnd, milliseconds());
    else this.#capture!.writeDatagram(data, this.#upstreamEnd, client, milliseconds());
  }

  /** Sends what is still held back, closes every socket. Safe to call more than once: every call waits for the one close. */
  close(): Promise<void> {
    return this.#closer.run(async () => {
      this.#state = 'closing';
      clearTimeout(this.#timer);
      this.#front.onBatch(undefined);
      await this.#sendAll(this.#core.drain());
      await this.#sessions.closeAll();
      this.#kernelDropped = await this.#front.kernelDrops();
      await this.#front.close();
      this.#state = 'closed';
      this.emit('close');
    });
  }
}
