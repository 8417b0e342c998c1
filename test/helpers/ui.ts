/** Starts `udpkit ui --port 0` from the built binary and reads back its address and token. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, waitForLines, waitForStderr, type Running } from './cli.js';

export interface RunningUi {
  readonly proc: Running;
  readonly url: string;
  readonly base: string;
  readonly token: string;
  readonly configHome: string;
  /** fetch with the token as a Bearer header. */
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startUi(): Promise<RunningUi> {
  const configHome = mkdtempSync(join(tmpdir(), 'udpkit-ui-'));
  const proc = start(['ui', '--port', '0'], { env: { XDG_CONFIG_HOME: configHome }, timeoutMs: 60_000 });
  await waitForStderr(proc, /listening on http:\/\/127\.0\.0\.1:\d+\//);
  const [url] = await waitForLines(proc, 1);
  const u = new URL(url as string);
  const token = u.searchParams.get('token') as string;
  const base = `${u.protocol}//${u.host}`;
  return {
    proc,
    url: url as string,
    base,
    token,
    configHome,
    api(path, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(base + path, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
    },
    async stop() {
      proc.child.kill('SIGTERM');
      await proc.done;
      rmSync(configHome, { recursive: true, force: true });
    },
  };
}
