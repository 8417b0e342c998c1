/** How `udpkit listen`'s summary shows refusals by reason and what `--echo` did. */
import { formatHostPort } from '../errors.js';
import { ECHO_PEER_LIMIT, type EchoRefusal } from '../protocol/echo-guard.js';
import type { Endpoint } from '../types.js';
import type { EchoStats } from '../transport/echo.js';
import type { RefusalReason } from '../transport/admission.js';

/** Refusal reasons in the order the checks run: who sent it, unsealing, --ack, the stop. */
const REFUSAL_ORDER: readonly RefusalReason[] = [
  'source', 'plain', 'malformed', 'version', 'forged', 'misdirected', 'stale', 'replayed',
  'duplicate', 'window', 'memory', 'evicted', 'gap', 'after-stop',
];

const ECHO_LIMITED: ReadonlyArray<readonly [EchoRefusal, string]> = [
  ['peer-rate', 'per peer'],
  ['same-payload', 'same payload'],
];
const ECHO_SKIPPED: ReadonlyArray<readonly [EchoRefusal, string]> = [
  ['own-address', 'own address'],
  ['not-unicast', 'not unicast'],
  ['answer', 'sealed answer'],
];

const parts = (list: ReadonlyArray<readonly [string, number]>): string =>
  list
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');

/**
 * `refused N (reason n, ...)`, naming only the reasons that occurred.
 * @example formatRefused(3, { plain: 1, misdirected: 2 }) // 'refused 3 (plain 1, misdirected 2)'
 */
export function formatRefused(refused: number, by: Partial<Record<RefusalReason, number>>): string {
  // Known reasons in check order, then any others a newer layer added.
  const reasons = [...REFUSAL_ORDER, ...(Object.keys(by) as RefusalReason[]).filter((r) => !REFUSAL_ORDER.includes(r))];
  const why = parts(reasons.map((r) => [r.replace(/-/g, ' '), by[r] ?? 0] as const));
  return why === '' ? `refused ${refused}` : `refused ${refused} (${why})`;
}

/**
 * What `--echo` did, so that echoed + limited + not echoed = datagrams shown.
 * @example formatEcho({ echoed: 4, failed: 0, refused: 2, refusedBy: { 'same-payload': 1, 'own-address': 1 } })
 * // 'echoed 4; echo limited 1 (same payload 1); not echoed 1 (own address 1)'
 */
export function formatEcho(s: EchoStats): string {
  let line = `echoed ${s.echoed}`;
  const limited = ECHO_LIMITED.reduce((n, [r]) => n + (s.refusedBy[r] ?? 0), 0);
  if (limited > 0) line += `; echo limited ${limited} (${parts(ECHO_LIMITED.map(([r, name]) => [name, s.refusedBy[r] ?? 0] as const))})`;
  const skipped = ECHO_SKIPPED.reduce((n, [r]) => n + (s.refusedBy[r] ?? 0), 0) + s.failed;
  if (skipped > 0) {
    const why = [...ECHO_SKIPPED.map(([r, name]) => [name, s.refusedBy[r] ?? 0] as const), ['send failed', s.failed] as const];
    line += `; not echoed ${skipped} (${parts(why)})`;
  }
  return line;
}

/**
 * The note `listen --echo` prints the first time it holds an echo back for `reason` (later ones
 * are only counted).
 * @example echoRefusalNote('own-address', { address: '127.0.0.1', port: 5000, family: 'IPv4' })
 * // "not echoing to 127.0.0.1:5000, this listener's own port on this machine (a forged source?); ..."
 */
export function echoRefusalNote(reason: EchoRefusal, from: Endpoint): string {
  const where = formatHostPort(from.address, from.port);
  const why: Record<EchoRefusal, string> = {
    'own-address': `not echoing to ${where}, this listener's own port on this machine (a forged source?)`,
    'not-unicast': `not echoing to ${where}, which is not one host (broadcast, multicast, unspecified or port 0)`,
    answer: `not echoing a sealed answer from ${where} (an echo or acknowledgement; answering it could loop)`,
    'peer-rate': `echoes to ${from.address} held back: over ${ECHO_PEER_LIMIT.rate} a second`,
    'same-payload': `not echoing the same payload to ${where} again so soon (another echo listener answering back?)`,
  };
  return `${why[reason]}; from now on such datagrams are only counted in the summary`;
}
