/**
 * What lets the listener reuse its output memory (ByteBuilder.recycle): LineWriter joins adjacent
 * views without a copy, writes early past `flushAt`, and says `drained` only when no chunk it was
 * given can still be read by anyone.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { LineWriter } from '../../src/cli/line-writer.js';
import { ByteBuilder } from '../../src/format/byte-builder.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A stream that keeps each chunk it is given (the very object) and finishes it at once. */
function keeper(): { out: Writable; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { out, chunks };
}

/** Writes `text` as the next piece of `b` and returns the piece. */
function piece(b: ByteBuilder, text: string): Buffer {
  b.begin(text.length);
  const out = b.reserve(text.length);
  b.pos += out.write(text, b.pos, 'latin1');
  return b.end();
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('LineWriter and reused output memory', () => {
  it('writes adjacent pieces of one buffer as one view of it, not a copy', async () => {
    const { out, chunks } = keeper();
    const w = new LineWriter(out);
    const b = new ByteBuilder(1024);
    const first = piece(b, 'a\n');
    w.chunk(first);
    w.chunk(piece(b, 'bc\n'));
    w.chunk(piece(b, 'd\n'));
    await turn();
    expect(chunks.map((c) => c.toString())).toEqual(['a\nbc\nd\n']);
    expect(chunks[0]!.buffer).toBe(first.buffer);
    expect(chunks[0]!.byteOffset).toBe(first.byteOffset);
  });

  it('pieces of different buffers are still written in order, in one write', async () => {
    const { out, chunks } = keeper();
    const w = new LineWriter(out);
    const b = new ByteBuilder(4);
    w.chunk(piece(b, 'one\n'));
    w.chunk(piece(b, 'two\n'));
    w.chunk('three\n');
    await turn();
    expect(chunks.map((c) => c.toString())).toEqual(['one\ntwo\nthree\n']);
  });

  it('writes at once when `flushAt` bytes are pending, else at the end of the turn', async () => {
    const { out, chunks } = keeper();
    const w = new LineWriter(out, { flushAt: 8 });
    w.chunk(Buffer.from('1234\n'));
    expect(chunks).toHaveLength(0);
    w.chunk(Buffer.from('5678\n'));
    expect(chunks.map((c) => c.toString())).toEqual(['1234\n5678\n']);
    w.chunk(Buffer.from('9\n'));
    expect(chunks).toHaveLength(1);
    await turn();
    expect(chunks.map((c) => c.toString())).toEqual(['1234\n5678\n', '9\n']);
  });

  it('is never drained on a stream that may hand chunks on (a PassThrough), even when empty', async () => {
    const out = new PassThrough();
    const w = new LineWriter(out);
    expect(w.drained).toBe(false);
    w.chunk(Buffer.from('x\n'));
    await turn();
    expect(out.writableLength).toBe(0);
    expect(w.drained).toBe(false);
    expect(out.read()?.toString()).toBe('x\n');
  });

  it('on a file stream: not drained while a write is pending, drained once it is done', async () => {
    dir = mkdtempSync(join(tmpdir(), 'udpkit-lw-'));
    const path = join(dir, 'out');
    const out = createWriteStream(path);
    await new Promise((resolve) => out.once('open', resolve));
    const w = new LineWriter(out);
    expect(w.drained).toBe(true);
    w.chunk(Buffer.from('line\n'));
    expect(w.drained).toBe(false); // pending here
    // Written in the check phase of this turn; fs.write calls back in a later poll phase.
    await turn();
    expect(out.writableLength).toBe(5);
    expect(w.drained).toBe(false); // pending in the stream
    await new Promise((resolve) => out.write('', resolve));
    expect(w.drained).toBe(true);
    await w.end();
    await new Promise((resolve) => out.end(resolve));
    expect(readFileSync(path, 'utf8')).toBe('line\n');
  });
});

describe('ByteBuilder', () => {
  it('hands out pieces as views, never written again until recycled', () => {
    // 4 KiB and more: Buffer.allocUnsafe gives memory of its own, not a slice of Node's pool.
    const [a, c, e, g] = ['a', 'c', 'e', 'g'].map((x) => x.repeat(2048)) as [string, string, string, string];
    const b = new ByteBuilder(4096);
    const one = piece(b, a);
    const two = piece(b, c);
    expect(two.buffer).toBe(one.buffer);
    const three = piece(b, e); // no room left: a new buffer; the old pieces stay as they were
    expect(three.buffer).not.toBe(one.buffer);
    expect([one, two, three].map((p) => p.toString())).toEqual([a, c, e]);
    b.recycle();
    const again = piece(b, g);
    expect(again.buffer).not.toBe(three.buffer); // it spilled: recycling gave it a buffer twice the size
    expect(again.buffer.byteLength).toBe(8192);
    b.recycle();
    expect(piece(b, a).buffer).toBe(again.buffer); // and that one is written over from its start
    expect(again.toString()).toBe(a);
    expect(three.toString()).toBe(e);
  });

  it('moves a piece that outgrows its buffer, with what it holds so far', () => {
    const b = new ByteBuilder(8);
    b.begin();
    let out = b.reserve(6);
    b.pos += out.write('abcdef', b.pos, 'latin1');
    out = b.reserve(6);
    b.pos += out.write('ghijkl', b.pos, 'latin1');
    expect(b.end().toString()).toBe('abcdefghijkl');
  });
});
