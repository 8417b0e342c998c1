/**
 * `udpkit send --tcp HOST [MESSAGE...]`: connect, send the message (or each stdin line), close.
 * Unlike UDP, nobody listening is an error the user sees: exit 1, "connection refused".
 */
import { UdpkitRangeError, formatHostPort, UsageError } from '../../errors.js';
import { SEAL_OVERHEAD } from '../../protocol/seal-layout.js';
import { DEFAULT_MAX_LINE_BYTES, MAX_SEALED_FRAME } from '../../transport/tcp-listener.js';
import { connectTcp } from '../../transport/tcp-sender.js';
import { parseHostPort, validateInteger, validatePort } from '../../validate.js';
import { EXIT_OK, type CliIo } from '../io.js';
import { keyFrom } from '../key-option.js';
import type { SendOptions } from './send.options.js';
import { messageSource, readLineBatches, type MessageSource, type SizeLimit } from '../message-source.js';
import { quantity } from '../../format/quantity.js';

/**
 * What one message over TCP may hold: what a udpkit TCP listener takes as one line (longer
 * ones it shows cut), or, sealed, what fits its largest frame. Reading stops there, so
 * `--file /dev/zero` or an endless pipe costs one message's worth of memory.
 */
function tcpLimit(sealed: boolean): SizeLimit {
  const bytes = sealed ? MAX_SEALED_FRAME - SEAL_OVERHEAD : DEFAULT_MAX_LINE_BYTES;
  const what = sealed ? 'one sealed frame over --tcp' : 'one line over --tcp (what a udpkit TCP listener takes whole)';
  return {
    bytes,
    tooLarge: (size) => new UdpkitRangeError('UDPKIT_MESSAGE_TOO_LARGE', `message is ${size === undefined ? `more than ${bytes}` : size} bytes; ${what} carries at most ${bytes}`),
  };
}

/** Runs `udpkit send --tcp`; send.options.ts's rules have refused the flags that TCP cannot honour. */
export async function run(args: readonly string[], opts: SendOptions, io: CliIo): Promise<number> {
  const [target, ...words] = args;
  const defaultPort = validatePort(opts.port, { name: '--port' });
  const { host, port } = parseHostPort(target, defaultPort);
  const count = validateInteger(opts.count, { name: '--count', min: 1 });
  const key = await keyFrom(opts, io.env);
  let source: MessageSource;
  try {
    source = await messageSource(words, opts, io, tcpLimit(key !== undefined));
  } catch (err) {
    // Ctrl-C or SIGTERM while reading stdin or a file: nothing to send.
    if (io.signal.aborted) return EXIT_OK;
    throw err;
  }
  if (source.kind === 'lines' && count !== 1) throw new UsageError('--count repeats one message; it does not apply to stdin lines');
  if (source.kind === 'fixed' && key === undefined && source.data.includes(0x0a)) {
    throw new UsageError('over --tcp without --key a message is one line; it cannot contain a newline');
  }
  const sender = await connectTcp({ host, port, ...(key !== undefined ? { key } : {}), signal: io.signal });
  try {
    if (source.kind === 'lines') {
      for await (const batch of readLineBatches(io.stdin, { signal: io.signal, limit: tcpLimit(key !== undefined) })) {
        for (const line of batch) {
          if (io.signal.aborted) break;
          if (!sender.write(line)) await sender.drained();
        }
      }
    } else {
      for (let i = 0; i < count && !io.signal.aborted; i++) if (!sender.write(source.data)) await sender.drained();
    }
    await sender.end();
  } catch (err) {
    sender.destroy();
    throw err;
  }
  const { messages, bytes } = sender.stats;
  if (opts.quiet !== true) {
    io.stderr.write(`sent ${quantity(messages, 'message')} (${quantity(bytes, 'byte')}) to ${formatHostPort(sender.remoteAddress, port)}/tcp\n`);
  }
  return EXIT_OK;
}
