/**
 * `udpkit relay`: a UDP proxy that misbehaves on purpose, with netem's models (loss, bursts,
 * corruption, duplicates, reordering, delay, jitter, a policer or a bottleneck queue, an MTU)
 * between clients and one upstream server, both ways, until Ctrl-C.
 */
import { describeErrno, errnoOf, formatHostPort, UsageError } from '../../errors.js';
import { CaptureWriter } from '../../transport/capture-writer.js';
import { describeImpairment, formatRelayStats, relayStatsJson } from '../../format/relay.js';
import { openTrace, TRACE_BACKLOG } from './relay-trace.js';
import { validateImpairment, validateMilliseconds, validateProbability, type ImpairmentOptions } from '../../protocol/impairment-options.js';
import { relay, type RelayOptions } from '../../transport/relay.js';
import { parseHostPort, validateByteSize, validateInteger, validatePort, validateSeconds } from '../../validate.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from '../io.js';
import { keyFrom } from '../key-option.js';
import { localAddress } from '../local-address.js';
import { isBitRate, type RelayCliOptions } from './relay.options.js';
import { withProfile, type ImpairmentProfileName } from '../../protocol/impairment-profiles.js';

/** `--rate`: datagrams per second (`1000`) or bits per second with tc's units (`10mbit`, `500kbit`). */
function rateOf(value: string): { rate: number } | { bitRate: number } {
  const bitsMatch = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)bit\s*$/i.exec(value);
  if (bitsMatch) {
    const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[(bitsMatch[2] as string).toLowerCase()] as number;
    const bitRate = Math.round(Number(bitsMatch[1]) * scale);
    if (bitRate >= 1 && bitRate <= 1e12) return { bitRate };
  } else if (/^\s*\d+\s*$/.test(value)) return { rate: validateInteger(value, { name: '--rate', max: 1e9 }) };
  throw new UsageError(`--rate must be datagrams per second (1000) or bits per second with a unit (500kbit, 10mbit, 1gbit), got ${JSON.stringify(value)}`);
}

/** `--queue-limit`: a plain number counts datagrams; with a size unit (64k, 1M, 1500b) it counts bytes. */
function queueLimitOf(value: string): { queueLimit: number } | { queueLimitBytes: number } {
  if (/^\s*\d+\s*$/.test(value)) return { queueLimit: validateInteger(value, { name: '--queue-limit', min: 1, max: 1e9 }) };
  return { queueLimitBytes: validateByteSize(value, { name: '--queue-limit', min: 1 }) };
}

/** `--gemodel p[,r[,1-h[,1-k]]]`, each a rate (0.05 or 5%). */
function gemodelOf(value: string): NonNullable<ImpairmentOptions['gemodel']> {
  const parts = value.split(',');
  if (parts.length > 4) throw new UsageError(`--gemodel takes p,r,1-h,1-k (up to four rates), got ${JSON.stringify(value)}`);
  const [p, r, h, k] = parts.map((v, i) => validateProbability(v, { name: `--gemodel ${['p', 'r', '1-h', '1-k'][i] as string}` }));
  return { p: p as number, ...(r !== undefined ? { r } : {}), ...(h !== undefined ? { oneMinusH: h } : {}), ...(k !== undefined ? { oneMinusK: k } : {}) };
}

function burstLengthOf(value: unknown, { name }: { name: string }): number {
  const n = typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 1e9)) throw new UsageError(`${name} must be a mean burst length of 1 datagram or more, got ${JSON.stringify(String(value))}`);
  return n;
}

