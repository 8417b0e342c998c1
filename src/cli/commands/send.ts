/** `udpkit send HOST [MESSAGE...]`: the textbook sender, plus stdin, hex, files and replies. */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatHostPort, UsageError } from '../../errors.js';
import { formatTextLine } from '../../format/datagram.js';
import type { Sender } from '../../transport/sender.js';
import { isMulticastAddress } from '../../socket/multicast.js';
import { ipFamily, parseHostPort, validateInteger, validatePort, validateSeconds } from '../../validate.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_UNCONFIRMED, type CliIo } from '../io.js';
import { keyFrom } from '../key-option.js';
import { openSendSender } from './send-sender.js';
import type { SendOptions } from './send.options.js';
import { loadSource, planSource, readLineBatches, readLineSpans, type MessageSource, type SizeLimit } from '../message-source.js';
import { quantity } from '../../format/quantity.js';

/**
 * Sends every stdin line as one datagram. A batch of lines goes to the kernel straight from the
 * buffer it was read into (no object per line: see line-batches.ts), and is sent before the next
 * is read into that buffer; with `--interval`, one line at a time.
 */
async function sendLines(sender: Sender, io: CliIo, intervalMs: number): Promise<void> {
  let first = true;
  for await (const spans of readLineSpans(io.stdin, { limit: sizeLimit(sender), signal: io.signal })) {
    if (io.signal.aborted) return;
    if (intervalMs === 0) {
      await sender.writeSpans(spans);
      continue;
    }
    for (let i = 0; i < spans.count && !io.signal.aborted; i++) {
      if (!first) await sleep(intervalMs);
      first = false;
      sender.write(spans.bytes.subarray(spans.starts[i], spans.ends[i]));
    }
    await sender.flush();
  }
}

/** What one datagram to this sender's destination may carry, for the readers of stdin and files. */
function sizeLimit(sender: Sender): SizeLimit {
  return { bytes: sender.maxMessageSize, tooLarge: (size) => sender.tooLarge(size) };
}

/** `send --ack`: every message acknowledged, or exit 3 saying how many were not. */
async function sendWithAck(sender: Sender, source: MessageSource, count: number, where: string, opts: SendOptions, io: CliIo): Promise<number> {
  const window = validateInteger(opts.window ?? '64', { name: '--window', min: 1, max: 65_536 });
  const ackTimeoutMs = validateSeconds(opts.ackTimeout ?? '10', { name: '--ack-timeout', min: 0.001 });
  const { sendReliably } = await import('../../transport/reliable-send.js');
  const batches = source.kind === 'lines' ? readLineBatches(io.stdin, { limit: sizeLimit(sender), signal: io.signal }) : [Array.from({ length: count }, () => source.data)];
  let result;
  try {
    result = await sendReliably(sender, batches, { window, ackTimeoutMs, signal: io.signal });
  } finally {
    await sender.close();
  }
  const { sent, confirmed, unconfirmed, failure, retransmissions } = result;
  if (unconfirmed === 0) {
    if (opts.quiet !== true) {
      io.stderr.write(`sent ${quantity(sent, 'message')} to ${where}/udp, all confirmed (${quantity(retransmissions, 'retransmission')})\n`);
    }
    return EXIT_OK;
  }
  const why =
    failure === 'refused'
      ? `no listener at ${where}/udp (port unreachable)`
      : failure === 'aborted'
        ? `stopped before ${where}/udp acknowledged everything`
        : `no acknowledgement from ${where}/udp for ${ackTimeoutMs / 1000} s`;
  io.stderr.write(`udpkit: ${why}; ${unconfirmed} of ${quantity(sent, 'message')} unconfirmed (${confirmed} confirmed)\n`);
  return EXIT_UNCONFIRMED;
}

