/**
 * The page's bench runs: one at a time, driven by the library's bench client, its live
 * progress (about once a second) turned into intervals the page charts while the run goes on,
 * and the final report kept until the next run. The page polls {@link BenchRuns.status}.
 */
import { benchReportJson, formatBenchReport } from '../format/bench.js';
import type { BenchReport } from '../protocol/bench-report.js';
import { benchClient, type BenchProgress } from '../transport/bench-client.js';
import { benchLoopback } from '../transport/bench-loopback.js';
import type { BenchForm } from './bench-form.js';

/** One interval of a run, from one progress report to the next (or to the end). */
export interface BenchInterval {
  readonly startS: number;
  readonly endS: number;
  readonly sent: number;
  readonly received: number;
  /** Received payload bits per second over the interval, in millions. */
  readonly mbps: number;
  /**
   * Datagrams sent in the interval and not (yet) counted by the server, as a percentage of
   * those sent; the final interval settles what earlier ones counted as still in flight.
   */
  readonly lossPercent: number;
}

/** What `GET /api/bench` answers. */
export type BenchStatus =
  | { readonly state: 'idle' }
  | {
      readonly state: 'running' | 'done' | 'failed';
      readonly id: number;
      /** `HOST:PORT`, or `loopback`. */
      readonly target: string;
      readonly seconds: number;
      readonly rate: number;
      readonly length: number;
      readonly intervals: readonly BenchInterval[];
      /** When done: the report as `udpkit bench --json` gives it, and as its text. */
      readonly report?: unknown;
      readonly text?: string;
      readonly error?: string;
    };

type Run = Exclude<BenchStatus, { state: 'idle' }> & { intervals: BenchInterval[] };

/** Where the previous interval ended: elapsed seconds and the counts then. */
interface Mark {
  readonly s: number;
  readonly sent: number;
  readonly received: number;
}

function interval(from: Mark, to: Mark, length: number): BenchInterval {
  const dt = to.s - from.s;
  const sent = to.sent - from.sent;
  const received = to.received - from.received;
  return {
    startS: from.s,
    endS: to.s,
    sent,
    received,
    mbps: (Math.max(received, 0) * length * 8) / dt / 1e6,
    lossPercent: sent <= 0 ? 0 : Math.min(100, Math.max(0, ((sent - received) / sent) * 100)),
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs one bench test at a time for the page; close() stops the one running. */
export class BenchRuns {
  #run: Run | undefined;
  #controller: AbortController | undefined;
  #done: Promise<void> = Promise.resolve();
  #nextId = 1;

  /** The running or last run, for the page. */
  status(): BenchStatus {
    return this.#run ?? { state: 'idle' };
  }

  /** Starts a run unless one is running (then returns false). Resolves at once; poll {@link status}. */
  start(form: BenchForm): Run | false {
    if (this.#run?.state === 'running') return false;
    const controller = new AbortController();
    const target = form.loopback ? 'loopback' : `${form.host.includes(':') ? `[${form.host}]` : form.host}:${form.port}`;
    const run: Run = { state: 'running', id: this.#nextId++, target, seconds: form.durationMs / 1000, rate: form.rate, length: form.length, intervals: [] };
    this.#run = run;
    this.#controller = controller;
    let mark: Mark = { s: 0, sent: 0, received: 0 };
    const onProgress = (p: BenchProgress): void => {
      // An unanswered request leaves the count unknown: the next answered one covers both seconds.
      if (p.received === undefined || p.elapsedMs / 1000 <= mark.s) return;
      const next: Mark = { s: p.elapsedMs / 1000, sent: p.sent, received: p.received };
      run.intervals.push(interval(mark, next, form.length));
      mark = next;
    };
    const options = { durationMs: form.durationMs, rate: form.rate, length: form.length, rtt: form.rtt, onProgress, signal: controller.signal };
    const running = form.loopback ? benchLoopback(options) : benchClient({ ...options, host: form.host, port: form.port });
    this.#done = running.then(
      (report: BenchReport) => {
        if (report.seconds > mark.s) run.intervals.push(interval(mark, { s: report.seconds, sent: report.sent, received: report.received }, form.length));
        Object.assign(run, { state: 'done', report: JSON.parse(benchReportJson(report)) as unknown, text: formatBenchReport(report) });
      },
      (err: unknown) => {
        Object.assign(run, { state: 'failed', error: errorMessage(err) });
      },
    );
    return run;
  }

  /** Stops the running run early (its report still comes); false when none runs. */
  stop(): boolean {
    if (this.#run?.state !== 'running') return false;
    this.#controller?.abort();
    return true;
  }

  /** Stops the running run and waits for it to end. */
  async close(): Promise<void> {
    this.#controller?.abort();
    await this.#done;
  }
}
