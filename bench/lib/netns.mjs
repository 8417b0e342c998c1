// A private network namespace for a test whose figures come from system-wide counters: its
// loopback carries only the test's traffic, so its Udp RcvbufErrors are the test's alone, even
// on a machine where other work sends UDP. It lives as long as one tracked `sleep`.
import { readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { rcvbufErrors } from './kernel.mjs';
import { run, start } from './procs.mjs';

/**
 * A new network namespace with loopback up, or undefined when this machine will not give one
 * (no unshare, no privilege). `wrap(cmd, args)` runs a command inside it.
 */
export async function openNetns(maxSeconds = 600) {
  let holder;
  try {
    holder = start('unshare', ['-n', 'sleep', String(maxSeconds)], { timeoutMs: (maxSeconds + 10) * 1000 });
    const deadline = Date.now() + 3000;
    const ours = readlinkSync('/proc/self/ns/net');
    let theirs = ours;
    while (Date.now() < deadline && theirs === ours) {
      await sleep(10);
      try {
        theirs = readlinkSync(`/proc/${holder.pid}/ns/net`);
      } catch {
        break;
      }
    }
    if (theirs === ours) throw new Error('unshare -n did not give a new namespace');
    const pid = String(holder.pid);
    const up = await run('nsenter', ['-t', pid, '-n', 'ip', 'link', 'set', 'lo', 'up'], { timeoutMs: 10_000 });
    if (up.code !== 0) throw new Error(`ip link set lo up: ${up.stderr}`);
    return {
      wrap: (cmd, args) => ['nsenter', ['-t', pid, '-n', cmd, ...args]],
      rcvbufErrors: () => rcvbufErrors(`/proc/${pid}/net`),
      close: () => holder.signalGroup('SIGKILL'),
    };
  } catch {
    holder?.signalGroup('SIGKILL');
    return undefined;
  }
}
