/**
 * Runs the built binary with its standard output where a test puts it: `/dev/full` (every write
 * fails with ENOSPC), a pipe another process reads, or nothing. Complements cli.ts, whose
 * children always write to a pipe the test reads.
 */
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { start, type Running } from './cli.js';

/** Where the child's stdout goes: `'full'` opens /dev/full for it. */
export type StdoutTarget = 'full' | 'pipe';

/** Starts `udpkit ARGS` with stdout on `target`; stdin is a pipe the test may write to. */
export function startWithStdout(args: readonly string[], target: StdoutTarget, options: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {}): Running {
  if (target === 'pipe') return start(args, options);
  const fd = openSync('/dev/full', 'w');
  try {
    return start(args, { ...options, stdoutFd: fd });
  } finally {
    // The child has its own copy now.
    closeSync(fd);
  }
}

/** Socket inodes of the process's UDP sockets (its stdio pipes from spawn are sockets too). */
function udpSocketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['udp', 'udp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    // Columns: sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    for (const line of text.split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode !== undefined) inodes.add(inode);
    }
  }
  return inodes;
}

/** Resolves once process `pid` holds a UDP socket (it got past start-up); polls /proc, bounded. */
export async function waitForUdpSocket(pid: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    let links: string[];
    try {
      links = readdirSync(`/proc/${pid}/fd`).map((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      });
    } catch {
      throw new Error(`process ${pid} is gone before it opened a UDP socket`);
    }
    const udp = udpSocketInodes(pid);
    if (links.some((l) => udp.has(/^socket:\[(\d+)\]$/.exec(l)?.[1] ?? ''))) return;
    if (Date.now() > until) throw new Error(`process ${pid} opened no UDP socket within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
