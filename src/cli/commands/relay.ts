/**
 * `udpkit relay`: a UDP proxy that misbehaves on purpose (loss, duplicates, reordering, delay,
 * jitter, a rate limit) between clients and one upstream server, both ways, until Ctrl-C.
 */
import { describeErrno, errnoOf, formatHostPort, UsageError } from '../../errors.js';
import { CaptureWriter } from '../../transport/capture-writer.js';
import { describeImpairment, formatRelayStats, relayStatsJson } from '../../format/relay.js';
import { validateMilliseconds, validateProbability, type ImpairmentOptions } from '../../protocol/impairment-options.js';
import { relay, type RelayOptions } from '../../transport/relay.js';
import { parseHostPort, validateByteSize, validateInteger, validatePort, validateSeconds } from '../../validate.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from '../io.js';
import { keyFrom } from '../key-option.js';
import { localAddress } from '../local-address.js';
import type { RelayCliOptions } from './relay.options.js';

/** `--burst` without `--rate` is refused by the declaration's rules, before this runs. */
function impairments(opts: RelayCliOptions): ImpairmentOptions {
  const flag = <T>(value: string | undefined, name: string, check: (value: unknown, o: { name: string }) => T): T | undefined =>
    value === undefined ? undefined : check(value, { name });
  const count = (min: number) => (value: unknown, o: { name: string }) => validateInteger(value, { ...o, min, max: 1e9 });
  return {
    loss: flag(opts.loss, '--loss', validateProbability),
    duplicate: flag(opts.dup, '--dup', validateProbability),
    reorder: flag(opts.reorder, '--reorder', validateProbability),
    delayMs: flag(opts.delay, '--delay', validateMilliseconds),
    jitterMs: flag(opts.jitter, '--jitter', validateMilliseconds),
    rate: flag(opts.rate, '--rate', count(0)),
    burst: flag(opts.burst, '--burst', count(1)),
    only: opts.upOnly === true ? 'up' : opts.downOnly === true ? 'down' : undefined,
  };
}

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
  // Opened (created) now, so that a bad path fails before anything is relayed.
  const capture = opts.pcap === undefined ? undefined : CaptureWriter.open(opts.pcap, { format: opts.pcapFormat ?? 'pcapng', onError: onCaptureError });
  const r = await relay({ ...options, ...(key !== undefined ? { key } : {}), ...(capture !== undefined ? { capture } : {}) }).catch(async (err: unknown) => {
    await capture?.end();
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
    if (captureFailure !== undefined) resolve(EXIT_FAILURE);
    r.once('error', (err: Error) => {
      failure = `receiving on port ${a.port}/udp failed: ${err.message}`;
      resolve(EXIT_FAILURE);
    });
    if (io.signal.aborted) resolve(EXIT_OK);
    else io.signal.addEventListener('abort', () => resolve(EXIT_OK), { once: true });
  });
  await r.close();
  await capture?.end();
  if (opts.json === true) io.stdout.write(relayStatsJson(r.stats, r.seed) + '\n');
  else io.stderr.write(formatRelayStats(r.stats) + '\n');
  if (capture !== undefined && capture.dropped > 0) io.stderr.write(`note: ${capture.dropped} forwarded datagrams are not in the capture (it fell behind, failed, or they crossed IPv4/IPv6)\n`);
  if (failure !== undefined) io.stderr.write(`udpkit: ${failure}\n`);
  if (captureFailure !== undefined) io.stderr.write(`udpkit: ${captureFailure}\n`);
  return captureFailure !== undefined ? EXIT_FAILURE : code;
}
