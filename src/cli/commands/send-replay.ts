/**
 * `udpkit send --replay FILE HOST[:PORT]`: every UDP payload of a capture to one destination, in
 * capture order, with the capture's gaps (scaled by `--speed`), or as fast as flow control
 * allows (`--speed 0`), or acknowledged one by one (`--ack`).
 */
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { UdpkitError, UsageError, formatHostPort, isUdpkitError } from '../../errors.js';
import { quantity } from '../../format/quantity.js';
import { readCapture, type CapturePacket, type CaptureSkipReason } from '../../transport/read-capture.js';
import type { Sender } from '../../transport/sender.js';
import { parseHostPort, validateInteger, validatePort, validateSeconds } from '../../validate.js';
import { EXIT_OK, EXIT_UNCONFIRMED, type CliIo } from '../io.js';
import { keyFrom } from '../key-option.js';
import { openSendSender } from './send-sender.js';
import type { SendOptions } from './send.options.js';

/** Why a packet of the capture was not sent: the reader's reasons and the replay's own. */
type ReplaySkip = CaptureSkipReason | 'filtered' | 'too-large';

const SKIP_TEXT: Readonly<Record<ReplaySkip, string>> = {
  'link-type': 'unsupported link type',
  'not-ip': 'not IP',
  'not-udp': 'not UDP',
  fragment: 'IP fragment',
  truncated: 'cut by the snap length',
  malformed: 'malformed',
  filtered: 'other ports (--filter-port)',
  'too-large': 'too large for the destination',
};

/** What the replay did, across every round. */
interface Tally {
  /** UDP packets read from the capture. */
  udp: number;
  sent: number;
  readonly skipped: Partial<Record<ReplaySkip, number>>;
  /** What stopped the reading (a capture cut short, a file that cannot be read). */
  fault?: unknown;
}

interface Plan {
  readonly source: string | Readable;
  readonly file: string;
  readonly speed: number;
  readonly filterPort: number | undefined;
  readonly repeat: number;
  readonly maxSize: number;
  readonly signal: AbortSignal;
}

/** A `--speed` value: a finite number >= 0. */
function validateSpeed(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new UsageError(`--speed must be a number >= 0 (2: twice as fast, 0: no waiting), got ${JSON.stringify(value)}`);
  return n;
}

/**
 * The packets to send, in order, as batches: one packet at a time when the gaps are kept (each
 * yielded at its time, counted from the round's first packet on the monotonic clock, so that
 * waits do not add up errors), whole chunks at `--speed 0`. A fault in the capture ends it,
 * kept in `tally.fault` for after what came before is sent.
 */
async function* packets(plan: Plan, tally: Tally): AsyncGenerator<CapturePacket[], void, undefined> {
  for (let round = 0; round < plan.repeat && !plan.signal.aborted; round++) {
    const capture = readCapture(plan.source, { signal: plan.signal });
    let origin: { capture: number; clock: number } | undefined;
    try {
      for await (const batch of capture.batches()) {
        const keep = batch.filter((p) => kept(plan, tally, p.data.length, p.from.port, p.to.port));
        if (plan.speed === 0) {
          if (keep.length > 0) yield keep;
          continue;
        }
        for (const p of keep) {
          origin ??= { capture: p.time, clock: performance.now() };
          const wait = origin.clock + (p.time - origin.capture) / plan.speed - performance.now();
          if (wait >= 1) await sleep(wait, undefined, { signal: plan.signal }).catch(() => undefined);
          if (plan.signal.aborted) return;
          yield [p];
        }
      }
    } catch (err) {
      tally.fault = err;
      return;
    } finally {
      addSkips(tally, capture.stats.skipped);
    }
  }
}

/** Adds what the reader skipped, by reason, to the tally. */
function addSkips(tally: Tally, skipped: Partial<Record<CaptureSkipReason, number>>): void {
  for (const [reason, n] of Object.entries(skipped)) tally.skipped[reason as ReplaySkip] = (tally.skipped[reason as ReplaySkip] ?? 0) + (n ?? 0);
}

/** Whether the replay sends this datagram; counts it, and why not when not. */
function kept(plan: Plan, tally: Tally, size: number, sourcePort: number, destinationPort: number): boolean {
  tally.udp++;
  const why = plan.filterPort !== undefined && sourcePort !== plan.filterPort && destinationPort !== plan.filterPort ? 'filtered' : size > plan.maxSize ? 'too-large' : undefined;
  if (why === undefined) return true;
  tally.skipped[why] = (tally.skipped[why] ?? 0) + 1;
  return false;
}

/**
 * `--speed 0` without `--ack`: each chunk of the file goes to the kernel as spans of the buffer it
 * was read into, with no object per datagram (as `udpkit send < file` sends lines).
 */
