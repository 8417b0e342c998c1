/** `udpkit listen`: the textbook receiver, done right. */
import { formatHostPort, UsageError } from '../../errors.js';
import { parseCidrList } from '../../net/address-filter.js';
import { listen, type BoundAddress, type Listener } from '../../transport/listener.js';
import type { ListenOptions } from '../../transport/listener.js';
import { validateGroups, validateSource } from '../../socket/multicast.js';
import type { DatagramBatch } from '../../socket/batch.js';
import { echoRefusalNote, formatEcho, formatRefused } from '../../format/listen-counts.js';
import { ipFamily, validateInteger, validatePort, validateSeconds } from '../../validate.js';
import { DatagramSink, logWriteFailure, openLog } from '../datagram-sink.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from '../io.js';
import { keyFrom } from '../key-option.js';
import type { Opts } from '../main.js';
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

function parse(opts: Opts) {
  const bind = (opts['bind'] as string | undefined)?.replace(/^\[|\]$/g, '');
  if (bind !== undefined && ipFamily(bind) === undefined) {
    throw new UsageError(`--bind takes an IP address of this machine, got ${JSON.stringify(opts['bind'])}`);
  }
  return {
    port: validatePort(opts['port'], { allowZero: true, name: '--port' }),
    bind,
    family: (opts['ipv4'] ? 4 : opts['ipv6'] ? 6 : 0) as 0 | 4 | 6,
    stopWord: typeof opts['stopWord'] === 'string' ? opts['stopWord'] : undefined,
    count: opts['count'] === undefined ? undefined : validateInteger(opts['count'], { name: '--count', min: 1 }),
    timeoutMs: opts['timeout'] === undefined ? undefined : validateSeconds(opts['timeout'], { name: '--timeout', min: 0.001 }),
    mode: opts['json'] === true ? 'json' : opts['hex'] === true ? 'hex' : 'text',
    echo: opts['echo'] === true,
    allow: opts['allow'] === undefined ? undefined : parseCidrList(opts['allow'] as string[]),
    rcvbuf: opts['rcvbuf'] === undefined ? undefined : validateInteger(opts['rcvbuf'], { name: '--rcvbuf', min: 1024, max: 2 ** 31 - 1 }),
    log: opts['log'] as string | undefined,
    lingerMs: validateSeconds(opts['linger'] ?? '2', { name: '--linger' }),
  } as const;
}

