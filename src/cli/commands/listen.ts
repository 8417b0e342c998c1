/** `udpkit listen`: the textbook receiver, done right. */
import { describeErrno, errnoOf, formatHostPort, UsageError } from '../../errors.js';
import { listen, type BoundAddress, type Listener } from '../../transport/listener.js';
import type { ListenOptions } from '../../transport/listener.js';
import { validateGroups, validateSource } from '../../socket/multicast.js';
import type { DatagramBatch } from '../../socket/batch.js';
import { echoRefusalNote, formatEcho, formatRefused } from '../../format/listen-counts.js';
import { validateInteger, validatePort, validateSeconds } from '../../validate.js';
import { DatagramSink, logWriteFailure, openLog } from '../datagram-sink.js';
import { CaptureWriter } from '../../transport/capture-writer.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from '../io.js';
import { keyFrom } from '../key-option.js';
import { ListenRun } from '../listen-run.js';
import { parseCommon } from '../listen-flags.js';
import type { ListenOptions as ListenFlags } from './listen.options.js';
import type { EchoRefusal } from '../../protocol/echo-guard.js';
import type { Endpoint } from '../../types.js';
import { stopWordMatcher } from '../stop-word.js';
import { quantity } from '../../format/quantity.js';

function describeBound(a: BoundAddress): string {
  if (a.dualStack) return `*:${a.port}/udp (IPv4 and IPv6)`;
  if (a.address === '0.0.0.0') return `0.0.0.0:${a.port}/udp (IPv4)`;
  if (a.address === '::') return `[::]:${a.port}/udp (IPv6)`;
  return `${formatHostPort(a.address, a.port)}/udp`;
}

function parse(opts: ListenFlags) {
  return {
    ...parseCommon(opts),
    family: (opts.ipv4 ? 4 : opts.ipv6 ? 6 : 0) as 0 | 4 | 6,
    mode: opts.json === true ? 'json' : opts.hex === true ? 'hex' : 'text',
    echo: opts.echo === true,
    rcvbuf: opts.rcvbuf === undefined ? undefined : validateInteger(opts.rcvbuf, { name: '--rcvbuf', min: 1024, max: 2 ** 31 - 1 }),
    lingerMs: validateSeconds(opts.linger ?? '2', { name: '--linger' }),
    pcap: opts.pcap,
    pcapFormat: opts.pcapFormat ?? 'pcapng',
  } as const;
}

/**
 * `--join`, `--iface`, `--source`, `--reuse`, checked here so mistakes are usage errors (exit 2);
 * `--iface` and `--source` without `--join` are refused by listen.options.ts's rules.
 */
function multicastOptions(opts: ListenFlags): Pick<ListenOptions, 'join' | 'iface' | 'source' | 'reuseAddress'> {
  const { join, iface, source } = opts;
  if (join !== undefined) {
    const { family } = validateGroups(join, '--join');
    if (source !== undefined) validateSource(source, family, '--source');
    if ((opts.ipv4 === true && family === 6) || (opts.ipv6 === true && family === 4)) {
      throw new UsageError(`--join: IPv${family} groups do not go with ${family === 6 ? '-4' : '-6'}`);
    }
  }
  return {
    ...(join !== undefined ? { join } : {}),
    ...(iface !== undefined ? { iface } : {}),
    ...(source !== undefined ? { source } : {}),
    ...(opts.reuse === true ? { reuseAddress: true } : {}),
  };
}

/**
 * The line printed on exit: what was shown, and what was lost or refused on the way, so that
 * shown + refused + kernel dropped is every datagram that reached the port; then what --echo did.
 */
async function summary(
  counts: { received: number; receivedBytes: number },
  listener: Listener,
  sink: DatagramSink,
  show: { refused: boolean; echo: boolean },
): Promise<string> {
  const drops = await listener.kernelDrops();
  const { refused, refusedBy, sessionsEvicted, echo } = listener.stats;
  let line = `received ${quantity(counts.received, 'datagram')}, ${quantity(counts.receivedBytes, 'byte')}; kernel dropped ${drops ?? 'n/a'}`;
  if (show.refused || refused > 0) line += `; ${formatRefused(refused, refusedBy)}`;
  if (sessionsEvicted > 0) line += `; ${quantity(sessionsEvicted, '--ack session')} evicted`;
  if (show.echo) line += `; ${formatEcho(echo)}`;
  if (sink.dropped > 0) line += `; dropped ${sink.dropped} while output was blocked`;
  if (sink.captureDropped > 0) line += `; ${quantity(sink.captureDropped, 'datagram')} shown but not in the capture`;
  return line;
}

