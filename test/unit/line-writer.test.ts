import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineWriter } from '../../src/cli/line-writer.js';

/** Lets the event loop run one turn (setImmediate callbacks), without any timer. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A stream that records each chunk when it has finished writing it, optionally a turn later.
 * `end()` finishes with a zero-length write, which is left out of `chunks`.
 */
function recorder({ async = false, highWaterMark = 16_384 } = {}): { out: Writable; chunks: string[] } {
  const chunks: string[] = [];
  const out = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, done) {
      const finish = (): void => {
        if (chunk.length > 0) chunks.push(chunk.toString());
        done();
      };
      if (async) setImmediate(finish);
      else finish();
    },
  });
  return { out, chunks };
}

/** A stream whose `write` returns false until the test opens it and emits `'drain'`. */
class Gate extends EventEmitter {
  readonly chunks: string[] = [];
  #open = false;
  write(chunk: string, done?: () => void): boolean {
    if (chunk !== '') this.chunks.push(chunk);
    if (done) queueMicrotask(done);
    return this.#open;
  }
  open(): void {
    this.#open = true;
    this.emit('drain');
  }
}

describe('LineWriter', () => {
  it('does not call a stream blocked while it holds less than the soft limit', async () => {
    const { out } = recorder({ async: true, highWaterMark: 1 });
    let blocks = 0;
    const w = new LineWriter(out, { onBlock: () => blocks++ });
    for (let i = 0; i < 100; i++) w.line(`line ${i}`);
    await turn();
    expect(w.blocked).toBe(false);
    expect(blocks).toBe(0);
    await w.end();
  });

  it('writes bytes and text of one turn together, in order', async () => {
    const { out, chunks } = recorder();
    const w = new LineWriter(out);
    w.chunk('a\n');
    w.chunk(Buffer.from('b\n'));
    w.line('c');
    await turn();
    expect(chunks).toEqual(['a\nb\nc\n']);
  });

  it('writes the lines of one event-loop turn in one write, on the next turn', async () => {
    const { out, chunks } = recorder();
    const w = new LineWriter(out);
    w.line('a');
    w.line('b');
    w.line('c');
    expect(chunks).toEqual([]);
    expect(w.pendingLength).toBe(6);
    await turn();
    expect(chunks).toEqual(['a\nb\nc\n']);
    expect(w.pendingLength).toBe(0);
    w.line('d');
    await turn();
    expect(chunks).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('end() writes what is pending and resolves once the stream has finished it all', async () => {
    const { out, chunks } = recorder({ async: true });
    const w = new LineWriter(out);
    w.line('first');
    await turn();
    w.line('second');
    w.line('');
    await w.end();
    expect(chunks).toEqual(['first\n', 'second\n\n']);
  });

  it('end() straight after line() writes the line once', async () => {
    const { out, chunks } = recorder();
    const w = new LineWriter(out);
    w.line('x');
    await w.end();
    await turn();
    expect(chunks).toEqual(['x\n']);
  });

  it('end() with nothing written resolves', async () => {
    const { out, chunks } = recorder();
    await new LineWriter(out).end();
    expect(chunks).toEqual([]);
  });

  it('holds lines while the stream is blocked and writes them in one go, in order, on drain', async () => {
    const gate = new Gate();
    const w = new LineWriter(gate as unknown as Writable);
    w.line('1');
    await turn();
    expect(gate.chunks).toEqual(['1\n']);
    expect(w.blocked).toBe(true);
    w.line('2');
    w.line('3');
    await turn();
    expect(gate.chunks).toEqual(['1\n']);
    expect(w.pendingLength).toBe(4);
    gate.open();
    expect(gate.chunks).toEqual(['1\n', '2\n3\n']);
    expect(w.blocked).toBe(false);
  });

  it('end() on a blocked stream waits for drain and loses nothing', async () => {
    const gate = new Gate();
    const w = new LineWriter(gate as unknown as Writable);
    w.line('1');
    await turn();
    w.line('2');
    let ended = false;
    const ending = w.end().then(() => (ended = true));
    await turn();
    expect(ended).toBe(false);
    gate.open();
    await ending;
    expect(gate.chunks).toEqual(['1\n', '2\n']);
  });

  it('keeps every line, in order, through a slow stream with a tiny buffer', async () => {
    const { out, chunks } = recorder({ async: true, highWaterMark: 1 });
    // A soft limit of 100 bytes: the stream counts as blocked once it holds that much.
    const w = new LineWriter(out, { softLimit: 100 });
    const expected: string[] = [];
    let sawBlocked = false;
    for (let t = 0; t < 20; t++) {
      for (let i = 0; i < 50; i++) {
        const text = `line ${t}.${i}`;
        expected.push(text);
        w.line(text);
      }
      await turn();
      sawBlocked ||= w.blocked;
    }
    await w.end();
    expect(sawBlocked).toBe(true);
    expect(chunks.join('')).toBe(expected.map((text) => `${text}\n`).join(''));
    expect(chunks.length).toBeLessThan(expected.length);
  });

  it('reports a failing stream once, drops later lines, and end() resolves at once', async () => {
    const chunks: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done(Object.assign(new Error('write ENOSPC'), { code: 'ENOSPC' }));
      },
    });
    const errors: string[] = [];
    const w = new LineWriter(out, { onError: (err) => errors.push((err as NodeJS.ErrnoException).code!) });
    w.line('lost to a full disk');
    await turn();
    await turn();
    expect(errors).toEqual(['ENOSPC']);
    expect(w.failure).toMatchObject({ code: 'ENOSPC' });
    w.line('after the failure');
    expect(w.pendingLength).toBe(0);
    await w.end();
    expect(chunks).toEqual(['lost to a full disk\n']);
    expect(errors).toEqual(['ENOSPC']);
  });

  it('a stream that fails while blocked resumes the producer once, and end() does not wait for a drain', async () => {
    const gate = new Gate();
    const flow: string[] = [];
    const w = new LineWriter(gate as unknown as Writable, {
      onBlock: () => flow.push('block'),
      onDrain: () => flow.push('drain'),
      onError: (err) => flow.push(`error ${err.message}`),
    });
    w.line('1');
    await turn();
    w.line('2');
    expect(w.blocked).toBe(true);
    gate.emit('error', new Error('EPIPE'));
    gate.emit('close');
    expect(flow).toEqual(['block', 'error EPIPE', 'drain']);
    expect(w.blocked).toBe(false);
    expect(w.pendingLength).toBe(0);
    await w.end();
    // A late drain changes nothing.
    gate.open();
    expect(flow).toEqual(['block', 'error EPIPE', 'drain']);
    expect(gate.chunks).toEqual(['1\n']);
  });

  it('without onError it leaves the error to the stream: nothing is swallowed', () => {
    const gate = new Gate();
    new LineWriter(gate as unknown as Writable);
    expect(gate.listenerCount('error')).toBe(0);
    new LineWriter(gate as unknown as Writable, { onError: () => undefined });
    expect(gate.listenerCount('error')).toBe(1);
  });
});
