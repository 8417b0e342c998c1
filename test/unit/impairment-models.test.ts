/** The relay core's netem models, driven with a simulated clock: loss models, corruption, reorder gap, MTU, trace fates. */
import { describe, expect, it } from 'vitest';
import { DRAWS_PER_DATAGRAM } from '../../src/protocol/impairment-decide.js';
import { Impairment, type Verdict } from '../../src/protocol/impairment.js';
import { expectedLoss, geFromBurst, LossProcess } from '../../src/protocol/impairment-loss.js';
import { validateImpairment, type ImpairmentOptions } from '../../src/protocol/impairment-options.js';
import { IMPAIRMENT_PROFILES, withProfile } from '../../src/protocol/impairment-profiles.js';
import { seededRandom, type Random } from '../../src/protocol/seeded-random.js';
import { bernoulliSe, geLossSe, geometricMeanSe, lossRuns } from '../helpers/loss-stats.js';
import { thrown } from '../helpers/thrown.js';

const N = 100_000;

/** Feeds `n` datagrams (their index as the item), one a millisecond, and returns the set that left. */
function through(options: ImpairmentOptions, seed: number, n = N): Set<number> {
  const imp = new Impairment<number>(validateImpairment(options), seededRandom(seed), { sizeOf: () => 64 });
  const out = new Set<number>();
  for (let i = 0; i < n; i++) {
    imp.handleDatagram(i, 'up', 'f', i);
    for (const x of imp.pollTransmit(i)) out.add(x);
  }
  for (const x of imp.drain()) out.add(x);
  return out;
}

