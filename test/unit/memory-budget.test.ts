import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTRY_OVERHEAD, MemoryBudget } from '../../src/protocol/memory-budget.js';
import { thrown } from '../helpers/thrown.js';

describe('MemoryBudget', () => {
  it('charges payload plus a fixed overhead, so empty entries are not free', () => {
    const b = new MemoryBudget({ limit: 3 * ENTRY_OVERHEAD });
    expect([b.charge(0), b.charge(0), b.charge(0), b.charge(0)]).toEqual([true, true, true, false]);
    expect(b).toMatchObject({ used: 3 * ENTRY_OVERHEAD, entries: 3, refusals: 1 });
    b.release(0);
    expect(b.fits(0)).toBe(true);
    expect(b.fits(1)).toBe(false);
  });

  it('never holds more than its limit, whatever is charged and released', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5000 })), { maxLength: 300 }), (limit, ops) => {
        const b = new MemoryBudget({ limit, overhead: 64 });
        const held: number[] = [];
        for (const [add, size] of ops) {
          if (add || held.length === 0) {
            if (b.charge(size)) held.push(size);
          } else b.release(held.pop() as number);
          expect(b.used).toBeLessThanOrEqual(limit);
          expect(b.used).toBe(held.reduce((s, x) => s + x + 64, 0));
          expect(b.entries).toBe(held.length);
        }
      }),
    );
  });

  it('resizes one entry in place: growth only if it fits, no refusal counted, shrinking always', () => {
    const b = new MemoryBudget({ limit: 1000, overhead: 100 });
    expect(b.charge(400)).toBe(true);
    expect(b.resize(400, 901)).toBe(false);
    expect(b).toMatchObject({ used: 500, entries: 1, refusals: 0 });
    expect(b.resize(400, 900)).toBe(true);
    expect(b).toMatchObject({ used: 1000, entries: 1 });
    expect(b.resize(900, 10)).toBe(true);
    expect(b.used).toBe(110);
    b.release(10);
    expect(b).toMatchObject({ used: 0, entries: 0 });
  });

  it('refuses a bad limit with a coded RangeError', () => {
    expect(thrown(() => new MemoryBudget({ limit: -1, name: 'maxBufferedBytes' }))).toMatchObject({ name: 'UdpkitRangeError', code: 'UDPKIT_INVALID_ARGUMENT' });
  });
});
