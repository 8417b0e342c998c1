/** A child the test spawned itself (a shell pipeline, npm), seen as cli.ts's `Running`. */
import type { ChildProcess } from 'node:child_process';
import type { CliResult, Running } from './cli.js';

/**
 * Collects the child's stdout and stderr (when they are pipes) and resolves `done` when it
 * closes, so the helpers of cli.ts (waitForStderr, killedAfterEach) work on it.
 */
export function asRunning(child: ChildProcess): Running {
  const r: Running = {
    child,
    stdout: '',
    stderr: '',
    done: new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout: r.stdout, stderr: r.stderr }))),
  };
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (r.stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (r.stderr += s));
  return r;
}
