/**
 * The run loop `listen` and `listen --tcp` share: the run ends on the stop word or `--count`
 * (the caller says), after `--timeout` without a message, on Ctrl-C or SIGTERM, or on a failure;
 * then the caller closes its listener and the run prints the summary and what failed, in that
 * order, and gives the exit code.
 */
import { EXIT_FAILURE, EXIT_OK, type CliIo } from './io.js';

/** How a run ends by itself. */
export interface ListenRunOptions {
  /** `--count`: the run succeeds once this many are shown, and fails at `--timeout` short of it. */
  readonly count?: number | undefined;
  /** `--timeout`: end after this long without a message. */
  readonly timeoutMs?: number | undefined;
  /** What is counted, for the timeout's message: `datagram` or `message`. */
  readonly noun: string;
}

/** One listen run, from the first message to the summary. */
export class ListenRun {
  /** Messages and bytes shown (the caller counts them as it shows them). */
  shown = 0;
  shownBytes = 0;
  #ended = false;
  #lastAt = Date.now();
  #failure: string | undefined;
  #logFailure: string | undefined;
  #idle: NodeJS.Timeout | undefined;
  #resolve!: (code: number) => void;
  readonly #finished = new Promise<number>((resolve) => (this.#resolve = resolve));
  readonly #io: CliIo;
  readonly #onAbort = (): void => this.finish(EXIT_OK);

  constructor(io: CliIo, readonly options: ListenRunOptions) {
    this.#io = io;
    io.signal.addEventListener('abort', this.#onAbort, { once: true });
    if (io.signal.aborted) this.finish(EXIT_OK);
    if (options.timeoutMs !== undefined) this.#idle = setTimeout(() => this.#checkIdle(options.timeoutMs!), options.timeoutMs);
  }

  /** True once the run has ended: what arrives from then on is counted, not shown. */
  get ended(): boolean {
    return this.#ended;
  }

  /** A message arrived at `at` (ms, Date.now() clock): the `--timeout` starts again. */
  activity(at: number): void {
    this.#lastAt = at;
  }

  /** True when `n` more shown messages reach `--count`. */
  reachesCount(n: number): boolean {
    return this.options.count !== undefined && this.shown + n >= this.options.count;
  }

  /** Ends the run; the first call decides the code. */
  finish(code: number): void {
    this.#ended = true;
    this.#resolve(code);
  }

  /** Ends the run with exit 1 and `what` (one line, after the summary). */
  fail(what: string): void {
    this.#failure ??= what;
    this.finish(EXIT_FAILURE);
  }

  /** The log file failed: the run ends, and even a clean end costs exit 1. */
  failLog(what: string): void {
    this.#logFailure ??= what;
    this.finish(EXIT_FAILURE);
  }

  /** Waits for the end, then stops the timer and the abort listener. */
  async wait(): Promise<number> {
    const code = await this.#finished;
    clearTimeout(this.#idle);
    this.#io.signal.removeEventListener('abort', this.#onAbort);
    return code;
  }

  /** Prints the summary line, then what failed; returns the exit code. */
  report(code: number, summary: string): number {
    this.#io.stderr.write(summary + '\n');
    if (this.#failure !== undefined) this.#io.stderr.write(`udpkit: ${this.#failure}\n`);
    // The log may fail only while its last lines are flushed, after the run ended well.
    if (this.#logFailure !== undefined) this.#io.stderr.write(`udpkit: ${this.#logFailure}\n`);
    return this.#logFailure !== undefined ? EXIT_FAILURE : code;
  }

  // One timer, re-armed for the remaining time, instead of a reset per message.
  #checkIdle(limit: number): void {
    const quiet = Date.now() - this.#lastAt;
    if (quiet < limit) {
      this.#idle = setTimeout(() => this.#checkIdle(limit), limit - quiet);
      return;
    }
    const { count, noun } = this.options;
    if (count !== undefined && this.shown < count) this.fail(`no ${noun} for ${limit / 1000} s; received ${this.shown} of ${count}`);
    else this.finish(EXIT_OK);
  }
}
