/** One budget for many connections' unfinished lines: what is cut, when, and that every byte is accounted for. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineBudget } from '../../src/protocol/line-budget.js';
import { LineSplitter, PIECE_OVERHEAD, type SplitLine } from '../../src/protocol/line-splitter.js';
import { ENTRY_OVERHEAD } from '../../src/protocol/memory-budget.js';

/** A splitter of `budget` that records the lines the budget cut out of it. */
function member(budget: LineBudget): { s: LineSplitter; cutOut: SplitLine[] } {
  const cutOut: SplitLine[] = [];
  return { s: new LineSplitter({ budget, onCut: (l) => cutOut.push(l) }), cutOut };
}

/** Each in an ArrayBuffer of its own, as a socket's chunks are. */
const bytes = (n: number, fill = 0x61): Buffer => Buffer.alloc(n, fill);
const line = (chunk: number): number => chunk + PIECE_OVERHEAD + ENTRY_OVERHEAD;

describe('LineBudget', () => {
  it('cuts the longest other line to make room, hands it out through its onCut, and that connection discards up to its newline', () => {
    const budget = new LineBudget({ maxBufferedBytes: 65_536 });
    const a = member(budget);
    const b = member(budget);
    const c = member(budget);
    expect(a.s.push(bytes(30_000))).toEqual([]);
    expect(b.s.push(bytes(10_000))).toEqual([]);
    expect(budget.used).toBe(line(30_000) + line(10_000));
    expect(c.s.push(bytes(30_000, 0x63))).toEqual([]);
    expect(a.cutOut).toEqual([{ data: bytes(30_000), cut: true, cutBy: 'buffer-limit' }]);
    expect(b.cutOut).toEqual([]);
    expect([a.s.pending, b.s.pending, c.s.pending]).toEqual([0, 10_000, 30_000]);
    expect(budget.used).toBe(line(10_000) + line(30_000));
    expect(a.s.push(Buffer.from('zz\nnext\n'))).toEqual([{ data: Buffer.from('next'), cut: false }]);
    expect(budget.discardedBytes).toBe(2);
    expect(budget.cuts).toEqual({ 'line-limit': 0, 'buffer-limit': 1 });
  });

  it('fills what room is left and cuts its own line when it is the longest', () => {
    const budget = new LineBudget({ maxBufferedBytes: 65_536 });
    const a = member(budget);
    const b = member(budget);
    a.s.push(bytes(40_000));
    b.s.push(bytes(10_000));
    const room = 65_536 - line(40_000) - line(10_000) - PIECE_OVERHEAD;
    expect(a.s.push(bytes(20_000))).toEqual([{ data: bytes(40_000 + room), cut: true, cutBy: 'buffer-limit' }]);
    expect(budget.discardedBytes).toBe(20_000 - room);
    expect(b.cutOut).toEqual([]);
    expect(budget.used).toBe(line(10_000));
  });

  it('never holds more than its limit, and every byte pushed is shown, discarded, held or a newline', () => {
    const op = fc.record({ who: fc.nat(3), size: fc.integer({ min: 1, max: 40_000 }), newline: fc.option(fc.nat(), { nil: undefined }) });
    fc.assert(
      fc.property(fc.integer({ min: 65_536, max: 200_000 }), fc.array(op, { maxLength: 60 }), (limit, ops) => {
        const budget = new LineBudget({ maxBufferedBytes: limit });
        let shown = 0;
        const members = Array.from({ length: 4 }, () => new LineSplitter({ maxLineBytes: 50_000, budget, onCut: (l) => (shown += l.data.length) }));
        let pushed = 0;
        let newlines = 0;
        for (const { who, size, newline } of ops) {
          const chunk = bytes(size);
          if (newline !== undefined) {
            chunk[newline % size] = 0x0a;
            newlines++;
          }
          pushed += size;
          for (const l of (members[who] as LineSplitter).push(chunk)) shown += l.data.length;
          expect(budget.used).toBeLessThanOrEqual(limit);
        }
        const held = members.reduce((sum, m) => sum + m.pending, 0);
        expect(shown + budget.discardedBytes + held + newlines).toBe(pushed);
        for (const m of members) shown += m.end()?.data.length ?? 0;
        expect(shown + budget.discardedBytes + newlines).toBe(pushed);
        expect(budget.used).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
