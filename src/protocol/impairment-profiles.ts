/**
 * `udpkit relay --profile NAME`: named sets of impairments for a kind of path, each one way (the
 * relay applies them to each direction). The numbers are typical orders of magnitude, not
 * measurements of any one network; the README lists them. Flags given with a profile override
 * its values.
 */
import type { ImpairmentOptions } from './impairment-options.js';

/** The profiles, by name. */
export const IMPAIRMENT_PROFILES = {
  /** A busy home Wi-Fi link: short delay with jitter, short loss bursts (retries that gave up), 50 Mbit/s. */
  wifi: { delayMs: 3, jitterMs: 2, loss: 0.01, lossBurst: 2, bitRate: 50_000_000, queueLimit: 100 },
  /** A 3G mobile link: long, variable delay, bursty loss, 2 Mbit/s behind a 64 KiB buffer. */
  '3g': { delayMs: 75, jitterMs: 25, loss: 0.02, lossBurst: 3, bitRate: 2_000_000, queueLimitBytes: 65_536 },
  /** A geostationary satellite hop: 300 ms each way, rare loss, 20 Mbit/s, netem's 1000-packet queue. */
  satellite: { delayMs: 300, jitterMs: 10, loss: 0.005, bitRate: 20_000_000, queueLimit: 1000 },
  /** A bad path for testing recovery: 10% loss in bursts of 4, duplicates, corruption, reordering. */
  lossy: { delayMs: 10, loss: 0.1, lossBurst: 4, duplicate: 0.01, corrupt: 0.005, reorder: 0.02 },
} as const satisfies Readonly<Record<string, ImpairmentOptions>>;

/** A profile's name. */
export type ImpairmentProfileName = keyof typeof IMPAIRMENT_PROFILES;

/**
 * A profile's options with `overrides` on top. An override of one loss model, rate or queue
 * limit replaces the profile's, rather than clashing or adding up with it.
 * @example withProfile('3g', { loss: 0.05 }) // 3g's numbers, 5% loss in bursts of 3
 */
export function withProfile(name: ImpairmentProfileName, overrides: ImpairmentOptions): ImpairmentOptions {
  const base: ImpairmentOptions = { ...IMPAIRMENT_PROFILES[name] };
  const { loss, lossBurst, lossCorrelation, gemodel, rate, bitRate, queueLimit, queueLimitBytes, ...rest } = base;
  const lossPart: ImpairmentOptions =
    overrides.gemodel !== undefined ? {} : overrides.lossCorrelation !== undefined ? { loss } : { loss, lossBurst, lossCorrelation, gemodel };
  const queuePart: ImpairmentOptions = overrides.queueLimit !== undefined || overrides.queueLimitBytes !== undefined ? {} : { queueLimit, queueLimitBytes };
  const ratePart: ImpairmentOptions = overrides.rate !== undefined || overrides.bitRate !== undefined ? queuePart : { rate, bitRate, ...queuePart };
  const merged: Record<string, unknown> = { ...rest, ...lossPart, ...ratePart };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) merged[k] = v;
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  return merged as ImpairmentOptions;
}