/** Runs `udpkit send`. */
export async function run(args: readonly string[], opts: SendOptions, io: CliIo): Promise<number> {
  if (opts.tcp === true) return (await import('./send-tcp.js')).run(args, opts, io);
  if (opts.replay !== undefined) return (await import('./send-replay.js')).run(args, opts, io);
  const [target, ...words] = args;
  const defaultPort = validatePort(opts.port, { name: '--port' });
  const { host, port } = parseHostPort(target, defaultPort);
  // Known only once HOST is parsed, so checked here rather than in send.options.ts's rules.
  const multicastFlag = opts.ttl !== undefined ? '--ttl' : opts.iface !== undefined ? '--iface' : opts.loop !== undefined ? (opts.loop ? '--loop' : '--no-loop') : undefined;
  if (multicastFlag !== undefined && ipFamily(host) !== undefined && !isMulticastAddress(host)) {
    throw new UsageError(`${multicastFlag} applies to a multicast destination, and ${host} is not one`);
  }
  const count = validateInteger(opts.count, { name: '--count', min: 1 });
  const intervalMs = validateInteger(opts.interval, { name: '--interval', min: 0, max: 86_400_000 });
  const waitOpt = opts.waitReply;
  const waitMs = waitOpt === undefined ? undefined : waitOpt === true ? 5000 : validateSeconds(waitOpt, { name: '--wait-reply', min: 0.001 });
  const key = await keyFrom(opts, io.env);
  const plan = planSource(words, opts);
  if (plan.kind === 'lines' && count !== 1) throw new UsageError('--count repeats one message; it does not apply to stdin lines');

  const sender = await openSendSender(host, port, opts, key, io);
  const where = formatHostPort(sender.destination.address, port);
  // Read a file or stdin only now: the destination's family and the key set the size limit.
  let source: MessageSource;
  try {
    source = await loadSource(plan, io, sizeLimit(sender));
  } catch (err) {
    await sender.close();
    if (!io.signal.aborted) throw err;
    // Ctrl-C or SIGTERM while reading: nothing was sent, and the summary says so.
    if (opts.quiet !== true) io.stderr.write(`sent 0 datagrams (0 bytes) to ${where}/udp\n`);
    return EXIT_OK;
  }
  if (opts.ack === true) return sendWithAck(sender, source, count, where, opts, io);
  // Listen for the reply before sending: an echo on loopback can beat the send's callback.
  const reply = waitMs === undefined ? undefined : sender.receive(waitMs);
  try {
    if (source.kind === 'lines') await sendLines(sender, io, intervalMs);
    else {
      for (let i = 0; i < count && !io.signal.aborted; i++) {
        if (i > 0 && intervalMs > 0) await sleep(intervalMs);
        if (!sender.write(source.data)) await once(sender, 'drain');
      }
    }
    await sender.flush();
  } catch (err) {
    await sender.close();
    throw err;
  }
  const { datagrams, bytes } = sender.stats;
  const quiet = opts.quiet === true;
  if (!quiet) io.stderr.write(`sent ${quantity(datagrams, 'datagram')} (${quantity(bytes, 'byte')}) to ${where}/udp\n`);
  let code = EXIT_OK;
  let refusalReported = false;
  if (reply) {
    const d = await reply;
    if (d) io.stdout.write(formatTextLine(d) + '\n');
    else if (sender.stats.refused > 0) {
      io.stderr.write(`udpkit: no listener at ${where}/udp (port unreachable)\n`);
      refusalReported = true;
      code = EXIT_FAILURE;
    } else {
      io.stderr.write(`udpkit: no reply from ${where}/udp within ${waitMs! / 1000} s\n`);
      code = EXIT_FAILURE;
    }
  } else if (!quiet && datagrams > 0 && sender.stats.refused === 0) {
    // On loopback the refusal is already there: one turn of the event loop, no timer, shows it.
    await sender.takeRefusal();
  }
  await sender.close();
  if (sender.stats.refused > 0 && !quiet && !refusalReported) {
    io.stderr.write(`note: ${where} answered "port unreachable": nothing seems to listen there (UDP does not guarantee delivery)\n`);
  }
  return code;
}
