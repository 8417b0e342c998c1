/** What `udpkit relay` does to datagrams, and the validators that normalise it. */
import { UdpkitRangeError } from '../errors.js';
import { validateInteger } from '../validate.js';
import { DEFAULT_QUEUE_LIMIT, type BottleneckSettings } from './impairment-bottleneck.js';
import { expectedLoss, geFromBurst, type LossModel } from './impairment-loss.js';

/** Which way a datagram goes: client to upstream (`up`) or back (`down`). */
export type Direction = 'up' | 'down';

/** Impairments, the same for each direction they apply to. Rates are probabilities, 0 to 1. */
export interface ImpairmentOptions {
  /** Drop this share of datagrams (0.2: one in five), independently (netem `loss random`). Default 0. */
  readonly loss?: number;
  /**
   * With `loss`: lose in bursts of this mean length (datagrams), keeping `loss` as the long-run
   * share: the simple Gilbert model (impairment-loss.ts). Default: no bursts.
   */
  readonly lossBurst?: number;
  /** With `loss`: netem's deprecated correlated loss (`loss random P C`); see impairment-loss.ts. */
  readonly lossCorrelation?: number;
  /** Netem's `loss gemodel p r 1-h 1-k`; instead of `loss`. Defaults as netem's: r = 1 - p, 1-h = 1, 1-k = 0. */
  readonly gemodel?: { readonly p: number; readonly r?: number; readonly oneMinusH?: number; readonly oneMinusK?: number };
  /** Flip one random bit of the payload of this share (netem `corrupt`). Default 0. */
  readonly corrupt?: number;
  /** Send an extra copy of this share, right after the original. Default 0. */
  readonly duplicate?: number;
  /**
   * Hold this share back so that the next datagram of the same client and direction overtakes
   * it: it leaves right after that one, or `reorderHoldMs` late if none comes. Default 0.
   */
  readonly reorder?: number;
  /**
   * With `delayMs` (netem's reordering): after each reordered datagram, the next `reorderGap - 1`
   * take the delay; after them each one, with probability `reorder`, skips the delay (and so
   * overtakes those still delayed). Default 1. Without a delay, `reorder` holds datagrams back
   * instead (above) and a gap is refused, as netem refuses reordering without a delay.
   */
  readonly reorderGap?: number;
  /** Fixed latency in milliseconds. Default 0. */
  readonly delayMs?: number;
  /**
   * Random latency, uniform within ± this many milliseconds around `delayMs` (never below 0).
   * It never reorders by itself: a datagram does not leave before one that came earlier.
   */
  readonly jitterMs?: number;
  /**
   * Datagrams per second, per direction. Alone, a policer (a token bucket): excess is dropped at
   * once (`rateLimited`). With `queueLimit` or `queueLimitBytes`, a bottleneck: a FIFO queue
   * served at this rate, tail drop when full (`tailDropped`). 0: no limit.
   */
  readonly rate?: number;
  /** Datagrams the policer lets through back to back; default a tenth of a second's worth, at least 1. */
  readonly burst?: number;
  /**
   * A bottleneck in bits per second (IP packets: payload plus 28 bytes of IPv4 and UDP headers,
   * 48 for IPv6), per direction; its queue holds `queueLimit` datagrams (default 1000).
   */
  readonly bitRate?: number;
  /** The bottleneck's queue, in datagrams (the one being sent included). */
  readonly queueLimit?: number;
  /** The bottleneck's queue, in bytes of IP packets. */
  readonly queueLimitBytes?: number;
  /** Drop datagrams whose IP packet (payload plus 28 or 48 bytes of headers) is larger (`tooBig`). */
  readonly mtu?: number;
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
  /** The long-run loss asked for (`loss`, or what `gemodel` gives, for display). */
  readonly loss: number;
  readonly lossModel: LossModel;
  readonly corrupt: number;
  readonly reorderGap: number;
  readonly bottleneck: BottleneckSettings | undefined;
  readonly mtu: number | undefined;
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

const refuse = (message: string): never => {
  throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', message);
};

/** The loss model the options ask for, checked. */
function lossModelOf(o: ImpairmentOptions): LossModel {
  const loss = validateProbability(o.loss ?? 0, { name: 'loss' });
  if (o.gemodel !== undefined) {
    if (o.loss !== undefined || o.lossBurst !== undefined || o.lossCorrelation !== undefined) refuse('gemodel replaces loss, lossBurst and lossCorrelation: give one or the other');
    const p = validateProbability(o.gemodel.p, { name: 'gemodel p' });
    return {
      kind: 'gemodel',
      p,
      r: validateProbability(o.gemodel.r ?? 1 - p, { name: 'gemodel r' }),
      oneMinusH: validateProbability(o.gemodel.oneMinusH ?? 1, { name: 'gemodel 1-h' }),
      oneMinusK: validateProbability(o.gemodel.oneMinusK ?? 0, { name: 'gemodel 1-k' }),
    };
  }
  if (o.lossBurst !== undefined) {
    if (o.loss === undefined) refuse('lossBurst goes with loss (the long-run share lost)');
    if (o.lossCorrelation !== undefined) refuse('lossBurst and lossCorrelation are two loss models: give one');
    const burst = Number(o.lossBurst);
    const model = Number.isFinite(burst) ? geFromBurst(loss, burst) : `lossBurst must be a number, got ${JSON.stringify(String(o.lossBurst))}`;
    return typeof model === 'string' ? refuse(model) : model;
  }
  if (o.lossCorrelation !== undefined) {
    if (o.loss === undefined) refuse('lossCorrelation goes with loss');
    return { kind: 'correlated', p: loss, correlation: validateProbability(o.lossCorrelation, { name: 'lossCorrelation' }) };
  }
  return { kind: 'bernoulli', p: loss };
}

/** The bottleneck the options ask for, or `undefined` for none (or the policer). */
function bottleneckOf(o: ImpairmentOptions, rate: number): BottleneckSettings | undefined {
  const bitRate = validateInteger(o.bitRate ?? 0, { name: 'bitRate', max: 1e12 });
  const queued = o.queueLimit !== undefined || o.queueLimitBytes !== undefined;
  if (bitRate > 0 && rate > 0) refuse('rate and bitRate are two rates: give one');
  if (!queued && bitRate === 0) return undefined;
  if (bitRate === 0 && rate === 0) refuse('queueLimit and queueLimitBytes are the queue of a bottleneck: give rate or bitRate too');
  if (o.burst !== undefined) refuse('burst is for the policer (rate without a queue limit), not for a bottleneck queue');
  const limitBytes = o.queueLimitBytes === undefined ? undefined : validateInteger(o.queueLimitBytes, { name: 'queueLimitBytes', min: 1, max: 2 ** 40 });
  const limitPackets = o.queueLimit !== undefined ? validateInteger(o.queueLimit, { name: 'queueLimit', min: 1, max: 1e9 }) : limitBytes === undefined ? DEFAULT_QUEUE_LIMIT : undefined;
  return { rate: bitRate > 0 ? bitRate : rate, unit: bitRate > 0 ? 'bits' : 'packets', limitPackets, limitBytes };
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
  const lossModel = lossModelOf(options);
  const bottleneck = bottleneckOf(options, rate);
  const delayMs = validateMilliseconds(options.delayMs ?? 0, { name: 'delayMs' });
  if (options.reorderGap !== undefined && delayMs === 0) refuse('reorderGap needs delayMs: netem reorders by letting a datagram skip the delay');
  return {
    // The correlated generator does not keep its P (impairment-loss.ts): show what was asked.
    loss: expectedLoss(lossModel) ?? lossModel.p,
    lossModel,
    corrupt: validateProbability(options.corrupt ?? 0, { name: 'corrupt' }),
    reorderGap: validateInteger(options.reorderGap ?? 1, { name: 'reorderGap', min: 1, max: 1e9 }),
    bottleneck,
    mtu: options.mtu === undefined ? undefined : validateInteger(options.mtu, { name: 'mtu', min: 68, max: 65_535 + 48 }),
    duplicate: validateProbability(options.duplicate ?? 0, { name: 'duplicate' }),
    reorder: validateProbability(options.reorder ?? 0, { name: 'reorder' }),
    delayMs,
    jitterMs: validateMilliseconds(options.jitterMs ?? 0, { name: 'jitterMs' }),
    rate: bottleneck === undefined ? rate : 0,
    burst: validateInteger(options.burst ?? Math.max(1, Math.ceil(rate / 10)), { name: 'burst', min: 1, max: 1e9 }),
    reorderHoldMs: validateMilliseconds(options.reorderHoldMs ?? 100, { name: 'reorderHoldMs' }),
    only,
    maxQueueBytes: validateInteger(options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES, { name: 'maxQueueBytes', min: 65_536 }),
  };
}
