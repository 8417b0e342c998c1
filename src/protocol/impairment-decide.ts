/**
 * The random part of a relay datagram's fate: what {@link Impairment} (impairment.ts) draws for
 * each datagram, always the same count of numbers in the same order, so that a seed repeats.
 */
import type { ImpairmentSettings } from './impairment-options.js';
import { LossProcess } from './impairment-loss.js';
import type { Random } from './seeded-random.js';

/** The random part of one datagram's fate. */
export interface Decision {
  readonly lost: boolean;
  readonly copies: 1 | 2;
  /** Where to flip a bit, as a share of the payload's bits (0 to 1), or -1 for no corruption. */
  readonly corruptAt: number;
  readonly reorder: boolean;
  /** Latency, delay plus jitter, in milliseconds (whole microseconds: fractional). */
  readonly delayMs: number;
}

/** Numbers {@link decide} takes from the generator for each datagram. */
export const DRAWS_PER_DATAGRAM = 7;

/**
 * Draws one datagram's fate. Always takes exactly {@link DRAWS_PER_DATAGRAM} numbers from
 * `random` (two for loss, then duplicate, corrupt, the bit to flip, reorder, jitter), so a seed
 * gives the same sequence of decisions whatever the settings. `loss` carries the loss model's
 * state from one datagram to the next (one per direction); a fresh one suits stateless models.
 * @example decide(validateImpairment({ loss: 1 }), Math.random).lost // true
 */
export function decide(s: ImpairmentSettings, random: Random, loss: LossProcess = new LossProcess(s.lossModel)): Decision {
  const lost = loss.next(random);
  const copies = random() < s.duplicate ? 2 : 1;
  const corrupt = random() < s.corrupt;
  const at = random();
  const reorder = random() < s.reorder;
  const jitter = (2 * random() - 1) * s.jitterMs;
  return { lost, copies, corruptAt: corrupt ? at : -1, reorder, delayMs: Math.max(0, Math.round((s.delayMs + jitter) * 1000) / 1000) };
}
