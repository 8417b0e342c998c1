/**
 * The round-trip histogram of `udpkit bench --rtt` (docs/protocol.md, "Bench frames"): fixed
 * log-spaced bins, so that two runs' histograms line up. Pure.
 */

/** One bin of a {@link latencyHistogram}: samples with fromUs <= t < toUs. */
export interface HistogramBin {
  readonly fromUs: number;
  readonly toUs: number;
  readonly count: number;
}

/** The power of ten at or below `t` (>= 1), by comparison: Math.log10(1000) is 2.9999999999999996. */
function decadeOf(t: number): number {
  let decade = 10 ** Math.floor(Math.log10(t));
  if (decade * 10 <= t) decade *= 10;
  if (decade > t) decade /= 10;
  return decade;
}

/** The bin edge at or below `t` (>= 1) in the 1-2-5 series: 1, 2, 5, 10, 20, 50, ... */
function edgeBelow(t: number): number {
  const decade = decadeOf(t);
  return t >= 5 * decade ? 5 * decade : t >= 2 * decade ? 2 * decade : decade;
}

/** The edge after `edge` (itself an edge): 1 -> 2 -> 5 -> 10. */
function edgeAbove(edge: number): number {
  const decade = decadeOf(edge);
  return edge === decade ? 2 * decade : edge === 2 * decade ? 5 * decade : 10 * decade;
}

/**
 * Samples (µs) counted in log-spaced bins whose edges run 1, 2, 5, 10, 20, 50... µs: three per
 * decade, the same edges for every run so that two runs' histograms line up. Bins run from the
 * smallest sample's to the largest's, empty ones between included; samples under 1 µs count in
 * the first bin [0, 1). Empty for no samples.
 * @example latencyHistogram([12, 15, 48]) // [{ fromUs: 10, toUs: 20, count: 2 }, { fromUs: 20, toUs: 50, count: 1 }]
 */
export function latencyHistogram(samples: readonly number[]): HistogramBin[] {
  if (samples.length === 0) return [];
  const lowOf = (t: number): number => (t < 1 ? 0 : edgeBelow(t));
  const min = samples.reduce((a, b) => Math.min(a, b));
  const max = samples.reduce((a, b) => Math.max(a, b));
  const bins: { fromUs: number; toUs: number; count: number }[] = [];
  const index = new Map<number, number>();
  for (let from = lowOf(min); from <= lowOf(max); from = from === 0 ? 1 : edgeAbove(from)) {
    index.set(from, bins.length);
    bins.push({ fromUs: from, toUs: from === 0 ? 1 : edgeAbove(from), count: 0 });
  }
  for (const t of samples) (bins[index.get(lowOf(t)) as number] as { count: number }).count++;
  return bins;
}
