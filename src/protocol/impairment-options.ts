/** What `udpkit relay` does to datagrams, and the validators that normalise it. */
import { UdpkitRangeError } from '../errors.js';
import { validateInteger } from '../validate.js';

/** Which way a datagram goes: client to upstream (`up`) or back (`down`). */
export type Direction = 'up' | 'down';

/** Impairments, the same for each direction they apply to. Rates are probabilities, 0 to 1. */
export interface ImpairmentOptions {
  /** Drop this share of datagrams (0.2: one in five). Default 0. */
  readonly loss?: number;
  /** Send an extra copy of this share, right after the original. Default 0. */
  readonly duplicate?: number;
  /**
   * Hold this share back so that the next datagram of the same client and direction overtakes
   * it: it leaves right after that one, or `reorderHoldMs` late if none comes. Default 0.
   */
  readonly reorder?: number;
  /** Fixed latency in milliseconds. Default 0. */
  readonly delayMs?: number;
  /**
   * Random latency, uniform within ± this many milliseconds around `delayMs` (never below 0).
   * It never reorders by itself: a datagram does not leave before one that came earlier.
   */
  readonly jitterMs?: number;
  /** Datagrams per second let through, per direction (a token bucket); excess is dropped. 0: no limit. */
  readonly rate?: number;
  /** Datagrams the bucket lets through back to back; default a tenth of a second's worth, at least 1. */
  readonly burst?: number;
  /** How long a held-back datagram waits for one to overtake it; default 100 ms. */
  readonly reorderHoldMs?: number;
  /** Impair only one direction and pass the other through untouched; default both. */
  readonly only?: Direction;
  /**
   * Bytes the queue may hold (payload plus a fixed overhead per datagram, both ways together);
   * a datagram that does not fit is dropped and counted as `queueFull`. Default 32 MiB.
   */
  readonly maxQueueBytes?: number;
}

/** {@link ImpairmentOptions} checked and with every default filled in. */
export interface ImpairmentSettings {
  readonly loss: number;
  readonly duplicate: number;
  readonly reorder: number;
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly rate: number;
  readonly burst: number;
  readonly reorderHoldMs: number;
  readonly only: Direction | undefined;
  readonly maxQueueBytes: number;
}

/** Bytes the queue of delayed datagrams may hold by default. */
export const DEFAULT_MAX_QUEUE_BYTES = 32 * 1024 * 1024;

/** Longest delay, jitter or hold accepted: an hour. */
const MAX_MS = 3_600_000;

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(value) ? Number(value) : NaN;
}

/**
 * A probability from 0 to 1, given as a number, a decimal string or a percentage (`'20%'`).
 * @example validateProbability('20%', { name: '--loss' }) // 0.2
 */
export function validateProbability(value: unknown, { name }: { name: string }): number {
  const percent = typeof value === 'string' && value.trim().endsWith('%');
  const n = percent ? toNumber((value as string).trim().slice(0, -1)) / 100 : toNumber(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `${name} must be a rate from 0 to 1 (or 0% to 100%), got ${JSON.stringify(String(value))}`);
  }
  return n;
}

/**
 * A duration in milliseconds (decimals allowed), from 0 to an hour.
 * @example validateMilliseconds('12.5', { name: '--delay' }) // 12.5
 */
export function validateMilliseconds(value: unknown, { name }: { name: string }): number {
  const n = toNumber(value);
  if (!Number.isFinite(n) || n < 0 || n > MAX_MS) {
    throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `${name} must be milliseconds from 0 to ${MAX_MS}, got ${JSON.stringify(String(value))}`);
  }
  return n;
}

/**
 * Checks impairment options and fills in the defaults.
 * @example validateImpairment({ loss: 0.2, rate: 100 }).burst // 10
 */
export function validateImpairment(options: ImpairmentOptions = {}): ImpairmentSettings {
  const rate = validateInteger(options.rate ?? 0, { name: 'rate', max: 1e9 });
  const only = options.only;
  if (only !== undefined && only !== 'up' && only !== 'down') {
    throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `only must be 'up' or 'down', got ${JSON.stringify(String(only))}`);
  }
  return {
    loss: validateProbability(options.loss ?? 0, { name: 'loss' }),
    duplicate: validateProbability(options.duplicate ?? 0, { name: 'duplicate' }),
    reorder: validateProbability(options.reorder ?? 0, { name: 'reorder' }),
    delayMs: validateMilliseconds(options.delayMs ?? 0, { name: 'delayMs' }),
    jitterMs: validateMilliseconds(options.jitterMs ?? 0, { name: 'jitterMs' }),
    rate,
    burst: validateInteger(options.burst ?? Math.max(1, Math.ceil(rate / 10)), { name: 'burst', min: 1, max: 1e9 }),
    reorderHoldMs: validateMilliseconds(options.reorderHoldMs ?? 100, { name: 'reorderHoldMs' }),
    only,
    maxQueueBytes: validateInteger(options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES, { name: 'maxQueueBytes', min: 65_536 }),
  };
}
