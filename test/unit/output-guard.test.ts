import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { guardOutput } from '../../src/cli/output-guard.js';

/** A stdout whose writes fail with `code` (or succeed when undefined), and an stderr to read. */
function fakeIo(code: string | undefined) {
  const stdout = new Writable({
    write(_chunk, _encoding, done) {
      done(code === undefined ? null : Object.assign(new Error(`write ${code}`), { code }));
    },
  });
  const stderr = new PassThrough();
  let errText = '';
  stderr.setEncoding('utf8').on('data', (s: string) => (errText += s));
  const signals = new AbortController();
  const io: CliIo = { stdin: new PassThrough(), stdout, stderr, env: {}, signal: signals.signal };
  return { io, stderrText: () => errText, signals };
}

describe('guardOutput', () => {
  it('a stdout that fails stops the command (its signal aborts) and costs exit 1 with one line', async () => {
    const { io, stderrText } = fakeIo('ENOSPC');
    const guard = guardOutput(io);
    expect(guard.io.signal.aborted).toBe(false);
    guard.io.stdout.write('a line\n');
    await new Promise((resolve) => guard.io.signal.addEventListener('abort', resolve));
    expect(await guard.finish(0)).toBe(1);
    expect(stderrText()).toBe('udpkit: cannot write to standard output: no space left on device\n');
  });

  it('finds a failure of the last write, after the command returned', async () => {
    const { io, stderrText } = fakeIo('EIO');
    const guard = guardOutput(io);
    guard.io.stdout.write('the report\n');
    expect(await guard.finish(0)).toBe(1);
    expect(stderrText()).toBe('udpkit: cannot write to standard output: input/output error\n');
  });

  it('keeps a failing exit code the command chose', async () => {
    const { io } = fakeIo('ENOSPC');
    const guard = guardOutput(io);
    guard.io.stdout.write('x\n');
    expect(await guard.finish(3)).toBe(3);
  });

  it('a reader that went away (EPIPE) stops the command quietly, exit unchanged', async () => {
    const { io, stderrText } = fakeIo('EPIPE');
    const guard = guardOutput(io);
    guard.io.stdout.write('x\n');
    await new Promise((resolve) => guard.io.signal.addEventListener('abort', resolve));
    expect(await guard.finish(0)).toBe(0);
    expect(stderrText()).toBe('');
  });

  it('passes Ctrl-C through, and leaves a working stdout and an unused one alone', async () => {
    const ok = fakeIo(undefined);
    const guard = guardOutput(ok.io);
    guard.io.stdout.write('fine\n');
    ok.signals.abort();
    expect(guard.io.signal.aborted).toBe(true);
    expect(await guard.finish(0)).toBe(0);
    const unused = fakeIo('ENOSPC');
    expect(await guardOutput(unused.io).finish(0)).toBe(0);
    expect(unused.stderrText()).toBe('');
  });
});
