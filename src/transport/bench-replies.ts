/**
 * How the bench client hears the server: one receive loop on the sender's socket that decodes
 * bench frames and hands each to whoever waits for it, and requests sent again until answered.
 */
import { decodeBenchFrame, type BenchFrame } from '../protocol/bench-frames.js';
import type { Sender } from '../socket/sender.js';
import { microseconds } from './clock.js';

/** How long one receive waits before the loop checks whether it should stop. */
const POLL_MS = 100;

/** A frame from the server, with when it arrived (µs, {@link microseconds}). */
export interface Heard<F extends BenchFrame = BenchFrame> {
  readonly frame: F;
  readonly at: number;
}

interface Waiter {
  readonly match: (f: BenchFrame) => boolean;
  readonly resolve: (h: Heard | undefined) => void;
}

/**
 * Keeps exactly one `Sender.receive` pending (a second one would steal the first one's reply)
 * and dispatches what arrives. Frames nobody waits for are dropped: UDP replies are idempotent.
 * @example
 * const replies = new ReplyPump(sender);
 * const ack = await replies.wait((f) => f.kind === 'start-ack', 200);
 * replies.stop();
 */
export class ReplyPump {
  readonly #waiters = new Set<Waiter>();
  #running = true;

  constructor(sender: Sender) {
    void this.#loop(sender);
  }

  async #loop(sender: Sender): Promise<void> {
    while (this.#running) {
      const d = await sender.receive(POLL_MS);
      const at = microseconds();
      const frame = d && decodeBenchFrame(d.data);
      if (frame === undefined) continue;
      for (const w of this.#waiters) {
        if (!w.match(frame)) continue;
        this.#waiters.delete(w);
        w.resolve({ frame, at });
        break;
      }
    }
  }

  /** The first frame `match` accepts within `timeoutMs`, or `undefined`. */
  wait<F extends BenchFrame>(match: (f: BenchFrame) => f is F, timeoutMs: number): Promise<Heard<F> | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        match,
        resolve: (h) => {
          clearTimeout(timer);
          resolve(h as Heard<F> | undefined);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        resolve(undefined);
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Ends the loop (within {@link POLL_MS}); pending waits run out their time. */
  stop(): void {
    this.#running = false;
  }
}

/**
 * Waits of a request sent again until answered, doubling from 200 ms and adding up to `totalMs`.
 * @example retrySchedule(3000) // [200, 400, 800, 1600]
 */
export function retrySchedule(totalMs: number): number[] {
  const waits: number[] = [];
  let left = totalMs;
  for (let wait = 200; left > 0; wait *= 2) {
    waits.push(Math.min(wait, left));
    left -= wait;
  }
  return waits;
}

/**
 * Sends `request`, and again after each wait of `schedule` that passes without a frame `match`
 * accepts. Resolves with that frame, or `undefined` once the schedule runs out.
 */
export async function ask<F extends BenchFrame>(
  sender: Sender,
  replies: ReplyPump,
  request: Buffer,
  match: (f: BenchFrame) => f is F,
  schedule: readonly number[],
): Promise<Heard<F> | undefined> {
  for (const wait of schedule) {
    const answer = replies.wait(match, wait);
    sender.write(request);
    const heard = await answer;
    if (heard) return heard;
  }
  return undefined;
}
