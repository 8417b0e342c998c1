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
