import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayGuard, ReplayWindow } from '../../src/protocol/replay-window.js';

/** The rule, written plainly: accept a counter never accepted and above highest - size. */
function modelAccepts(size: number, counters: readonly number[]): boolean[] {
  const seen = new Set<number>();
  let highest = -1;
  return counters.map((c) => {
    if (seen.has(c) || c <= highest - size) return false;
    seen.add(c);
    highest = Math.max(highest, c);
    return true;
  });
}

describe('ReplayWindow', () => {
  it('agrees with the plain rule for any sequence of counters, including jumps past the window', () => {
    // A walk that mostly creeps forward (slots get reused and cleared) with the odd huge jump.
    const step = fc.oneof(
      { arbitrary: fc.integer({ min: -40, max: 40 }), weight: 40 },
      { arbitrary: fc.integer({ min: 0, max: 2 ** 40 }), weight: 1 },
    );
    const walk = fc
      .array(step, { maxLength: 400, size: 'max' })
      .map((steps) => steps.map(((at) => (d: number) => (at = Math.max(0, at + d)))(0)));
    const scattered = fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 400, size: 'max' });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.oneof(walk, scattered), (size, counters) => {
        const window = new ReplayWindow(size);
        expect(counters.map((c) => window.accept(c))).toEqual(modelAccepts(size, counters));
      }),
    );
  });

  it('remembers exactly `size` counters, the highest included', () => {
    const window = new ReplayWindow(1024);
    expect(window.accept(2000)).toBe(true);
    expect(window.accept(977)).toBe(true);
    expect(window.accept(976)).toBe(false);
    expect(window.highest).toBe(2000);
  });

  it('forgets slots reused after a jump shorter than the bitmap', () => {
    const window = new ReplayWindow(40); // 64 slots
    expect(window.accept(10)).toBe(true);
    expect(window.accept(60)).toBe(true);
    expect(window.accept(80)).toBe(true);
    expect(window.accept(74)).toBe(true); // same slot as 10, never seen
    expect(window.accept(74)).toBe(false);
    expect(window.accept(41)).toBe(true); // 80 - 41 = 39 < 40
    expect(window.accept(40)).toBe(false);
  });
});

describe('ReplayGuard', () => {
  it('keeps one window per sender', () => {
    const guard = new ReplayGuard({ maxSenders: 10, windowSize: 8, maxAgeMs: 1000 });
    expect(guard.accept('a', 1, 0, 0)).toBe(true);
    expect(guard.accept('b', 1, 0, 0)).toBe(true);
    expect(guard.accept('a', 1, 0, 0)).toBe(false);
    expect(guard.size).toBe(2);
  });

  it('forgets the least recently seen live sender when full, and refuses its timestamps after', () => {
    const guard = new ReplayGuard({ maxSenders: 2, windowSize: 8, maxAgeMs: 1000 });
    expect(guard.accept('a', 0, 10, 10)).toBe(true);
    expect(guard.accept('b', 0, 20, 20)).toBe(true);
    expect(guard.accept('a', 1, 30, 30)).toBe(true); // a is now the most recently seen
    expect(guard.accept('c', 0, 40, 40)).toBe(true); // b goes
    expect(guard.size).toBe(2);
    expect(guard.accept('b', 0, 20, 40)).toBe(false);
    expect(guard.accept('a', 2, 15, 40)).toBe(true); // a was never forgotten
  });
});