/** `--join`, `--iface`, `--source`, `--reuse`, checked here so mistakes are usage errors (exit 2). */
function multicastOptions(opts: Opts): Pick<ListenOptions, 'join' | 'iface' | 'source' | 'reuseAddress'> {
  const join = opts['join'] as string[] | undefined;
  const iface = opts['iface'] as string | undefined;
  const source = opts['source'] as string | undefined;
  if (join === undefined) {
    if (iface !== undefined || source !== undefined) throw new UsageError(`${iface !== undefined ? '--iface' : '--source'} applies to multicast: give --join GROUP too`);
  } else {
    const { family } = validateGroups(join, '--join');
    if (source !== undefined) validateSource(source, family, '--source');
    if ((opts['ipv4'] === true && family === 6) || (opts['ipv6'] === true && family === 4)) {
      throw new UsageError(`--join: IPv${family} groups do not go with ${family === 6 ? '-4' : '-6'}`);
    }
  }
  return {
    ...(join !== undefined ? { join } : {}),
    ...(iface !== undefined ? { iface } : {}),
    ...(source !== undefined ? { source } : {}),
    ...(opts['reuse'] === true ? { reuseAddress: true } : {}),
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
  return line;
}

/** Runs `udpkit listen`. */
export async function run(_args: readonly string[], opts: Opts, io: CliIo): Promise<number> {
  // The TCP-only limits go there too, to be refused without --tcp rather than ignored.
  if (opts['tcp'] === true || opts['maxConnections'] !== undefined || opts['maxBuffered'] !== undefined || opts['idleTimeout'] !== undefined) return (await import('./listen-tcp.js')).run(_args, opts, io);
  const o = parse(opts);
  const key = await keyFrom(opts, io.env);
  const log = o.log === undefined ? undefined : openLog(o.log);
  const listener = await listen({
    port: o.port,
    family: o.family,
    ...(o.bind !== undefined ? { address: o.bind } : {}),
    ...(o.allow !== undefined ? { allow: o.allow } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(o.rcvbuf !== undefined ? { receiveBufferSize: o.rcvbuf } : {}),
    ...multicastOptions(opts),
  }).catch((err: unknown) => {
    log?.stream.destroy();
    throw err;
  });
  let logFailure: string | undefined;
  const sink = new DatagramSink(io.stdout, o.mode, listener, log, (err) => {
    logFailure ??= logWriteFailure(log!.path, err);
    finish(EXIT_FAILURE);
  });
  const isStop = o.stopWord === undefined ? undefined : stopWordMatcher(o.stopWord);
  const stopHint = o.stopWord === undefined ? '' : `; stops on "${o.stopWord}"`;
  const keyHint = key === undefined ? '' : '; sealed datagrams only (--key)';
  io.stderr.write(`listening on ${describeBound(listener.address())}${stopHint}${keyHint}\n`);

  let received = 0;
  let lastAt = Date.now();
  let failure: string | undefined;
  let receivedBytes = 0;
  let ended = false;
  let resolveFinished!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (resolveFinished = resolve));
  const finish = (code: number): void => {
    ended = true;
    resolveFinished(code);
  };

  // Returns how many datagrams of the batch it took; the listener counts the rest (after stop).
  const onBatch = (b: DatagramBatch): number => {
    if (ended) return 0;
    // Show the datagrams up to the one that ends the run (stop word or --count), no further.
    let end = b.count;
    let stopping = false;
    if (isStop || o.count !== undefined) {
      for (let i = 0; i < b.count; i++) {
        const start = b.starts[i] as number;
        if ((isStop && isStop(b.data, start, start + (b.lengths[i] as number))) || (o.count !== undefined && received + i + 1 >= o.count)) {
          end = i + 1;
          stopping = true;
          break;
        }
      }
    }
    received += end;
    for (let i = 0; i < end; i++) receivedBytes += b.lengths[i] as number;
    lastAt = b.receivedAt;
    sink.writeBatch(b, 0, end);
    // Only what was shown is echoed; the library's guard keeps echoes from looping.
    if (o.echo) listener.echo(b, 0, end);
    if (stopping) finish(EXIT_OK);
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
  listener.on('error', (err: Error) => {
    failure = `receiving on port ${listener.address().port}/udp failed: ${err.message}`;
    finish(EXIT_FAILURE);
  });

  let idle: NodeJS.Timeout | undefined;
  if (o.timeoutMs !== undefined) {
    const limit = o.timeoutMs;
    // One timer, re-armed for the remaining time, instead of a reset per datagram.
    const check = (): void => {
      const quiet = Date.now() - lastAt;
      if (quiet < limit) {
        idle = setTimeout(check, limit - quiet);
        return;
      }
      if (o.count !== undefined && received < o.count) {
        failure = `no datagram for ${limit / 1000} s; received ${received} of ${o.count}`;
        finish(EXIT_FAILURE);
      } else finish(EXIT_OK);
    };
    idle = setTimeout(check, limit);
  }
  const onAbort = (): void => finish(EXIT_OK);
  io.signal.addEventListener('abort', onAbort, { once: true });

  const code = await finished;
  listener.onBatch(undefined);
  // Senders using --ack whose last acknowledgement was lost resend it; answer them a while.
  // Whatever arrives from now on is counted, not shown.
  if (listener.stopAccepting() && o.lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, o.lingerMs));
  clearTimeout(idle);
  io.signal.removeEventListener('abort', onAbort);
  await listener.drainQueued();
  await listener.echoSettled();
  const line = await summary({ received, receivedBytes }, listener, sink, { refused: o.allow !== undefined || key !== undefined, echo: o.echo });
  await listener.close();
  await sink.end();
  io.stderr.write(line + '\n');
  if (failure !== undefined) io.stderr.write(`udpkit: ${failure}\n`);
  // The log may fail only while its last lines are flushed, after the run ended well.
  if (logFailure !== undefined) io.stderr.write(`udpkit: ${logFailure}\n`);
  return logFailure !== undefined ? EXIT_FAILURE : code;
}