async function replayFast(sender: Sender, plan: Plan, tally: Tally): Promise<void> {
  for (let round = 0; round < plan.repeat && !plan.signal.aborted; round++) {
    const capture = readCapture(plan.source, { signal: plan.signal });
    try {
      for await (const spans of capture.spans((d) => kept(plan, tally, d.end - d.start, d.sourcePort, d.destinationPort))) {
        if (plan.signal.aborted) return;
        await sender.writeSpans(spans);
        tally.sent += spans.count;
      }
    } catch (err) {
      tally.fault = err;
      return;
    } finally {
      addSkips(tally, capture.stats.skipped);
    }
  }
}

/** `replayed N of M UDP packets to HOST:PORT (K skipped: reasons)`. */
function summary(tally: Tally, where: string): string {
  const reasons = (Object.entries(tally.skipped) as [ReplaySkip, number][]).filter(([, n]) => n > 0);
  const skipped = reasons.reduce((sum, [, n]) => sum + n, 0);
  const why = reasons.length === 0 ? '' : `: ${reasons.map(([r, n]) => `${n} ${SKIP_TEXT[r]}`).join(', ')}`;
  return `replayed ${tally.sent} of ${quantity(tally.udp, 'UDP packet')} to ${where}/udp (${skipped} skipped${why})`;
}

/** Runs `udpkit send --replay FILE HOST[:PORT]`. */
export async function run(args: readonly string[], opts: SendOptions, io: CliIo): Promise<number> {
  const [target, ...words] = args;
  if (words.length > 0) throw new UsageError('--replay sends the payloads of the capture: give no MESSAGE');
  const file = opts.replay as string;
  const { host, port } = parseHostPort(target, validatePort(opts.port, { name: '--port' }));
  const speed = validateSpeed(opts.speed);
  const filterPort = opts.filterPort === undefined ? undefined : validatePort(opts.filterPort, { name: '--filter-port' });
  const repeat = validateInteger(opts.repeat ?? '1', { name: '--repeat', min: 1 });
  if (file === '-' && repeat > 1) throw new UsageError('--repeat needs a file: stdin can be read only once');
  const key = await keyFrom(opts, io.env);
  const sender = await openSendSender(host, port, opts, key, io);
  const where = formatHostPort(sender.destination.address, port);
  const plan: Plan = { source: file === '-' ? io.stdin : file, file, speed, filterPort, repeat, maxSize: sender.maxMessageSize, signal: io.signal };
  const tally: Tally = { udp: 0, sent: 0, skipped: {} };
  let code = EXIT_OK;
  try {
    if (opts.ack === true) code = await replayAcknowledged(sender, plan, tally, where, opts, io);
    else {
      if (speed === 0) await replayFast(sender, plan, tally);
      else {
        for await (const [p] of packets(plan, tally)) {
          if (io.signal.aborted) break;
          if (!sender.write((p as CapturePacket).data)) await once(sender, 'drain');
          tally.sent++;
        }
      }
      if (!io.signal.aborted) await sender.flush();
      if (opts.quiet !== true) io.stderr.write(summary(tally, where) + '\n');
    }
  } finally {
    await sender.close();
  }
  const fault = tally.fault;
  if (fault === undefined) return code;
  if (isUdpkitError(fault) && fault.code === 'UDPKIT_CAPTURE_INVALID') {
    const offset = (fault as UdpkitError).offset;
    throw new UdpkitError('UDPKIT_CAPTURE_INVALID', `cannot replay ${file === '-' ? 'stdin' : JSON.stringify(file)}: ${fault.message}`, { ...(offset !== undefined ? { offset } : {}), cause: fault });
  }
  throw fault;
}

/** `--replay --ack`: each payload an acknowledged message; exit 3 unless all are confirmed. */
async function replayAcknowledged(sender: Sender, plan: Plan, tally: Tally, where: string, opts: SendOptions, io: CliIo): Promise<number> {
  const window = validateInteger(opts.window ?? '64', { name: '--window', min: 1, max: 65_536 });
  const ackTimeoutMs = validateSeconds(opts.ackTimeout ?? '10', { name: '--ack-timeout', min: 0.001 });
  const { sendReliably } = await import('../../transport/reliable-send.js');
  async function* payloads(): AsyncGenerator<Buffer[], void, undefined> {
    for await (const batch of packets(plan, tally)) {
      tally.sent += batch.length;
      yield batch.map((p) => p.data);
    }
  }
  const result = await sendReliably(sender, payloads(), { window, ackTimeoutMs, signal: io.signal });
  const line = summary(tally, where);
  if (result.unconfirmed === 0) {
    if (opts.quiet !== true) io.stderr.write(`${line}, all confirmed (${quantity(result.retransmissions, 'retransmission')})\n`);
    return EXIT_OK;
  }
  const why = result.failure === 'refused' ? 'port unreachable' : result.failure === 'aborted' ? 'stopped' : `no acknowledgement for ${ackTimeoutMs / 1000} s`;
  io.stderr.write(`${line}; udpkit: ${result.unconfirmed} of ${quantity(result.sent, 'message')} unconfirmed (${result.confirmed} confirmed: ${why})\n`);
  return EXIT_UNCONFIRMED;
}