describe('loss models, over 100,000 datagrams through the core', () => {
  it.each([0.01, 0.1, 0.5])('Bernoulli --loss %f: the share lost is within 3 standard errors', (p) => {
    const out = through({ loss: p }, 11);
    const lost = (N - out.size) / N;
    expect(Math.abs(lost - p)).toBeLessThan(3 * bernoulliSe(p, N));
  });

  it.each([
    [0.1, 4],
    [0.02, 3],
    [0.3, 1.5],
  ])('--loss %f --loss-burst %f: the loss and the mean burst length are within 3 standard errors (geometric bursts)', (p, burst) => {
    const model = geFromBurst(p, burst);
    if (typeof model === 'string') throw new Error(model);
    const out = through({ loss: p, lossBurst: burst }, 12);
    const { lost, bursts } = lossRuns((i) => !out.has(i), N);
    expect(Math.abs(lost / N - p)).toBeLessThan(3 * geLossSe(model as never, N));
    const mean = bursts.reduce((a, b) => a + b, 0) / bursts.length;
    expect(Math.abs(mean - burst)).toBeLessThan(3 * geometricMeanSe(1 / burst, bursts.length));
  });

  it('--gemodel p,r,1-h,1-k: the loss share is within 3 standard errors of netem\'s stationary loss', () => {
    const gemodel = { p: 0.05, r: 0.2, oneMinusH: 0.7, oneMinusK: 0.02 };
    const out = through({ gemodel }, 13);
    const expected = expectedLoss({ kind: 'gemodel', ...gemodel }) as number;
    // π_B = 0.05 / 0.25 = 0.2: 0.2 * 0.7 + 0.8 * 0.02.
    expect(expected).toBeCloseTo(0.156, 10);
    expect(Math.abs((N - out.size) / N - expected)).toBeLessThan(3 * geLossSe(gemodel, N));
  });

  it("--gemodel p alone takes netem's defaults (r = 1 - p, 1-h = 1, 1-k = 0): Bernoulli with p", () => {
    expect(validateImpairment({ gemodel: { p: 0.2 } }).lossModel).toEqual({ kind: 'gemodel', p: 0.2, r: 0.8, oneMinusH: 1, oneMinusK: 0 });
    const out = through({ gemodel: { p: 0.2 } }, 14);
    expect(Math.abs((N - out.size) / N - 0.2)).toBeLessThan(3 * bernoulliSe(0.2, N));
  });

  it('decides a Gilbert-Elliott loss by the state the datagram found, then moves (as sch_netem.c does)', () => {
    const scripted = (values: number[]): Random => () => values.shift() as number;
    const m = new LossProcess({ kind: 'gemodel', p: 0.5, r: 0.5, oneMinusH: 1, oneMinusK: 0 });
    // Good: moves to bad (0.1 < p) but the datagram, found good, is kept (0.9 >= 1-k).
    expect(m.next(scripted([0.1, 0.9]))).toBe(false);
    // Bad: stays (0.9 >= r), lost (0.0 < 1-h).
    expect(m.next(scripted([0.9, 0.0]))).toBe(true);
    // Bad: moves to good (0.1 < r), still lost: it found the bad state.
    expect(m.next(scripted([0.1, 0.0]))).toBe(true);
    expect(m.next(scripted([0.9, 0.0]))).toBe(false);
  });

  it("correlated loss mixes each draw with the last as netem's get_crandom does, and its real loss falls below P", () => {
    const m = new LossProcess({ kind: 'correlated', p: 0.3, correlation: 0.5 });
    // u = 0.5 * U + 0.5 * last, last starting at 0.5: 0.5*0.0 + 0.25 = 0.25 < 0.3, lost.
    expect(m.next(() => 0)).toBe(true);
    // 0.5 * 0.4 + 0.5 * 0.25 = 0.325: kept.
    expect(m.next(() => 0.4)).toBe(false);
    const out = through({ loss: 0.1, lossCorrelation: 0.5 }, 15);
    const lost = (N - out.size) / N;
    // The documented behaviour (README): at P 10%, C 50% netem's generator loses about 0.1%, not 10%.
    expect(lost).toBeGreaterThan(0.0005);
    expect(lost).toBeLessThan(0.002);
    // With no correlation it is plain Bernoulli.
    const plain = through({ loss: 0.1, lossCorrelation: 0 }, 15);
    expect(Math.abs((N - plain.size) / N - 0.1)).toBeLessThan(3 * bernoulliSe(0.1, N));
  });

  it('refuses a burst that the loss cannot have, and loss models given together', () => {
    expect(thrown(() => validateImpairment({ loss: 0.9, lossBurst: 2 }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT' });
    expect(thrown(() => validateImpairment({ lossBurst: 2 }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT', message: 'lossBurst goes with loss (the long-run share lost)' });
    expect(thrown(() => validateImpairment({ loss: 0.1, gemodel: { p: 0.1 } }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT', message: 'gemodel replaces loss, lossBurst and lossCorrelation: give one or the other' });
    expect(thrown(() => validateImpairment({ loss: 0.1, lossBurst: 0.5 }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT', message: 'the mean burst must be 1 datagram or more, got 0.5' });
  });
});

describe('corruption', () => {
  it('flips exactly one bit of the kept copy of a share within 3 standard errors, at every position', () => {
    const flips: number[] = [];
    const flip = (b: Uint8Array, bit: number): void => {
      flips.push(bit);
      b[bit >> 3] = (b[bit >> 3] as number) ^ (1 << (bit & 7));
    };
    const items = { sizeOf: (b: Uint8Array) => b.length, keep: (b: Uint8Array) => Uint8Array.from(b), corrupt: flip };
    const imp = new Impairment<Uint8Array>(validateImpairment({ corrupt: 0.05 }), seededRandom(21), items);
    const original = new Uint8Array(16);
    let changed = 0;
    for (let i = 0; i < N; i++) {
      imp.handleDatagram(original, 'up', 'f', i);
      for (const b of imp.pollTransmit(i)) {
        const bits = b.reduce((sum, byte) => sum + popcount(byte), 0);
        expect(bits).toBeLessThanOrEqual(1);
        changed += bits;
      }
    }
    expect(original.every((b) => b === 0)).toBe(true);
    expect(changed).toBe(imp.counts.up.corrupted);
    expect(Math.abs(changed / N - 0.05)).toBeLessThan(3 * bernoulliSe(0.05, N));
    expect(new Set(flips).size).toBe(128);
    expect(Math.min(...flips)).toBe(0);
    expect(Math.max(...flips)).toBe(127);
  });
});

const popcount = (x: number): number => (x.toString(2).match(/1/g) ?? []).length;

describe('reorder with a delay (netem)', () => {
  it('--reorder 1 --reorder-gap 5 --delay 10: every 5th datagram skips the delay and overtakes the 4 before it', () => {
    const imp = new Impairment<number>(validateImpairment({ reorder: 1, reorderGap: 5, delayMs: 10 }), seededRandom(1));
    const out: number[] = [];
    for (let i = 0; i < 20; i++) {
      imp.handleDatagram(i, 'up', 'f', i * 0.1);
      out.push(...imp.pollTransmit(i * 0.1));
    }
    out.push(...imp.drain());
    expect(out).toEqual([4, 9, 14, 19, 0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13, 15, 16, 17, 18]);
    expect(imp.counts.up.reordered).toBe(4);
  });

  it('--reorder P with a delay: the share sent at once is within 3 standard errors of P (gap 1)', () => {
    const imp = new Impairment<number>(validateImpairment({ reorder: 0.25, delayMs: 10 }), seededRandom(2));
    for (let i = 0; i < N; i++) {
      imp.handleDatagram(i, 'up', 'f', i);
      imp.pollTransmit(i);
    }
    expect(imp.counts.up.queueFull).toBe(0);
    expect(Math.abs(imp.counts.up.reordered / N - 0.25)).toBeLessThan(3 * bernoulliSe(0.25, N));
  });

  it('refuses a gap without a delay, as netem refuses reordering without one', () => {
    expect(thrown(() => validateImpairment({ reorder: 0.1, reorderGap: 3 }))).toMatchObject({ code: 'UDPKIT_INVALID_ARGUMENT', message: 'reorderGap needs delayMs: netem reorders by letting a datagram skip the delay' });
  });
});

describe('mtu', () => {
  it('drops and counts datagrams whose IP packet (payload + 28) is larger than the MTU', () => {
    const imp = new Impairment<Uint8Array>(validateImpairment({ mtu: 1500 }), seededRandom(1));
    expect(imp.handleDatagram(new Uint8Array(1472), 'up', 'f', 0)).toBe('forwarded');
    expect(imp.handleDatagram(new Uint8Array(1473), 'up', 'f', 0)).toBe('too-big');
    expect(imp.counts.up).toMatchObject({ received: 2, forwarded: 1, tooBig: 1 });
  });
});

describe('fates are reproducible', () => {
  /** The fates of `n` datagrams of 64 bytes, arriving at the given times. */
  function fates(seed: number, at: (i: number) => number, down = false): string[] {
    const imp = new Impairment<Uint8Array>(
      validateImpairment({ loss: 0.2, lossBurst: 3, duplicate: 0.1, corrupt: 0.1, reorder: 0.1, delayMs: 5, jitterMs: 2 }),
      { up: seededRandom(seed), down: seededRandom(seed + 1) },
      { keep: (b) => Uint8Array.from(b), corrupt: () => undefined },
    );
    const seen: string[] = [];
    const verdict = (v: Verdict): string => [v.fate, v.duplicated && 'dup', v.corrupted && 'corrupt', v.reordered && 'reorder'].filter(Boolean).join('+');
    for (let i = 0; i < 2000; i++) {
      // Down traffic interleaved or not: the up direction has its own generator.
      if (down) imp.handleDatagram(new Uint8Array(64), 'down', 'g', at(i));
      imp.handleDatagram(new Uint8Array(64), 'up', 'f', at(i));
      seen.push(verdict(imp.verdict));
      imp.pollTransmit(at(i));
    }
    return seen;
  }

  it('the same seed and the same datagrams give the same fates, however they are timed and whatever comes the other way', () => {
    const a = fates(5, (i) => i);
    expect(fates(5, (i) => i * 7.3 + Math.sin(i))).toEqual(a);
    expect(fates(5, (i) => i, true)).toEqual(a);
    expect(fates(6, (i) => i)).not.toEqual(a);
    for (const fate of ['forwarded', 'lost', 'forwarded+dup', 'forwarded+corrupt', 'forwarded+reorder']) expect(a).toContain(fate);
  });

  it('takes the same seven numbers per datagram whatever is asked', () => {
    let draws = 0;
    const counting: Random = () => (draws++, 0.5);
    const imp = new Impairment<number>(validateImpairment({ gemodel: { p: 0.1, r: 0.2 }, mtu: 100 }), counting);
    imp.handleDatagram(1, 'up', 'f', 0);
    expect(draws).toBe(DRAWS_PER_DATAGRAM);
  });
});

describe('profiles', () => {
  it.each(Object.keys(IMPAIRMENT_PROFILES))('%s is valid, and flags override its numbers', (name) => {
    const profile = name as keyof typeof IMPAIRMENT_PROFILES;
    expect(() => validateImpairment(withProfile(profile, {}))).not.toThrow();
    expect(validateImpairment(withProfile(profile, { delayMs: 1, gemodel: { p: 0.3 } }))).toMatchObject({ delayMs: 1, loss: 0.3 });
    expect(validateImpairment(withProfile(profile, { rate: 500 })).bottleneck?.unit ?? 'packets').toBe('packets');
  });

  it('lets a queue limit replace the profile\'s, in datagrams or bytes', () => {
    expect(validateImpairment(withProfile('3g', { queueLimit: 5 })).bottleneck).toEqual({ rate: 2_000_000, unit: 'bits', limitPackets: 5, limitBytes: undefined });
    expect(validateImpairment(withProfile('wifi', { queueLimitBytes: 4096 })).bottleneck).toEqual({ rate: 50_000_000, unit: 'bits', limitPackets: undefined, limitBytes: 4096 });
  });
});
