/**
 * The clock the transport drivers hand to protocol cores: milliseconds, fractional where the
 * core needs finer steps (docs/ARCHITECTURE.md, "Time and names in the protocol cores").
 */
import { performance } from 'node:perf_hooks';

/**
 * Milliseconds since the Unix epoch from the monotonic high-resolution timer (so it never steps
 * back when the wall clock is adjusted), with the fraction: a double this size still resolves
 * a quarter of a microsecond. For cores and their timers; sealed frames carry `Date.now()`,
 * which another machine can compare.
 * @example const now = milliseconds(); // 1_700_000_000_000.123-ish
 */
export function milliseconds(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Microseconds on the monotonic clock since this process started, with the fraction: for
 * timing short intervals (a round trip of 15 µs), where whole microseconds are a 7% step.
 * @example const t0 = monotonicMicroseconds(); work(); const took = monotonicMicroseconds() - t0;
 */
export function monotonicMicroseconds(): number {
  return performance.now() * 1000;
}

/** hrtime's origin is arbitrary (often boot): {@link nanoseconds} counts from the module's load. */
const HRTIME_BASE = process.hrtime.bigint();

/**
 * Nanoseconds on the monotonic clock (`process.hrtime`) since this module loaded, as a number:
 * exact for 104 days. Each call makes a heap number; a loop that waits on the clock uses
 * {@link spinUntil}, which makes none.
 * @example const t0 = nanoseconds(); work(); const took = nanoseconds() - t0;
 */
export function nanoseconds(): number {
  return Number(process.hrtime.bigint() - HRTIME_BASE);
}

/**
 * Busy-waits until {@link nanoseconds} reaches `ns`. Compares BigInts only, which V8 does
 * without allocating: polling `performance.now()` or a converted `hrtime` made a heap number per
 * reading, some ten million a second, and the young-generation collections they caused (some
 * 100 a second here, each up to a few ms on a busy machine) were the largest gaps in 100,000/s
 * pacing.
 * @example spinUntil(nanoseconds() + 5_000); // 5 µs
 */
export function spinUntil(ns: number): void {
  const until = HRTIME_BASE + BigInt(Math.ceil(ns));
  while (process.hrtime.bigint() < until);
}
