/**
 * One stream of a bench test (docs/protocol.md, "Bench frames"): its own socket and session,
 * its START, its interval readings and its final RESULT. `-P N` runs N of them side by side,
 * from N source ports, as iperf3 does.
 *
 * Readings ask for the extended RESULT (delay variation). A server older than that flag ignores
 * the request: the first one that goes unanswered, with no extended answer heard before, makes
 * the stream ask the old way from then on.
 */
import { BenchArrivals } from '../protocol/bench-arrivals.js';
import { encodeBenchFrame, isBenchDataAt, u64At, type BenchDirection, type BenchFrame, type BenchResultStats } from '../protocol/bench-frames.js';
import { IntervalSeries, readingOf, type BenchInterval, type BenchReading } from '../protocol/bench-intervals.js';
import { ReplyPump, ask, type Heard } from './bench-replies.js';
import type { Sender } from './sender.js';

type Result = Extract<BenchFrame, { kind: 'result' }>;
type Sent = Extract<BenchFrame, { kind: 'sent' }>;

/** A stream's socket, session and what it has heard. */
export class BenchStream {
  readonly sender: Sender;
  readonly replies: ReplyPump;
  readonly session: bigint;
  readonly series: IntervalSeries;
  /** The server's traffic in intervals, as this end counted it (`--reverse`, `--bidir`). */
  readonly reverseSeries: IntervalSeries;
  readonly direction: BenchDirection;
  /** The server's traffic as this end counts it (`--reverse`, `--bidir`), once {@link countArrivals} ran. */
  arrivals: BenchArrivals | undefined;
  /** This socket's kernel drop counter when the server's traffic began, if readable. */
  dropsAtStart: number | undefined;
  /** Ask for extended RESULTs: until an older server shows it does not answer them. */
  #extended = true;
  #heardExtended = false;
  /** A reading asked for and not yet answered (or given up on), of the client's traffic and of the server's. */
  #pending = false;
  #pendingSent = false;

  constructor(sender: Sender, session: bigint, length: number, direction: BenchDirection = 'forward') {
    this.sender = sender;
    this.replies = new ReplyPump(sender);
    this.session = session;
    this.series = new IntervalSeries(length);
    this.reverseSeries = new IntervalSeries(length);
    this.direction = direction;
  }

  /**
   * Counts the server's data frames of this session where they arrive, in the receive buffer
   * (no object each), until {@link stopArrivals}.
   */
  countArrivals(): void {
    const arrivals = new BenchArrivals();
    this.arrivals = arrivals;
    const hi = Number(this.session >> 32n);
    const lo = Number(this.session & 0xffff_ffffn);
    // Arrival times on the epoch, in whole microseconds, as the server stamps its sends.
    const originUs = performance.timeOrigin * 1000;
    this.replies.tap((buf, start, length, at) => {
      if (!isBenchDataAt(buf, start, length) || buf.readUInt32BE(start + 4) !== hi || buf.readUInt32BE(start + 8) !== lo) return false;
      arrivals.record(u64At(buf, start + 12), u64At(buf, start + 20), Math.round(originUs + at));
      return true;
    });
  }

  /** Stops counting the server's traffic. */
  stopArrivals(): void {
    this.replies.tap(undefined);
  }

  /** Tells the server this client is still there (it stops sending to a silent one). */
  keepAlive(): void {
    this.sender.writeNow(encodeBenchFrame({ kind: 'sent-request', session: this.session }));
  }

  /**
   * Reads the server's traffic at `atS`: its count sent (asked for, which also keeps the session
   * alive) against this end's counts when the answer comes; `undefined` when none came within
   * `timeoutMs` or one was still pending.
   */
  async readSent(atS: number, timeoutMs: number): Promise<BenchReading | undefined> {
    const arrivals = this.arrivals;
    if (this.#pendingSent || arrivals === undefined) return undefined;
    this.#pendingSent = true;
    const answer = this.replies.wait((f): f is Sent => f.kind === 'sent' && f.session === this.session, timeoutMs);
    this.keepAlive();
    const heard = await answer;
    this.#pendingSent = false;
    return heard && readingOf(atS, heard.frame.sent, arrivals.counts(undefined));
  }

  /** How many datagrams the server sent, once it is done; asked again after each wait of `schedule`. */
  async serverSent(schedule: readonly number[]): Promise<number | undefined> {
    const request = encodeBenchFrame({ kind: 'sent-request', session: this.session });
    const done = (f: BenchFrame): f is Sent => f.kind === 'sent' && f.session === this.session && f.final;
    return (await ask(this.sender, this.replies, request, done, schedule))?.frame.sent;
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
