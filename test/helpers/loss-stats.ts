/**
 * What a loss pattern measures, and the standard errors to judge it by: the tests ask that each
 * measured rate lie within 3 standard errors of what was asked.
 */

/** Loss share and loss bursts (runs of consecutive lost sequence numbers) of `count` sent. */
export function lossRuns(lost: (seq: number) => boolean, count: number): { lost: number; bursts: number[] } {
  const bursts: number[] = [];
  let lostCount = 0;
  let run = 0;
  for (let i = 0; i < count; i++) {
    if (lost(i)) {
      lostCount++;
      run++;
    } else if (run > 0) {
      bursts.push(run);
      run = 0;
    }
  }
  if (run > 0) bursts.push(run);
  return { lost: lostCount, bursts };
}

/** Standard error of a share `p` measured over `n` independent trials. */
export const bernoulliSe = (p: number, n: number): number => Math.sqrt((p * (1 - p)) / n);

/**
 * Standard error of the loss share over `n` datagrams under Gilbert-Elliott (p, r, 1-h, 1-k).
 * The states form a two-state Markov chain whose correlation at lag k is λ^k, λ = 1 - p - r; given
 * the states, losses are independent, so Cov(L_i, L_i+k) = (a_B - a_G)^2 π_B π_G λ^k and
 * Var(mean) = [ℓ(1 - ℓ) + 2 (a_B - a_G)^2 π_B π_G λ / (1 - λ)] / n.
 */
export function geLossSe(m: { p: number; r: number; oneMinusH: number; oneMinusK: number }, n: number): number {
  const piB = m.p / (m.p + m.r);
  const piG = 1 - piB;
  const loss = piB * m.oneMinusH + piG * m.oneMinusK;
  const lambda = 1 - m.p - m.r;
  const d = m.oneMinusH - m.oneMinusK;
  return Math.sqrt((loss * (1 - loss) + (2 * d * d * piB * piG * lambda) / (1 - lambda)) / n);
}

/**
 * Standard error of the mean of `bursts` geometric burst lengths with success probability r
 * (mean 1/r, variance (1 - r)/r^2): the simple Gilbert model's bursts.
 */
export const geometricMeanSe = (r: number, bursts: number): number => Math.sqrt((1 - r) / (r * r) / bursts);
