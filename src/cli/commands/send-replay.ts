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
  if (!Number.isFinite(n)) throw new UsageError(`--speed must be a number >= 0 (2: twice as fast, 0: no waiting), got ${JSON.stringify(value)}`, 'speed');
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
        const keep: CapturePacket[] = [];
        for (const p of batch) {
          tally.udp++;
          const why = plan.filterPort !== undefined && p.from.port !== plan.filterPort && p.to.port !== plan.filterPort ? 'filtered' : p.data.length > plan.maxSize ? 'too-large' : undefined;
          if (why !== undefined) tally.skipped[why] = (tally.skipped[why] ?? 0) + 1;
          else keep.push(p);
        }
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
      for (const [reason, n] of Object.entries(capture.stats.skipped)) tally.skipped[reason as ReplaySkip] = (tally.skipped[reason as ReplaySkip] ?? 0) + (n ?? 0);
    }
  }
}

/** Sends a batch whose payloads share one buffer with one `writeSpans` (one system call per many on the native socket). */
async function sendBatch(sender: Sender, batch: readonly CapturePacket[]): Promise<void> {
  const first = batch[0] as CapturePacket;
  if (batch.length === 1 || batch.some((p) => p.data.buffer !== first.data.buffer)) {
    for (const p of batch) if (!sender.write(p.data)) await once(sender, 'drain');
    return;
  }
  const starts = new Uint32Array(batch.length);
  const ends = new Uint32Array(batch.length);
  batch.forEach((p, i) => {
    starts[i] = p.data.byteOffset;
    ends[i] = p.data.byteOffset + p.data.length;
  });
  await sender.writeSpans({ bytes: Buffer.from(first.data.buffer), starts, ends, count: batch.length });
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
      for await (const batch of packets(plan, tally)) {
        if (io.signal.aborted) break;
        await sendBatch(sender, batch);
        tally.sent += batch.length;
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
