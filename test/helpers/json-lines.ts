/**
 * A child process scripted through stdin and read as JSON lines on stdout: every line is kept, so
 * a test waits for an event that may already have arrived, with a bounded timeout and no sleeps.
 */
import type { ChildProcess } from 'node:child_process';

/** One line of output; a line that is not a JSON object becomes `{ event: 'not-json', line }`. */
export interface JsonEvent {
  readonly event: string;
  readonly [key: string]: unknown;
}

/** Options of {@link JsonLines.waitFor}. */
export interface WaitOptions {
  /** Only events at or after this index (see {@link JsonLines.mark}); default 0. */
  readonly since?: number;
  /** Give up after this long; default 3000 ms. */
  readonly ms?: number;
}

/**
 * Collects a child's JSON-line events and stderr.
 * @example
 * const alice = new JsonLines('alice', lan.run(h1, process.execPath, [BIN, 'chat', '--json']));
 * await alice.waitFor((e) => e.event === 'ready', 'ready');
 * alice.send('/who');
 */
export class JsonLines {
  readonly events: JsonEvent[] = [];
  stderr = '';
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = '';
  /** Set on 'close', once stdout has been read to its end. */
  private ended = false;
  private readonly wake = new Set<() => void>();

  constructor(
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (this.partial + chunk).split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) if (line.trim() !== '') this.events.push(parse(line));
      this.notify();
    });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.stderr += s;
      this.notify();
    });
    this.closed = new Promise((resolve) =>
      child.once('close', (code, signal) => {
        this.ended = true;
        resolve({ code, signal });
        this.notify();
      }),
    );
  }

  /** Whether the child is still running. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The index the next event will get: pass it as `since` to wait only for what comes after. */
  mark(): number {
    return this.events.length;
  }

  /** Writes one line to the child's stdin. */
  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** The events from `since` on that match. */
  filter(match: (e: JsonEvent) => boolean, since = 0): JsonEvent[] {
    return this.events.slice(since).filter(match);
  }

  /** Resolves with the first event from `since` on that matches; rejects on timeout or exit. */
  waitFor(match: (e: JsonEvent) => boolean, what: string, options: WaitOptions = {}): Promise<JsonEvent> {
    const { since = 0, ms = 3000 } = options;
    return this.until(() => this.events.slice(since).find(match), `${what}`, ms);
  }

  /** Resolves with the regex match once stderr matches; rejects on timeout or exit. */
  waitForStderr(pattern: RegExp, ms = 3000): Promise<RegExpExecArray> {
    return this.until(() => pattern.exec(this.stderr) ?? undefined, `stderr ${pattern}`, ms);
  }

  /** Describes what has been seen so far, for failure messages. */
  describe(): string {
    const tail = this.events.slice(-12).map((e) => JSON.stringify(e));
    return `${this.label}: last events:\n  ${tail.join('\n  ') || '(none)'}\n${this.label}: stderr: ${JSON.stringify(this.stderr.slice(-800))}`;
  }

  private until<T>(probe: () => T | undefined, what: string, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const found = probe();
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (this.ended) {
          done();
          reject(new Error(`${this.label} exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}\n${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.label}: no ${what} within ${ms} ms\n${this.describe()}`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        this.wake.delete(check);
      };
      this.wake.add(check);
      check();
    });
  }

  private notify(): void {
    for (const check of [...this.wake]) check();
  }
}

function parse(line: string): JsonEvent {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && typeof (value as { event?: unknown }).event === 'string') return value as JsonEvent;
  } catch {
    // fall through: kept as text so a test can see it
  }
  return { event: 'not-json', line };
}
