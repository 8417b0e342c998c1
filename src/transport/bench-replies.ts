/**
 * How the bench client hears the server: every reply to the sender's socket is decoded as it
 * arrives and handed to whoever waits for it, and requests are sent again until answered.
 */
import { decodeBenchFrame, type BenchFrame } from '../protocol/bench-frames.js';
import type { Sender } from './sender.js';
import { monotonicMicroseconds } from './clock.js';

/** A frame from the server, with when it arrived (µs, {@link monotonicMicroseconds}). */
export interface Heard<F extends BenchFrame = BenchFrame> {
  readonly frame: F;
  readonly at: number;
}

/** Reads `bytes[start, start + length)`, which arrived at `at` ({@link monotonicMicroseconds}); true when it took it. */
export type Tap = (bytes: Buffer, start: number, length: number, at: number) => boolean;

interface Waiter {
  readonly match: (f: BenchFrame) => boolean;
  readonly resolve: (h: Heard | undefined) => void;
}

/**
 * Takes every datagram the sender receives (`Sender.onMessageBytes`, in place) and hands it to
 * the tap, or decodes it and hands the frame to the first waiter it matches. Frames nobody
 * takes are dropped: UDP replies are idempotent.
 * @example
 * const replies = new ReplyPump(sender);
 * const ack = await replies.wait((f) => f.kind === 'start-ack', 200);
 * replies.stop();
 */
export class ReplyPump {
  readonly #sender: Sender;
  readonly #waiters = new Set<Waiter>();
  #tap: Tap | undefined;

  constructor(sender: Sender) {
    this.#sender = sender;
    sender.onMessageBytes((bytes, start, length) => this.#heard(bytes, start, length));
  }

  #heard(bytes: Buffer, start: number, length: number): void {
    const at = monotonicMicroseconds();
    if (this.#tap?.(bytes, start, length, at) === true || this.#waiters.size === 0) return;
    const frame = decodeBenchFrame(bytes.subarray(start, start + length));
    if (frame === undefined) return;
    for (const w of this.#waiters) {
      if (!w.match(frame)) continue;
      this.#waiters.delete(w);
      w.resolve({ frame, at });
      return;
    }
  }

  /**
   * Hands every datagram to `tap` first, as it arrives, in the receive buffer (`undefined`: no
   * more); it returns true for one it took. For a loop that answers each reply at once (round
   * trips), with no promise, timer, object or copy per reply.
   */
  tap(tap: Tap | undefined): void {
    this.#tap = tap;
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

  /** Stops taking replies; pending waits run out their time. */
  stop(): void {
    this.#tap = undefined;
    this.#sender.onMessage(undefined);
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
