/**
 * One stream of a bench test (docs/protocol.md, "Bench frames"): its own socket and session,
 * its START, its interval readings and its final RESULT. `-P N` runs N of them side by side,
 * from N source ports, as iperf3 does.
 *
 * Readings ask for the extended RESULT (delay variation). A server older than that flag ignores
 * the request: the first one that goes unanswered, with no extended answer heard before, makes
 * the stream ask the old way from then on.
 */
import { encodeBenchFrame, type BenchFrame, type BenchResultStats } from '../protocol/bench-frames.js';
import { IntervalSeries, readingOf, type BenchInterval, type BenchReading } from '../protocol/bench-intervals.js';
import { ReplyPump, type Heard } from './bench-replies.js';
import type { Sender } from './sender.js';

type Result = Extract<BenchFrame, { kind: 'result' }>;

/** A stream's socket, session and what it has heard. */
export class BenchStream {
  readonly sender: Sender;
  readonly replies: ReplyPump;
  readonly session: bigint;
  readonly series: IntervalSeries;
  /** Ask for extended RESULTs: until an older server shows it does not answer them. */
  #extended = true;
  #heardExtended = false;
  /** A reading asked for and not yet answered (or given up on). */
  #pending = false;

  constructor(sender: Sender, session: bigint, length: number) {
    this.sender = sender;
    this.replies = new ReplyPump(sender);
    this.session = session;
    this.series = new IntervalSeries(length);
  }

  #isResult(final: boolean): (f: BenchFrame) => f is Result {
    return (f): f is Result => f.kind === 'result' && f.session === this.session && f.final === final;
  }

  #request(final: boolean, sent: number): Buffer {
    return encodeBenchFrame({ kind: 'result-request', session: this.session, final, sent, extended: this.#extended });
  }

  #heard(h: Heard<Result> | undefined): Heard<Result> | undefined {
    if (h?.frame.stats.delay) this.#heardExtended = true;
    else if (h === undefined && !this.#heardExtended) this.#extended = false;
    return h;
  }

  /**
   * Asks for the server's counts so far (at `atS`, with `sent` sent) and resolves with the
   * reading, or `undefined` when no answer came within `timeoutMs` or one was still pending.
   */
  async read(atS: number, sent: number, timeoutMs: number): Promise<BenchReading | undefined> {
    if (this.#pending) return undefined;
    this.#pending = true;
    const answer = this.replies.wait(this.#isResult(false), timeoutMs);
    // At once, not queued: a queued datagram would hold every data frame behind it until the
    // pacing loop's next pause, turning even pacing into a burst.
    this.sender.writeNow(this.#request(false, sent));
    const heard = this.#heard(await answer);
    this.#pending = false;
    return heard && readingOf(atS, sent, heard.frame.stats);
  }

  /** The final RESULT, asked for again after each wait of `schedule`; `undefined` if none came. */
  async final(sent: number, schedule: readonly number[]): Promise<BenchResultStats | undefined> {
    for (const wait of schedule) {
      const answer = this.replies.wait(this.#isResult(true), wait);
      this.sender.write(this.#request(true, sent));
      const heard = this.#heard(await answer);
      if (heard) return heard.frame.stats;
    }
    return undefined;
  }

  /** Closes this stream's interval at `reading`. */
  close(reading: BenchReading): BenchInterval {
    return this.series.close(reading);
  }
}