/** `--burst` without `--rate` is refused by the declaration's rules, before this runs. */
function impairments(opts: RelayCliOptions): ImpairmentOptions {
  const flag = <T>(value: string | undefined, name: string, check: (value: unknown, o: { name: string }) => T): T | undefined =>
    value === undefined ? undefined : check(value, { name });
  const count = (min: number) => (value: unknown, o: { name: string }) => validateInteger(value, { ...o, min, max: 1e9 });
  const asked: ImpairmentOptions = {
    loss: flag(opts.loss, '--loss', validateProbability),
    lossBurst: flag(opts.lossBurst, '--loss-burst', burstLengthOf),
    lossCorrelation: flag(opts.lossCorr, '--loss-corr', validateProbability),
    ...(opts.gemodel !== undefined ? { gemodel: gemodelOf(opts.gemodel) } : {}),
    corrupt: flag(opts.corrupt, '--corrupt', validateProbability),
    duplicate: flag(opts.dup, '--dup', validateProbability),
    reorder: flag(opts.reorder, '--reorder', validateProbability),
    reorderGap: flag(opts.reorderGap, '--reorder-gap', count(1)),
    delayMs: flag(opts.delay, '--delay', validateMilliseconds),
    jitterMs: flag(opts.jitter, '--jitter', validateMilliseconds),
    ...(opts.rate !== undefined ? rateOf(opts.rate) : {}),
    ...(opts.queueLimit !== undefined ? queueLimitOf(opts.queueLimit) : {}),
    burst: flag(opts.burst, '--burst', count(1)),
    mtu: flag(opts.mtu, '--mtu', (v, o) => validateInteger(v, { ...o, min: 68, max: 65_583 })),
    only: opts.upOnly === true ? 'up' : opts.downOnly === true ? 'down' : undefined,
  };
  const options = opts.profile !== undefined ? withProfile(opts.profile as ImpairmentProfileName, asked) : asked;
  // Checked here too, so that a combination only the library can judge is a usage error naming the flags.
  try {
    validateImpairment(options);
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/\b(lossBurst|lossCorrelation|gemodel|reorderGap|delayMs|queueLimitBytes|queueLimit|bitRate|rate|burst|loss)\b/g, (m) => FLAG_OF[m] ?? m)}`);
  }
  return options;
}

/** The flag for each library option name a library message may carry. */
const FLAG_OF: Readonly<Record<string, string>> = {
  lossBurst: '--loss-burst',
  lossCorrelation: '--loss-corr',
  gemodel: '--gemodel',
  reorderGap: '--reorder-gap',
  delayMs: '--delay',
  queueLimit: '--queue-limit',
  queueLimitBytes: '--queue-limit',
  bitRate: '--rate',
  rate: '--rate',
  burst: '--burst',
  loss: '--loss',
};

function parse(opts: RelayCliOptions): RelayOptions {
  const bind = localAddress(opts.bind, '--bind');
  const upstream = parseHostPort(opts.to, 0);
  if (upstream.port === 0) throw new UsageError(`--to needs HOST:PORT (or [IPv6]:PORT), got ${JSON.stringify(opts.to)}`);
  return {
    upstream,
    port: validatePort(opts.port, { allowZero: true, name: '--port' }),
    ...(bind !== undefined ? { address: bind } : {}),
    ...(opts.seed !== undefined ? { seed: validateInteger(opts.seed, { name: '--seed', max: 2 ** 32 - 1 }) } : {}),
    ...(opts.idle !== undefined ? { idleTimeoutMs: validateSeconds(opts.idle, { name: '--idle', min: 1 }) } : {}),
    ...(opts.maxQueue !== undefined ? { maxQueueBytes: validateByteSize(opts.maxQueue, { name: '--max-queue', min: 65_536 }) } : {}),
    ...impairments(opts),
  };
}

/** Runs `udpkit relay`. */
export async function run(_args: readonly string[], opts: RelayCliOptions, io: CliIo): Promise<number> {
  const options = parse(opts);
  const key = await keyFrom(opts, io.env);
  let failCapture: ((what: string) => void) | undefined;
  let captureFailure: string | undefined;
  const onCaptureError = (err: Error): void => {
    captureFailure ??= `cannot write to --pcap ${opts.pcap}: ${describeErrno(errnoOf(err))}`;
    failCapture?.(captureFailure);
  };
  let failTrace: (() => void) | undefined;
  // Like --pcap: a trace that cannot be written ends the relay (a run is traced to be analysed).
  const trace = opts.trace === undefined ? undefined : await openTrace(opts.trace, () => failTrace?.());
  // Opened (created) now, so that a bad path fails before anything is relayed.
  const capture = opts.pcap === undefined ? undefined : CaptureWriter.open(opts.pcap, { format: opts.pcapFormat ?? 'pcapng', onError: onCaptureError });
  const r = await relay({
    ...options,
    ...(key !== undefined ? { key } : {}),
    ...(capture !== undefined ? { capture } : {}),
    ...(trace !== undefined ? { onTrace: trace.write } : {}),
  }).catch(async (err: unknown) => {
    await capture?.end();
    await trace?.end();
    throw err;
  });
  const a = r.address();
  const where = a.dualStack ? `*:${a.port}` : formatHostPort(a.address, a.port);
  const to = formatHostPort(r.upstream.address, r.upstream.port);
  const sealed = key === undefined ? '' : '; sealed (--key): opened and sealed again for each hop';
  io.stderr.write(`listening on ${where}/udp; relaying to ${to}/udp; ${describeImpairment(r.settings)}; seed ${r.seed}${sealed}\n`);
  r.once('sealed', () => {
    io.stderr.write(
      'note: sealed datagrams (--key) are passing through; each opens only on the port it was sealed for, so the far end refuses them as misdirected: run the relay with the same --key (or --key-file, UDPKIT_KEY)\n',
    );
  });

  let failure: string | undefined;
  const code = await new Promise<number>((resolve) => {
    failCapture = () => resolve(EXIT_FAILURE);
    failTrace = () => resolve(EXIT_FAILURE);
    if (captureFailure !== undefined || trace?.failed === true) resolve(EXIT_FAILURE);
    r.once('error', (err: Error) => {
      failure = `receiving on port ${a.port}/udp failed: ${err.message}`;
      resolve(EXIT_FAILURE);
    });
    if (io.signal.aborted) resolve(EXIT_OK);
    else io.signal.addEventListener('abort', () => resolve(EXIT_OK), { once: true });
  });
  await r.close();
  await capture?.end();
  const traceFailure = await trace?.end();
  if (opts.json === true) io.stdout.write(relayStatsJson(r.stats, r.seed) + '\n');
  else io.stderr.write(formatRelayStats(r.stats) + '\n');
  if (capture !== undefined && capture.dropped > 0) io.stderr.write(`note: ${capture.dropped} forwarded datagrams are not in the capture (it fell behind, failed, or they crossed IPv4/IPv6)\n`);
  if (trace !== undefined && trace.skipped > 0) io.stderr.write(`note: ${trace.skipped} datagrams are not in --trace ${opts.trace} (writing it fell ${TRACE_BACKLOG / 1048576} MiB behind)\n`);
  if (failure !== undefined) io.stderr.write(`udpkit: ${failure}\n`);
  if (traceFailure !== undefined) io.stderr.write(`udpkit: ${traceFailure}\n`);
  if (captureFailure !== undefined) io.stderr.write(`udpkit: ${captureFailure}\n`);
  return captureFailure !== undefined || traceFailure !== undefined ? EXIT_FAILURE : code;
}
