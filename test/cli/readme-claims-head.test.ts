/**
 * README, `udpkit listen`: "When the reader of a pipe goes away (`udpkit listen | head`), it
 * stops quietly with exit 0", and under Exit codes: "A reader that closes the pipe early
 * (`| head`) is not a failure: exit 0." Run as a user types it, in a real shell pipeline, with
 * the datagrams sent by Python's socket module.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, killedAfterEach, waitForStderr } from '../helpers/cli.js';
import { asRunning } from '../helpers/child-running.js';
import { parseSummary } from '../helpers/listen-accounting.js';
import { pySend } from '../helpers/py-udp.js';

const { track } = killedAfterEach();

// The listener's stderr goes to fd 3 alone, so the test sees exactly what udpkit wrote there;
// the shell reports on its own stderr when head has exited and what each side exited with.
const PIPELINE = `"$0" "$1" listen -p 0 2>&3 | { head -n 3; echo "head exited $?" >&2; }; echo "status \${PIPESTATUS[0]} \${PIPESTATUS[1]}" >&2`;

describe('README: `udpkit listen | head` stops quietly', () => {
  it('`udpkit listen | head -n 3`: head shows 3 lines, the listener exits 0 with nothing on stderr but its status and summary lines', async () => {
    const child = spawn('bash', ['-c', PIPELINE, process.execPath, BIN], { detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    // Its own process group: a failing test kills the listener and head too, not only the shell.
    const killGroup = (): void => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    let listenerErr = '';
    const r = track(asRunning(child));
    const timer = setTimeout(killGroup, 20_000);
    const fd3 = child.stdio[3] as NodeJS.ReadableStream;
    fd3.setEncoding('utf8');
    const listening = new Promise<number>((resolve, reject) => {
      fd3.on('data', (s: string) => {
        listenerErr += s;
        const m = /^listening on \*:(\d+)\/udp/.exec(listenerErr);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', () => reject(new Error(`the pipeline exited before the listener was bound: ${listenerErr}`)));
    });
    const fd3Closed = new Promise((resolve) => fd3.on('end', resolve));
    try {
      const port = await listening;
      const from = await pySend(port, ['one', 'two', 'three']);
      await waitForStderr(r, /^head exited 0$/m);
      const line = (text: string): string => `received message: ${text} from PORT ${from} on 127.0.0.1`;
      expect(r.stdout).toBe(`${line('one')}\n${line('two')}\n${line('three')}\n`);
      // The listener learns that the reader is gone at its next write: the next datagram.
      await pySend(port, ['four']);
      const done = await r.done;
      await fd3Closed;
      expect(done.code).toBe(0);
      expect(done.stderr).toBe('head exited 0\nstatus 0 0\n');
      const [status, summary, ...rest] = listenerErr.split('\n');
      expect(status).toBe(`listening on *:${port}/udp (IPv4 and IPv6); stops on "bye"`);
      expect(rest).toEqual(['']);
      // Four sent: shown (three to head, the fourth met the closed pipe) or counted, none lost.
      const s = parseSummary(summary as string);
      expect(s.received + (s.refused ?? 0) + s.kernelDropped).toBe(4);
      expect(s.received).toBe(4);
      expect(summary).toBe('received 4 datagrams, 15 bytes; kernel dropped 0');
    } finally {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) killGroup();
    }
  });
});
