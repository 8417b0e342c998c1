/**
 * Where the bytes to send come from: the words on the command line, `--hex`, `--file`, all of
 * stdin (`--raw`), or stdin split into lines. Shared by `send` and `broadcast`.
 *
 * A datagram has a size limit, and a file or stdin may have none (`/dev/zero`, a pipe that never
 * ends): reads stop one byte past the limit, so a message too large costs one datagram's worth of
 * memory and is refused at once, and an abort (SIGTERM) ends a read that waits.
 */
import type { Readable } from 'node:stream';
import { UdpkitError, describeErrno, errnoOf, UsageError } from '../errors.js';
import { parseHex } from '../validate.js';
import type { SizeLimit } from './line-batches.js';

// Where the lines come from; kept importable from here, with the other sources.
export { readLineBatches, readLineSpans, type LineOptions, type SizeLimit } from './line-batches.js';

/** Either a fixed list of datagrams or a stream of lines. */
export type MessageSource =
  | { readonly kind: 'fixed'; readonly data: Buffer }
  | { readonly kind: 'lines' };

/** The flags that choose where a message comes from. */
export interface SourceFlags {
  readonly hex?: string;
  readonly file?: string;
  readonly raw?: boolean;
}

/** What is to be read, once the flags are checked: a fixed message needs no reading. */
export type SourcePlan = MessageSource | { readonly kind: 'file'; readonly path: string } | { readonly kind: 'raw' };

/** Where a source is read from; `signal` ends a read that waits. */
export interface SourceInput {
  readonly stdin: Readable;
  readonly signal?: AbortSignal;
}

/**
 * Checks the message words and the `--hex`, `--file`, `--raw` flags (usage errors, before any
 * socket is opened) and says what to read.
 */
export function planSource(words: readonly string[], opts: SourceFlags): SourcePlan {
  const fromStdin = words.length === 0 || (words.length === 1 && words[0] === '-');
  const chosen = [!fromStdin && 'MESSAGE', opts.hex !== undefined && '--hex', opts.file !== undefined && '--file', opts.raw === true && '--raw'].filter(
    (x): x is string => typeof x === 'string',
  );
  if (chosen.length > 1) throw new UsageError(`give only one of ${chosen.join(', ')}`);
  if (opts.hex !== undefined) return { kind: 'fixed', data: parseHex(opts.hex) };
  if (opts.file !== undefined) return { kind: 'file', path: opts.file };
  if (opts.raw === true) return { kind: 'raw' };
  if (!fromStdin) return { kind: 'fixed', data: Buffer.from(words.join(' ')) };
  return { kind: 'lines' };
}

/**
 * Reads what `plan` names, at most `limit.bytes` (no limit when not given). Rejects with
 * `limit.tooLarge(...)` past it, and with the signal's reason when aborted meanwhile.
 */
export async function loadSource(plan: SourcePlan, from: SourceInput, limit?: SizeLimit): Promise<MessageSource> {
  if (plan.kind === 'file') return { kind: 'fixed', data: await readFileAtMost(plan.path, limit, from.signal) };
  if (plan.kind === 'raw') return { kind: 'fixed', data: await readStdinAtMost(from.stdin, limit, from.signal) };
  if (plan.kind === 'fixed' && limit && plan.data.length > limit.bytes) throw limit.tooLarge(plan.data.length);
  return plan;
}

/** {@link planSource} then {@link loadSource}. `from.stdin` is read (and so created) only when the source is stdin. */
export async function messageSource(words: readonly string[], opts: SourceFlags, from: SourceInput, limit?: SizeLimit): Promise<MessageSource> {
  return loadSource(planSource(words, opts), from, limit);
}

function readFailure(what: string, syscall: string, err: unknown): UdpkitError {
  return new UdpkitError('UDPKIT_IO_FAILED', `cannot read ${what}: ${describeErrno(errnoOf(err))}`, { syscall, errno: errnoOf(err), cause: err });
}

/** A regular file's size is known before reading; a device or a pipe is read up to the limit. */
async function readFileAtMost(path: string, limit: SizeLimit | undefined, signal?: AbortSignal): Promise<Buffer> {
  signal?.throwIfAborted();
  const what = `file ${JSON.stringify(path)}`;
  // Loaded here, not up front: node:fs/promises costs a millisecond of every start-up.
  const { open } = await import('node:fs/promises');
  const file = await open(path, 'r').catch((err: unknown) => {
    throw readFailure(what, 'open', err);
  });
  try {
    const size = await file.stat().then(
      (s) => (s.isFile() ? s.size : undefined),
      () => undefined,
    );
    if (limit && size !== undefined && size > limit.bytes) throw limit.tooLarge(size);
    // One byte past the limit is enough to know the message is too large.
    const buf = Buffer.allocUnsafe(limit ? limit.bytes + 1 : (size ?? 65_536) + 1);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await file.read(buf, 0, limit ? Math.min(buf.length, limit.bytes + 1 - total) : buf.length, null).catch((err: unknown) => {
        throw readFailure(what, 'read', err);
      });
      if (bytesRead === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
      total += bytesRead;
      if (limit && total > limit.bytes) throw limit.tooLarge(undefined);
    }
    return Buffer.concat(chunks, total);
  } finally {
    await file.close().catch(() => undefined);
  }
}

/** All of stdin, unless it runs past the limit or the signal aborts first. */
function readStdinAtMost(input: Readable, limit: SizeLimit | undefined, signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const settle = (err: unknown): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      // Whatever is left unread stays in the pipe: the process ends without it.
      input.pause();
      if (err === undefined) resolve(Buffer.concat(chunks, total));
      else reject(err);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (limit && total > limit.bytes) settle(limit.tooLarge(undefined));
    };
    const onEnd = (): void => settle(undefined);
    const onError = (err: unknown): void => settle(readFailure('standard input', 'read', err));
    const onAbort = (): void => settle(signal!.reason);
    if (signal?.aborted) return reject(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
  });
}
