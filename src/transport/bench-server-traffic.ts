/**
 * The bench server's own test traffic (`--reverse`, `--bidir`; docs/protocol.md, "Bench
 * frames"): data frames from the server's bound socket to each client that returned its GO
 * cookie. Every session the server sends for shares one loop, each with its own {@link Pacer}:
 * a loop per session on one thread would each hold the thread while waiting for its next
 * datagram (it spins or blocks, see bench-traffic.ts), and the others would fall behind. A
 * session's traffic stops at its announced duration, when the server closes, or when its client
 * has been silent for {@link SILENT_STOP_MS}.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { encodeBenchFrame, stampBenchData } from '../protocol/bench-frames.js';
import { Pacer } from '../protocol/bench-pacer.js';
import type { ReceiveBackend } from '../socket/backend.js';
import { YIELD_EVERY_NS, waitNs } from './bench-traffic.js';
import { milliseconds, nanoseconds } from './clock.js';

/** Datagrams handed to the socket and not yet sent, per session, before the loop waits for them. */
const HIGH_WATER_MARK = 1024;
/** The server stops sending to a client it has not heard from for this long. */
export const SILENT_STOP_MS = 2000;

/** One session's traffic, as the server's driver hands it over. */
export interface ServerTraffic {
  readonly session: bigint;
  readonly port: number;
  readonly address: string;
  readonly length: number;
  readonly durationMs: number;
  /** Datagrams per second; 0: as fast as the socket takes them. */
  readonly rate: number;
  /** Whether the client was heard lately: the traffic stops when it was not. */
  readonly alive: () => boolean;
  /** Datagrams sent so far, and whether the traffic is over. */
  readonly progress: (sent: number, done: boolean) => void;
}

interface Lane {
  readonly t: ServerTraffic;
  readonly template: Buffer;
  readonly pacer: Pacer | undefined;
  readonly end: number;
  seq: number;
  inFlight: number;
}

/**
 * Sends every session's traffic from one socket, in one loop.
 * @example
 * const loop = new ServerSendLoop(backend, signal);
 * loop.add({ session, port, address, length: 64, durationMs: 1000, rate: 10_000, alive, progress });
 */
export class ServerSendLoop {
  readonly #backend: ReceiveBackend;
  readonly #signal: AbortSignal;
  readonly #lanes = new Set<Lane>();
  #running = false;
  /** Wakes the loop when a send completes while every lane waits on its socket. */
  #wake: (() => void) | undefined;

  constructor(backend: ReceiveBackend, signal: AbortSignal) {
    this.#backend = backend;
    this.#signal = signal;
  }

  /** Starts sending one session's traffic, alongside any already running. */
  add(t: ServerTraffic): void {
    const now = nanoseconds();
    this.#lanes.add({
      t,
      template: encodeBenchFrame({ kind: 'data', session: t.session, seq: 0, sentAt: 0, length: t.length }),
      pacer: t.rate > 0 ? new Pacer({ rate: t.rate, nowNs: now }) : undefined,
      end: now + t.durationMs * 1e6,
      seq: 0,
      inFlight: 0,
    });
    if (!this.#running) void this.#run();
  }

  #finish(lane: Lane): void {
    this.#lanes.delete(lane);
    lane.t.progress(lane.seq, true);
  }

  /** One datagram of `lane`, stamped `now` (ns) on the epoch in whole µs. */
  #send(lane: Lane, now: number, epochUs: (ns: number) => number): void {
    // A buffer each: the socket holds it until sent.
    const frame = Buffer.from(lane.template);
    stampBenchData(frame, lane.seq++, epochUs(now));
    lane.inFlight++;
    this.#backend.send(frame, lane.t.port, lane.t.address, () => {
      // Best effort, like every reply: a failed send is a datagram the client counts as lost.
      lane.inFlight--;
      this.#wake?.();
    });
  }

  async #run(): Promise<void> {
    this.#running = true;
    const ns0 = nanoseconds();
    const us0 = milliseconds() * 1000;
    const epochUs = (ns: number): number => Math.floor(us0 + (ns - ns0) / 1000);
    let yieldAt = 0;
    while (this.#lanes.size > 0) {
      const now = nanoseconds();
      if (now >= yieldAt || this.#signal.aborted) {
        for (const lane of this.#lanes) {
          if (this.#signal.aborted || now >= lane.end || !lane.t.alive()) this.#finish(lane);
          else lane.t.progress(lane.seq, false);
        }
        await nextTurn();
        yieldAt = nanoseconds() + YIELD_EVERY_NS;
        continue;
      }
      let wait = Infinity;
      let sent = false;
      for (const lane of this.#lanes) {
        if (now >= lane.end) {
          this.#finish(lane);
          continue;
        }
        if (lane.inFlight >= HIGH_WATER_MARK) continue;
        if (lane.pacer === undefined || lane.pacer.available(now) > 0) {
          lane.pacer?.take(1);
          this.#send(lane, now, epochUs);
          sent = true;
        } else {
          wait = Math.min(wait, lane.pacer.wait(), lane.end - now);
        }
      }
      if (sent) continue;
      // Every lane waits on its socket: until a send completes.
      if (wait === Infinity) await new Promise<void>((resolve) => (this.#wake = resolve)).finally(() => (this.#wake = undefined));
      else if (await waitNs(now, wait, this.#signal)) yieldAt = nanoseconds() + YIELD_EVERY_NS;
    }
    this.#running = false;
  }
}
