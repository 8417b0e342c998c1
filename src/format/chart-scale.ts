/**
 * Axis arithmetic for the charts: round tick steps (1, 2 or 5 times a power of ten), so axes
 * read 0, 20, 40 rather than 0, 17.3, 34.6, and a linear map from values to pixels.
 */

/** A value range with its ticks and how many decimals their labels need. */
export interface Ticks {
  readonly min: number;
  readonly max: number;
  readonly values: readonly number[];
  readonly decimals: number;
}

/**
 * The one of 1, 2, 5 x 10^k nearest `raw` (raw > 0) on a log scale, so 10 s over 5 ticks gets
 * steps of 2, not 5 because the run lasted 10.0006 s.
 */
function roundStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f >= Math.sqrt(50) ? 10 : f >= Math.sqrt(10) ? 5 : f >= Math.SQRT2 ? 2 : 1) * power;
}

/**
 * About `target` ticks over [lo, hi]. With `extend`, the range grows outwards to whole steps
 * (a value axis whose top tick is the top of the plot); without, ticks stay inside it (a time
 * axis that starts and ends where the data does). An empty range becomes [lo, lo + 1].
 * @example niceTicks(0, 93, 5, true) // { min: 0, max: 100, values: [0, 20, 40, 60, 80, 100], decimals: 0 }
 */
export function niceTicks(lo: number, hi: number, target: number, extend: boolean): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return niceTicks(0, 1, target, extend);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi - lo < 1e-9 * Math.max(1, Math.abs(lo))) hi = lo + 1;
  const step = roundStep((hi - lo) / Math.max(1, target));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const min = extend ? Math.floor(lo / step + 1e-9) * step : lo;
  const max = extend ? Math.ceil(hi / step - 1e-9) * step : hi;
  const values: number[] = [];
  const from = extend ? Math.round(min / step) : first;
  const to = extend ? Math.round(max / step) : last;
  for (let k = from; k <= to; k++) values.push(Number((k * step).toFixed(decimals)));
  // Whole steps are rounded to the ticks' decimals (no 0.30000000000000004); the data's own ends are kept.
  return extend ? { min: Number(min.toFixed(decimals)), max: Number(max.toFixed(decimals)), values, decimals } : { min, max, values, decimals };
}

/**
 * Maps [d0, d1] onto [r0, r1] (pixels; r1 < r0 for a y axis, which grows upwards).
 * @example scale(0, 10, 0, 100)(2.5) // 25
 */
export function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}
