/** The accounting check every bench test that counts datagrams makes. */
import { expect } from 'vitest';
import type { BenchReport } from '../../src/protocol/bench-report.js';

/**
 * Every datagram accounted for: received, or lost on the path or by the receiving socket (the
 * two together where the socket's counter is unknown), and none too late to tell.
 */
export function expectAccounted(r: BenchReport): void {
  expect(r.received + r.lost).toBe(r.sent);
  expect(r.loss.path + (r.loss.socket ?? 0)).toBe(r.lost);
  expect(r.late).toBe(0);
}
