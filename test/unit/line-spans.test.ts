/**
 * readLineSpans: the lines of stdin as offsets into the buffer read. A regular file is read
 * through one reused buffer (64 KiB reads), so these tests use files larger than a read, with
 * lines and CRLFs across read boundaries, and check the lines against readLineBatches.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readLineBatches, readLineSpans, type LineOptions } from '../../src/cli/line-batches.js';
import type { SizeLimit } from '../../src/cli/message-source.js';
import { rejection } from '../helpers/thrown.js';

const dir = mkdtempSync(join(tmpdir(), 'udpkit-spans-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** What stdin is when a file is redirected to it: a stream with an fd. The stream holds nothing, so a reader that read it instead of the fd would find no lines. */
function fileInput(content: Buffer, skip = 0): { input: Readable; close: () => void } {
  const path = join(dir, `f${files++}`);
  writeFileSync(path, content);
  const fd = openSync(path, 'r');
  if (skip > 0) readSync(fd, Buffer.alloc(skip), 0, skip, null);
  return { input: Object.assign(Readable.from([]), { fd }), close: () => closeSync(fd) };
}

/** Every line, copied out of its batch before the next batch is read. */
async function spanLines(input: Readable, options: LineOptions = {}): Promise<{ lines: Buffer[]; batches: number[] }> {
  const lines: Buffer[] = [];
  const batches: number[] = [];
  for await (const s of readLineSpans(input, options)) {
    batches.push(s.count);
    for (let i = 0; i < s.count; i++) lines.push(Buffer.from(s.bytes.subarray(s.starts[i], s.ends[i])));
  }
  return { lines, batches };
}

async function streamLines(content: Buffer): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const batch of readLineBatches(Readable.from([content]))) out.push(...batch);
  return out;
}

const limitOf = (bytes: number): SizeLimit => ({ bytes, tooLarge: (size) => new RangeError(`message is ${size ?? `more than ${bytes}`} bytes; at most ${bytes}`) });

describe('readLineSpans from a regular file', () => {
  it('gives the lines readLineBatches gives, whatever the lines and where the reads cut them', async () => {
    const line = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 60_000, maxLength: 70_000 })).map((b) => Buffer.from(b.map((x) => (x === 0x0a || x === 0x0d ? 0x20 : x))));
    const text = fc.record({ lines: fc.array(line, { maxLength: 12 }), fill: fc.nat({ max: 70_000 }), crlf: fc.boolean(), finalNewline: fc.boolean() }).map((r) => {
      // A run of short lines first puts the other lines at varying offsets from the 64 KiB reads.
      const all = [...Array.from({ length: Math.floor(r.fill / 8) }, (_, i) => Buffer.from(String(i).padStart(7, '0'))), ...r.lines];
      const eol = Buffer.from(r.crlf ? '\r\n' : '\n');
      return Buffer.concat(all.flatMap((l, i) => (i < all.length - 1 || r.finalNewline ? [l, eol] : [l])));
    });
    await fc.assert(
      fc.asyncProperty(text, async (content) => {
        const { input, close } = fileInput(content);
        try {
          // As text (latin1 keeps every byte): comparing arrays of strings is quick, of Buffers slow.
          const text = (lines: Buffer[]): string[] => lines.map((l) => l.toString('latin1'));
          expect(text((await spanLines(input)).lines)).toEqual(text(await streamLines(content)));
        } finally {
          close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('splits a CRLF that a read cuts between \\r and \\n', async () => {
    const first = 'a'.repeat(64 * 1024 - 1);
    const { input, close } = fileInput(Buffer.from(`${first}\r\nnext\r\n`));
    expect((await spanLines(input)).lines.map(String)).toEqual([first, 'next']);
    close();
  });

  it('gives at most 2,048 lines a batch, and all of them', async () => {
    const content = Buffer.from('x\n'.repeat(30_000));
    const { input, close } = fileInput(content);
    const { lines, batches } = await spanLines(input);
    close();
    expect(lines.length).toBe(30_000);
    expect(Math.max(...batches)).toBe(2048);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(30_000);
  });

  it('reads on from where stdin\'s offset is, as after `(head -c 4; udpkit send) < file`', async () => {
    const { input, close } = fileInput(Buffer.from('skip\none\ntwo'), 5);
    expect((await spanLines(input)).lines.map(String)).toEqual(['one', 'two']);
    close();
  });

  it('grows its buffer for a line longer than it, when there is no limit', async () => {
    const long = 'y'.repeat(300_000);
    const { input, close } = fileInput(Buffer.from(`a\n${long}\nb\n`));
    expect((await spanLines(input)).lines.map(String)).toEqual(['a', long, 'b']);
    close();
  });

  it('with a limit, gives the lines before a line too long, then names that line', async () => {
    const lines = [...Array.from({ length: 5000 }, (_, i) => `line ${i}`), 'z'.repeat(70_001), 'never'];
    for (const crlf of [false, true]) {
      const { input, close } = fileInput(Buffer.from(lines.join(crlf ? '\r\n' : '\n')));
      const seen: string[] = [];
      const reading = (async () => {
        for await (const s of readLineSpans(input, { limit: limitOf(70_000) })) for (let i = 0; i < s.count; i++) seen.push(s.bytes.toString('latin1', s.starts[i], s.ends[i]));
      })();
      expect((await rejection(reading) as Error).message).toBe('line 5001: message is 70001 bytes; at most 70000');
      close();
      expect(seen).toEqual(lines.slice(0, 5000));
    }
  });

  it('refuses an unfinished line past the limit without reading on to its end', async () => {
    const { input, close } = fileInput(Buffer.concat([Buffer.from('ok\n'), Buffer.alloc(200_000, 0x41)]));
    expect((await rejection(spanLines(input, { limit: limitOf(1000) })) as Error).message).toBe('line 2: message is more than 1000 bytes; at most 1000');
    close();
  });

  it('stops quietly when the signal aborts', async () => {
    const { input, close } = fileInput(Buffer.from('q\n'.repeat(100_000)));
    const controller = new AbortController();
    let lines = 0;
    for await (const s of readLineSpans(input, { signal: controller.signal })) {
      lines += s.count;
      controller.abort();
    }
    close();
    expect(lines).toBe(2048);
  });
});

describe('readLineSpans from a stream', () => {
  it('gives the lines of a pipe or a terminal, batch by batch', async () => {
    const { lines, batches } = await spanLines(Readable.from([Buffer.from('a\nb'), Buffer.from('c\r\n\nlast')]));
    expect(lines.map(String)).toEqual(['a', 'bc', '', 'last']);
    expect(batches).toEqual([1, 2, 1]);
  });
});
