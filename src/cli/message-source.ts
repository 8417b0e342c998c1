/**
 * Where the bytes to send come from: the words on the command line, `--hex`, `--file`, all of
 * stdin (`--raw`), or stdin split into lines. Shared by `send` and `broadcast`.
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { UdpkitError, describeErrno, errnoOf } from '../errors.js';
import { parseHex } from '../validate.js';
import { UsageError } from './io.js';
import type { Opts } from './main.js';

/** Either a fixed list of datagrams or a stream of lines. */
export type MessageSource =
  | { readonly kind: 'fixed'; readonly data: Buffer }
  | { readonly kind: 'lines' };

/** Picks the source from the message words and the `--hex`, `--file`, `--raw` flags. */
/** `from.stdin` is read (and so created) only when the source is stdin. */
export async function messageSource(words: readonly string[], opts: Opts, from: { readonly stdin: Readable }): Promise<MessageSource> {
  const fromStdin = words.length === 0 || (words.length === 1 && words[0] === '-');
  const chosen = [!fromStdin && 'MESSAGE', opts['hex'] !== undefined && '--hex', opts['file'] !== undefined && '--file', opts['raw'] === true && '--raw'].filter(
    (x): x is string => typeof x === 'string',
  );
  if (chosen.length > 1) throw new UsageError(`give only one of ${chosen.join(', ')}`);
  if (typeof opts['hex'] === 'string') return { kind: 'fixed', data: parseHex(opts['hex']) };
  if (typeof opts['file'] === 'string') {
    const path = opts['file'];
    try {
      return { kind: 'fixed', data: await readFile(path) };
    } catch (err) {
      throw new UdpkitError('UDPKIT_IO_FAILED', `cannot read file ${JSON.stringify(path)}: ${describeErrno(errnoOf(err))}`, {
        syscall: 'open',
        errno: errnoOf(err),
        cause: err,
      });
    }
  }
  if (opts['raw'] === true) {
    const chunks: Buffer[] = [];
    for await (const chunk of from.stdin) chunks.push(chunk as Buffer);
    return { kind: 'fixed', data: Buffer.concat(chunks) };
  }
  if (!fromStdin) return { kind: 'fixed', data: Buffer.from(words.join(' ')) };
  return { kind: 'lines' };
}

/**
 * Splits a byte stream into lines without decoding it, one batch of lines per chunk read (an
 * await per chunk, not per line). Each line has its `\n` (and a `\r` before it) removed; a last
 * line without a newline is yielded too.
 */
export async function* readLineBatches(input: Readable): AsyncGenerator<Buffer[]> {
  let rest: Buffer | undefined;
  for await (const chunk of input) {
    const buf: Buffer = rest ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    const lines: Buffer[] = [];
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf(0x0a, start)) !== -1) {
      lines.push(buf.subarray(start, nl > start && buf[nl - 1] === 0x0d ? nl - 1 : nl));
      start = nl + 1;
    }
    rest = start < buf.length ? buf.subarray(start) : undefined;
    if (lines.length > 0) yield lines;
  }
  if (rest) yield [rest[rest.length - 1] === 0x0d ? rest.subarray(0, -1) : rest];
}