/** Runs `udpkit listen`; with `--tcp`, listen-tcp.ts does. */
export async function run(args: readonly string[], opts: ListenFlags, io: CliIo): Promise<number> {
  if (opts.tcp === true) return (await import('./listen-tcp.js')).run(args, opts, io);
  const o = parse(opts);
  const key = await keyFrom(opts, io.env);
  if (o.pcap === '-' && io.stdout.isTTY === true) throw new UsageError('--pcap -: standard output is a terminal; pipe it (| tcpdump -nn -r -) or give a file');
  const log = o.log === undefined ? undefined : openLog(o.log);
  // Opened (created) now, so that a bad path fails before anything is received.
  const onCaptureError = (err: Error): void => r.failLog(`cannot write to --pcap ${o.pcap}: ${describeErrno(errnoOf(err))}`);
  const capture =
    o.pcap === undefined
      ? undefined
      : o.pcap === '-'
        ? new CaptureWriter(io.stdout, { format: o.pcapFormat })
        : CaptureWriter.open(o.pcap, { format: o.pcapFormat, onError: onCaptureError });
  const listener = await listen({
    port: o.port,
    family: o.family,
    ...(o.bind !== undefined ? { address: o.bind } : {}),
    ...(o.allow !== undefined ? { allow: o.allow } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(o.rcvbuf !== undefined ? { receiveBufferSize: o.rcvbuf } : {}),
    ...multicastOptions(opts),
  }).catch(async (err: unknown) => {
    log?.stream.destroy();
    await capture?.end();
    throw err;
  });
  const bound = listener.address();
  const sink = new DatagramSink(
    o.pcap === '-' ? io.stderr : io.stdout,
    o.mode,
    listener,
    log,
    (err) => r.failLog(logWriteFailure(log!.path, err)),
    capture && { writer: capture, local: { address: bound.address, port: bound.port } },
  );
  const isStop = o.stopWord === undefined ? undefined : stopWordMatcher(o.stopWord);
  const stopHint = o.stopWord === undefined ? '' : `; stops on "${o.stopWord}"`;
  const keyHint = key === undefined ? '' : '; sealed datagrams only (--key)';
  io.stderr.write(`listening on ${describeBound(listener.address())}${stopHint}${keyHint}\n`);
  const r = new ListenRun(io, { count: o.count, timeoutMs: o.timeoutMs, noun: 'datagram' });

  // Returns how many datagrams of the batch it took; the listener counts the rest (after stop).
  const onBatch = (b: DatagramBatch): number => {
    if (r.ended) return 0;
    // Show the datagrams up to the one that ends the run (stop word or --count), no further.
    let end = b.count;
    let stopping = false;
    if (isStop || o.count !== undefined) {
      for (let i = 0; i < b.count; i++) {
        const start = b.starts[i] as number;
        if ((isStop && isStop(b.data, start, start + (b.lengths[i] as number))) || r.reachesCount(i + 1)) {
          end = i + 1;
          stopping = true;
          break;
        }
      }
    }
    r.shown += end;
    for (let i = 0; i < end; i++) r.shownBytes += b.lengths[i] as number;
    r.activity(b.receivedAt);
    sink.writeBatch(b, 0, end);
    // Only what was shown is echoed; the library's guard keeps echoes from looping.
    if (o.echo) listener.echo(b, 0, end);
    if (stopping) r.finish(EXIT_OK);
    return end;
  };
  listener.onBatch(onBatch);
  if (o.echo) {
    const noted = new Set<string>();
    listener.on('echoRefused', (reason: EchoRefusal, from: Endpoint) => {
      if (noted.has(reason)) return;
      noted.add(reason);
      io.stderr.write(`note: ${echoRefusalNote(reason, from)}\n`);
    });
  }
  listener.on('error', (err: Error) => r.fail(`receiving on port ${listener.address().port}/udp failed: ${err.message}`));

  const code = await r.wait();
  listener.onBatch(undefined);
  // Senders using --ack whose last acknowledgement was lost resend it; answer them a while.
  // Whatever arrives from now on is counted, not shown.
  if (listener.stopAccepting() && o.lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, o.lingerMs));
  await listener.drainQueued();
  await listener.echoSettled();
  const line = await summary({ received: r.shown, receivedBytes: r.shownBytes }, listener, sink, { refused: o.allow !== undefined || key !== undefined, echo: o.echo });
  await listener.close();
  await sink.end();
  return r.report(code, line);
}
