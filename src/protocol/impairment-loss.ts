/**
 * The relay's loss models, with netem's meanings (tc-netem(8), net/sched/sch_netem.c):
 *
 * - Bernoulli (`loss random P`): each datagram lost with probability P, independently.
 * - Correlated (`loss random P C`): netem's old correlated generator. Each draw is mixed with the
 *   previous one, u = (1 - C) * U + C * u_prev, and the datagram is lost when u < P. Netem's own
 *   manual calls this deprecated "due to the noticed bad behavior": the mix narrows u around 0.5,
 *   so for P below 0.5 the long-run loss falls well under P as C grows (P 10%, C 50%: about 0.1%).
 *   It is here because netem has it; {@link geFromBurst} is the model that keeps the rate asked.
 * - Gilbert-Elliott (`loss gemodel p r 1-h 1-k`): a good and a bad state. In the good state a
 *   datagram is lost with probability 1-k, in the bad one with 1-h; after each datagram the state
 *   flips, good to bad with probability p, bad to good with r. Like the kernel, the loss of a
 *   datagram depends on the state it found, and the state changes after it.
 *
 * Each datagram takes exactly two numbers from the generator whatever the model, so the draws
 * of the other impairments fall on the same numbers for the same seed.
 */
import type { Random } from './seeded-random.js';

/** A loss model, checked: every number a probability from 0 to 1. */
export type LossModel =
  | { readonly kind: 'bernoulli'; readonly p: number }
  | { readonly kind: 'correlated'; readonly p: number; readonly correlation: number }
  | { readonly kind: 'gemodel'; readonly p: number; readonly r: number; readonly oneMinusH: number; readonly oneMinusK: number };

/**
 * The simple Gilbert model for a long-run loss `loss` in bursts of mean length `burst`
 * datagrams: in the bad state every datagram is lost, in the good one none. The time in the bad
 * state is geometric with mean 1/r, so r = 1/burst; the share of time there is p / (p + r),
 * which must equal `loss`, so p = loss * r / (1 - loss).
 * @returns the model, or a message saying why the two cannot go together
 * @example geFromBurst(0.1, 4) // { kind: 'gemodel', p: 0.02777..., r: 0.25, oneMinusH: 1, oneMinusK: 0 }
 */
export function geFromBurst(loss: number, burst: number): LossModel | string {
  if (!(burst >= 1)) return `the mean burst must be 1 datagram or more, got ${burst}`;
  if (loss >= 1) return 'a loss of 100% has no bursts: it is one endless burst';
  const r = 1 / burst;
  const p = (loss * r) / (1 - loss);
  if (p > 1) return `a loss of ${loss} in bursts of ${burst} needs the good state to last under one datagram: make the bursts longer`;
  return { kind: 'gemodel', p, r, oneMinusH: 1, oneMinusK: 0 };
}

/**
 * The long-run share of datagrams a model loses, where it is known in closed form (not for the
 * correlated generator, which does not keep its P).
 * @example expectedLoss({ kind: 'gemodel', p: 0.1, r: 0.4, oneMinusH: 1, oneMinusK: 0 }) // 0.2
 */
export function expectedLoss(model: LossModel): number | undefined {
  if (model.kind === 'bernoulli') return model.p;
  if (model.kind === 'correlated') return model.correlation === 0 ? model.p : undefined;
  const bad = model.p + model.r === 0 ? 0 : model.p / (model.p + model.r);
  return bad * model.oneMinusH + (1 - bad) * model.oneMinusK;
}

/** The running state of one loss model (one per direction, like one netem per interface). */
export class LossProcess {
  readonly model: LossModel;
  /** Gilbert-Elliott: in the bad state now. Starts good, as netem does. */
  #bad = false;
  /** Correlated: the previous mixed draw; 0.5 (the mean) before the first, so no draw is spent on it. */
  #last = 0.5;

  constructor(model: LossModel) {
    this.model = model;
  }

  /** Whether the next datagram is lost; takes exactly two numbers from `random`. */
  next(random: Random): boolean {
    const u1 = random();
    const u2 = random();
    const m = this.model;
    if (m.kind === 'bernoulli') return u1 < m.p;
    if (m.kind === 'correlated') {
      this.#last = (1 - m.correlation) * u1 + m.correlation * this.#last;
      return this.#last < m.p;
    }
    if (this.#bad) {
      if (u1 < m.r) this.#bad = false;
      return u2 < m.oneMinusH;
    }
    if (u1 < m.p) this.#bad = true;
    return u2 < m.oneMinusK;
  }
}
