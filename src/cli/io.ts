/** What a CLI command may touch besides the library: its streams, environment and stop signal. */
import type { Readable, Writable } from 'node:stream';

/** The process boundary, injectable so commands run in-process in tests. */
export interface CliIo {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly. */
  readonly signal: AbortSignal;
}

/** Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 unconfirmed delivery. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNCONFIRMED = 3;
