/** `udpkit broadcast [MESSAGE...]`: the textbook's "last number 255" remark, done for every local network. */
import { formatHostPort } from '../../errors.js';
import { openBroadcaster, type BroadcastSent } from '../../transport/broadcast.js';
import { maxMessageSize, messageTooLarge } from '../../transport/sender.js';
import { validatePort } from '../../validate.js';
import { EXIT_OK, type CliIo } from '../io.js';
import { LineWriter } from '../line-writer.js';
import { keyFrom } from '../key-option.js';
import type { BroadcastOptions } from './broadcast.options.js';
import { messageSource, readLineBatches, type MessageSource, type SizeLimit } from '../message-source.js';
import { quantity } from '../../format/quantity.js';

/**
 * The line printed for one datagram sent.
 * @example formatSent({ iface: 'eth0', address: '10.0.0.255', port: 5000, bytes: 5 }) // 'sent 5 bytes to 10.0.0.255:5000 (eth0)'
 */
export function formatSent(s: BroadcastSent): string {
  return `sent ${quantity(s.bytes, 'byte')} to ${formatHostPort(s.address, s.port)} (${s.iface})`;
}

/** Runs `udpkit broadcast`. */
export async function run(args: readonly string[], opts: BroadcastOptions, io: CliIo): Promise<number> {
  const port = validatePort(opts.port, { name: '--port' });
  const key = await keyFrom(opts, io.env);
  // Every broadcast goes over IPv4; with a key each datagram also carries the sealing.
  const sealed = key !== undefined;
  const limit: SizeLimit = { bytes: maxMessageSize(4, sealed), tooLarge: (size) => messageTooLarge(4, sealed, size) };
  let source: MessageSource;
  try {
    source = await messageSource(args, {}, io, limit);
  } catch (err) {
    // Ctrl-C or SIGTERM while reading stdin or a file: nothing to send.
    if (io.signal.aborted) return EXIT_OK;
    throw err;
  }
  const broadcaster = await openBroadcaster({
    port,
    ...(key !== undefined ? { key } : {}),
    ...(opts.iface !== undefined ? { iface: opts.iface } : {}),
    limited: opts.address === true,
    signal: io.signal,
  });
  const out = new LineWriter(io.stdout);
  const report = (sent: readonly BroadcastSent[]): void => {
    if (opts.quiet !== true) for (const s of sent) out.line(formatSent(s));
  };
  try {
    if (source.kind === 'fixed') report(await broadcaster.send(source.data));
    else {
      for await (const batch of readLineBatches(io.stdin, { limit, signal: io.signal })) {
        for (const line of batch) {
          if (io.signal.aborted) break;
          report(await broadcaster.send(line));
        }
      }
    }
  } finally {
    await broadcaster.close();
    await out.end();
  }
  return EXIT_OK;
}
