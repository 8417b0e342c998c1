/** The TCP mode's pure framing: lines and length-prefixed frames, whatever the chunking. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LengthPrefixReader, encodeLengthPrefixed } from '../../src/protocol/length-prefix.js';
import { LineBudget } from '../../src/protocol/line-budget.js';
import { ENTRY_OVERHEAD } from '../../src/protocol/memory-budget.js';
import { LineSplitter, PIECE_OVERHEAD, type SplitLine } from '../../src/protocol/line-splitter.js';

/** Cuts `buf` at the given points (taken modulo its length). */
function chunks(buf: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => (buf.length === 0 ? 0 : c % (buf.length + 1))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, buf.length]) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  return out;
}

const lineArb = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a.filter((b) => b !== 0x0a && b !== 0x0d)));

describe('LineSplitter', () => {
  it('gives the same lines for any chunking', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 20 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 10 }), (lines, crlf, cuts) => {
        const stream = Buffer.concat(lines.map((l) => Buffer.concat([l, Buffer.from(crlf ? '\r\n' : '\n')])));
        const s = new LineSplitter();
        const got = chunks(stream, cuts).flatMap((c) => s.push(c));
        expect(got.map((l) => l.data.toString('hex'))).toEqual(lines.map((l) => l.toString('hex')));
        expect(s.end()).toBeUndefined();
      }),
    );
  });

  it('returns a partial last line at the end', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('one\ntw'))).toHaveLength(1);
    expect(s.end()?.data.toString()).toBe('tw');
  });

  it('cuts a line over the limit as soon as it is over, holds no more than the limit, and counts what it discards', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 300 }), fc.array(fc.nat(), { maxLength: 10 }), (max, len, cuts) => {
        const budget = new LineBudget({ maxBufferedBytes: 1 << 20 });
        const s = new LineSplitter({ maxLineBytes: max, budget });
        const stream = Buffer.concat([Buffer.alloc(len, 0x61), Buffer.from('\nok\n')]);
        const got = chunks(stream, cuts).flatMap((c) => {
          const r = s.push(c);
          expect(s.pending).toBeLessThanOrEqual(max);
          return r;
        });
        expect(got[0]).toEqual(len > max ? { data: Buffer.alloc(max, 0x61), cut: true, cutBy: 'line-limit' } : { data: Buffer.alloc(len, 0x61), cut: false });
        expect(got[1]).toMatchObject({ data: Buffer.from(max >= 2 ? 'ok' : 'o'), cut: max < 2 });
        expect(budget.discardedBytes).toBe(Math.max(0, len - max) + (max >= 2 ? 0 : 1));
        expect(budget.cuts).toEqual({ 'line-limit': (len > max ? 1 : 0) + (max < 2 ? 1 : 0), 'buffer-limit': 0 });
        expect(budget.used).toBe(0);
      }),
    );
  });

  it('keeps a line sent a byte at a time whole, in few pieces', () => {
    const budget = new LineBudget({ maxBufferedBytes: 1 << 20 });
    const s = new LineSplitter({ budget });
    const line = Buffer.from('y'.repeat(200_000));
    let lines = 0;
    for (let i = 0; i < line.length; i++) lines += s.push(line.subarray(i, i + 1)).length;
    expect(lines).toBe(0);
    // Buffers of its own of 1, 2, 4 ... 32 KiB, then 64 KiB each: 9 pieces, each charged once.
    expect(budget.used).toBe(1024 + 2048 + 4096 + 8192 + 16_384 + 32_768 + 3 * 65_536 + 9 * PIECE_OVERHEAD + ENTRY_OVERHEAD);
    expect(s.push(Buffer.from('\n'))).toEqual([{ data: line, cut: false }]);
    expect(budget.used).toBe(0);
  });

  it('keeps a large piece of a chunk without copying it, charged the whole chunk', () => {
    const budget = new LineBudget({ maxBufferedBytes: 1 << 20 });
    const s = new LineSplitter({ budget });
    const chunk = Buffer.alloc(40_000, 0x62);
    chunk[9_999] = 0x0a;
    expect(s.push(chunk)).toHaveLength(1);
    expect(budget.used).toBe(40_000 + PIECE_OVERHEAD + ENTRY_OVERHEAD);
    const rest = s.end() as SplitLine;
    expect(rest.data.buffer).toBe(chunk.buffer);
    expect(rest.data.length).toBe(30_000);
  });
});

describe('LengthPrefixReader', () => {
  it('gives the same frames for any chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => encodeLengthPrefixed(f)));
        const r = new LengthPrefixReader(1000);
        const got = chunks(stream, cuts).flatMap((c) => r.push(c).frames);
        expect(got.map((f) => f.toString('hex'))).toEqual(frames.map((f) => Buffer.from(f).toString('hex')));
        expect(r.pending).toBe(0);
      }),
    );
  });

  it('reports a length over the limit (e.g. a plain text client)', () => {
    const r = new LengthPrefixReader(70_000);
    const res = r.push(Buffer.from('hello\n'));
    expect(res.tooLarge).toBe(true);
  });
});
