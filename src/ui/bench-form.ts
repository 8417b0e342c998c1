/**
 * The page's Bench form: checked once, with bounds tighter than the CLI's, since anyone with
 * the page's token may start a run: one run at a time (see bench-run.ts), at most
 * {@link BENCH_MAX_SECONDS} s, {@link BENCH_MAX_RATE} datagrams/s of at most
 * {@link BENCH_MAX_LENGTH} bytes, and only to a unicast address.
 */
import ipaddr from 'ipaddr.js';
import { validateInteger, validatePort } from '../validate.js';
import { gateBroadcast, type GateOptions } from './broadcast-gate.js';

/** Longest run the page starts: 30 s. */
export const BENCH_MAX_SECONDS = 30;
/** Highest rate the page asks for: 100,000 datagrams/s (no "as fast as possible" from the page). */
export const BENCH_MAX_RATE = 100_000;
/** Largest datagram: 1472 bytes, one Ethernet frame over IPv4 (no IP fragments). */
export const BENCH_MAX_LENGTH = 1472;

/** A checked bench request. */
export interface BenchForm {
  /** Run a bench server inside the UI process on 127.0.0.1 and test against it. */
  readonly loopback: boolean;
  /** The bench server, unless `loopback`: a resolved unicast address. */
  readonly host: string;
  readonly port: number;
  readonly durationMs: number;
  readonly rate: number;
  readonly length: number;
  /** Measure round trips afterwards (1000 echoes, a few seconds at most). */
  readonly rtt: boolean;
}

const ONE_HOST = 'a bench run goes to one host only';

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Checks the body's numbers and shape; the host is checked by {@link gateBenchForm}. */
export function toBenchForm(body: unknown): BenchForm | string {
  const b = (body ?? {}) as Record<string, unknown>;
  const loopback = b['loopback'] === true;
  if (!loopback && (typeof b['host'] !== 'string' || b['host'].trim() === '')) return 'host is required (or tick loopback)';
  try {
    const seconds = b['seconds'] === undefined ? 5 : Number(b['seconds']);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > BENCH_MAX_SECONDS) return `seconds: more than 0, at most ${BENCH_MAX_SECONDS}`;
    return {
      loopback,
      host: loopback ? '127.0.0.1' : (b['host'] as string).trim(),
      port: loopback ? 0 : validatePort(b['port'] ?? 5201),
      durationMs: Math.max(1, Math.round(seconds * 1000)),
      rate: validateInteger(b['rate'] ?? 10_000, { name: 'rate', min: 1, max: BENCH_MAX_RATE }),
      length: validateInteger(b['length'] ?? 64, { name: 'length', min: 28, max: BENCH_MAX_LENGTH }),
      rtt: b['rtt'] === true,
    };
  } catch (err) {
    return errorMessage(err);
  }
}

/**
 * The form with its host resolved, or why it is refused: a bench run is test traffic at up to
 * {@link BENCH_MAX_RATE} datagrams/s, so it never goes to a broadcast or multicast address.
 */
export async function gateBenchForm(form: BenchForm, options: GateOptions = {}): Promise<BenchForm | string> {
  if (form.loopback) return form;
  const gated = await gateBroadcast({ ...form, broadcast: false }, { ...options, refusal: ONE_HOST });
  if (typeof gated === 'string') return gated;
  const { broadcast: _, ...checked } = gated;
  if (ipaddr.isValid(checked.host)) {
    const parsed = ipaddr.process(checked.host);
    const what = checked.host === form.host ? form.host : `${form.host} (${checked.host})`;
    if (parsed.range() === 'multicast') return `${what} is a multicast address: ${ONE_HOST}`;
  }
  return checked;
}
