/**
 * A listener grows the pipe its stdout goes into to 1 MiB (src/cli/output-pipe.ts) when the
 * addon is built, so a reader a moment late does not stop the receiving loop. Checked from the
 * other end of the pipe by Python's fcntl (F_GETPIPE_SZ), after the first line came through.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, killedAfterEach } from '../helpers/cli.js';
import { asRunning } from '../helpers/child-running.js';
import { pySend } from '../helpers/py-udp.js';

const { track } = killedAfterEach();

const F_GETPIPE_SZ = 1032;
// The reader prints the pipe's size beside the first line it read, then reads on to the end.
const READER = `import fcntl, sys\nline = sys.stdin.readline()\nprint(fcntl.fcntl(0, ${F_GETPIPE_SZ}), line.strip(), flush=True)\nsys.stdin.read()`;
const PIPELINE = `"$0" "$1" listen -p 0 --count 1 2>&3 | python3 -c "$2"`;

describe('listen | reader: the stdout pipe', () => {
  const native = process.env['UDPKIT_NATIVE'] !== '0';
  it(`is ${native ? 'grown to 1 MiB (addon built)' : 'left at 64 KiB (node:dgram only)'}`, async () => {
    const child = spawn('bash', ['-c', PIPELINE, process.execPath, BIN, READER], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const r = track(asRunning(child));
    const fd3 = child.stdio[3] as NodeJS.ReadableStream;
    fd3.setEncoding('utf8');
    let err = '';
    const port = await new Promise<number>((resolve, reject) => {
      fd3.on('data', (s: string) => {
        err += s;
        const m = /^listening on \*:(\d+)\/udp/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', () => reject(new Error(`the pipeline exited before the listener was bound: ${err}`)));
    });
    const from = await pySend(port, ['hello']);
    const done = await r.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toBe(`${native ? 1048576 : 65536} received message: hello from PORT ${from} on 127.0.0.1\n`);
  });
});
