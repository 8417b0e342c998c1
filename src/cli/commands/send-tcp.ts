/**
 * `udpkit send --tcp HOST [MESSAGE...]`: connect, send the message (or each stdin line), close.
 * Unlike UDP, nobody listening is an error the user sees: exit 1, "connection refused".
 */
import { formatHostPort } from '../../errors.js';
import { connectTcp } from '../../socket/tcp-sender.js';
import { parseHostPort, validateInteger, validatePort } from '../../validate.js';
import { EXIT_OK, UsageError, type CliIo } from '../io.js';
import { keyFrom } from '../key-option.js';
import type { Opts } from '../main.js';
import { messageSource, readLineBatches, type MessageSource } from '../message-source.js';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Runs `udpkit send --tcp`. */
export async function run(args: readonly string[], opts: Opts, io: CliIo): Promise<number> {
  const [target, ...words] = args;
  const defaultPort = validatePort(opts['port'], { name: '--port' });
  const { host, port } = parseHostPort(target, defaultPort);
  const count = validateInteger(opts['count'], { name: '--count', min: 1 });
  for (const flag of ['ack', 'waitReply', 'broadcast', 'source'] as const) {
    if (opts[flag] !== undefined && opts[flag] !== false) throw new UsageError(`--${flag.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} does not apply to --tcp`);
  }
  const key = await keyFrom(opts, io.env);
  let source: MessageSource;
  try {
    source = await messageSource(words, opts, io);
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
      for await (const batch of readLineBatches(io.stdin, { signal: io.signal })) {
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
  if (opts['quiet'] !== true) {
    io.stderr.write(`sent ${plural(messages, 'message')} (${plural(bytes, 'byte')}) to ${formatHostPort(sender.remoteAddress, port)}/tcp\n`);
  }
  return EXIT_OK;
}
