import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PeerRateLimiter } from '../../src/protocol/peer-rate-limiter.js';

describe('PeerRateLimiter', () => {
  it('gives each key its own burst, refilled at the rate, and counts refusals', () => {
    const l = new PeerRateLimiter({ rate: 10, burst: 2 });
    expect([l.allow('a', 0), l.allow('a', 0), l.allow('a', 0)]).toEqual([true, true, false]);
    expect([l.allow('b', 0), l.allow('b', 0)]).toEqual([true, true]);
    expect(l.allow('a', 99)).toBe(false);
    expect(l.allow('a', 100)).toBe(true);
    expect(l.limited).toBe(2);
  });

  it('forgets the least recently seen key past maxKeys', () => {
    const l = new PeerRateLimiter({ rate: 1, burst: 1, maxKeys: 2 });
    expect(l.allow('a', 0)).toBe(true);
    expect(l.allow('b', 0)).toBe(true);
    expect(l.allow('a', 0)).toBe(false); // a is now the most recent
    expect(l.allow('c', 0)).toBe(true); // forgets b
    expect(l.size).toBe(2);
    expect(l.allow('a', 0)).toBe(false); // still remembered, still empty
    expect(l.allow('b', 0)).toBe(true); // forgotten, so full again
  });

  it('bounds the total over keys that keep changing', () => {
    const l = new PeerRateLimiter({ rate: 100, burst: 5, total: { rate: 10, burst: 3 } });
    const answers = Array.from({ length: 50 }, (_, i) => l.allow(`spoofed-${i}`, 0)).filter(Boolean).length;
    expect(answers).toBe(3);
    expect(l.limited).toBe(47);
  });

  it('never lets a key exceed burst + rate x elapsed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 500 }), (rate, burst, steps) => {
        const l = new PeerRateLimiter({ rate, burst });
        let now = 0;
        let allowed = 0;
        for (const step of steps) {
          now += step;
          if (l.allow('k', now)) allowed++;
        }
        expect(allowed).toBeLessThanOrEqual(burst + Math.floor((now * rate) / 1000));
        expect(allowed + l.limited).toBe(steps.length);
      }),
    );
  });
});
