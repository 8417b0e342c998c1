/** Runs the built `udpkit` binary as a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach } from 'vitest';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../dist/app/udpkit.cjs', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to stdin, then stdin is closed. */
  readonly input?: string | Buffer;
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the child after this long (default 15 s) so a hung test fails instead of hanging. */
  readonly timeoutMs?: number;
  /** Run inside this command prefix, e.g. ['ip', 'netns', 'exec', 'h1']. */
  readonly prefix?: readonly string[];
  /** A file descriptor for the child's stdout instead of a pipe the test reads. */
  readonly stdoutFd?: number;
}

/** A running child with its output collected so far. */
export interface Running {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly done: Promise<CliResult>;
}

/** Starts `udpkit ARGS` (or `PREFIX... node bin ARGS`). */
export function start(args: readonly string[], options: RunOptions = {}): Running {
  const prefix = options.prefix ?? [];
  const argv = [...prefix, process.execPath, BIN, ...args];
  const child = spawn(argv[0] as string, argv.slice(1), {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', options.stdoutFd ?? 'pipe', 'pipe'],
  });
  const running: Running = {
    child,
    stdout: '',
    stderr: '',
    done: new Promise<CliResult>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: running.stdout, stderr: running.stderr });
      });
    }),
  };
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (running.stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (running.stderr += s));
  if (options.input !== undefined) child.stdin!.end(options.input);
  return running;
}

/** Runs `udpkit ARGS` to completion. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const r = start(args, options);
  if (options.input === undefined) r.child.stdin!.end();
  return r.done;
}

/** Resolves when `pattern` appears in the child's stderr; rejects if it exits first or after `ms`. */
export function waitForStderr(r: Running, pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = pattern.exec(r.stderr);
      if (m) {
        cleanup();
        resolve(m);
        return true;
      }
      return false;
    };
    const onExit = (): void => {
      cleanup();
      reject(new Error(`exited before ${pattern}: stderr=${JSON.stringify(r.stderr)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} within ${ms} ms: stderr=${JSON.stringify(r.stderr)}`));
    }, ms);
    const cleanup = (): void => {
      clearTimeout(timer);
      r.child.stderr!.off('data', check);
      r.child.off('exit', onExit);
    };
    if (check()) return;
    r.child.stderr!.on('data', check);
    r.child.once('exit', onExit);
  });
}

/** Resolves when stdout holds at least `lines` lines. */
export function waitForLines(r: Running, lines: number, ms = 10_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const got = r.stdout.split('\n').filter((l) => l !== '');
      if (got.length >= lines) {
        cleanup();
        resolve(got);
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`stdout has ${r.stdout.split('\n').length - 1} of ${lines} lines after ${ms} ms`));
    }, ms);
    const cleanup = (): void => {
      clearTimeout(timer);
      r.child.stdout!.off('data', check);
    };
    if (check()) return;
    r.child.stdout!.on('data', check);
  });
}

/** Starts `udpkit listen ARGS` on port 0 (unless ARGS choose one) and resolves with its port. */
export async function startListener(args: readonly string[], options: RunOptions = {}): Promise<Running & { port: number }> {
  const withPort = args.some((a) => a === '-p' || a === '--port' || a.startsWith('--port=')) ? args : [...args, '--port', '0'];
  const r = start(['listen', ...withPort], options);
  const m = await waitForStderr(r, /listening on .*?:(\d+)\/udp/);
  return Object.assign(r, { port: Number(m[1]) });
}

/**
 * For a test file: children it starts are killed after each test, so a failing test never
 * leaves a listener behind. Call once at the top of the file.
 */
export function killedAfterEach(): {
  /** Registers a child to kill; returns it. */
  track<T extends Running>(r: T): T;
  /** {@link startListener}, registered. */
  listener(args?: readonly string[], options?: RunOptions): Promise<Running & { port: number }>;
} {
  const running: Running[] = [];
  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });
  const track = <T extends Running>(r: T): T => {
    running.push(r);
    return r;
  };
  return {
    track,
    async listener(args = [], options = {}) {
      const withPort = args.some((a) => a === '-p' || a === '--port' || a.startsWith('--port=')) ? args : [...args, '--port', '0'];
      const r = track(start(['listen', ...withPort], options));
      const m = await waitForStderr(r, /listening on .*?:(\d+)\/udp/);
      return Object.assign(r, { port: Number(m[1]) });
    },
  };
}
