/**
 * Fetches one offered file or folder over TCP for `udpkit chat` (./chat-files.ts). A file is
 * written to `NAME.part` and renamed when whole; a `NAME.part` already there is continued from its
 * size (GETFILEDATA carries the offset), so a cut connection costs only a new `/get`. A folder is
 * built in a fresh `NAME.part` folder from the GETDIRFILES stream; every name in it must be one
 * safe path component (./../protocol/ipmsg-names.ts) or the transfer stops.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { constants, writeSync } from 'node:fs';
import { lstat, mkdir, open, rename, rm, utimes } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { DirStreamDecoder } from '../protocol/ipmsg-dir-stream.js';
import { isSafeFileName, numberedName } from '../protocol/ipmsg-names.js';

/** Where one fetch goes and how it reports. */
export interface FetchJob {
  readonly address: string;
  readonly port: number;
  /** The request packet to send once connected. */
  readonly request: (offset: number) => Buffer;
  readonly signal?: AbortSignal;
  /** Reads a name in a folder stream: UTF-8, or the peer's legacy encoding. */
  readonly decodeName?: (bytes: Buffer) => string;
  /** Bytes written so far (resumed bytes included), for progress. */
  readonly onBytes: (total: number) => void;
}

/** Why a fetch stopped. */
export class FetchFailed extends Error {
  /** Bytes on disk when it stopped. */
  constructor(
    message: string,
    readonly bytes: number,
    readonly unsafeName = false,
  ) {
    super(message);
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The name to write `name` under in `dir`: itself, or `name (1)`, `name (2)`... when taken,
 * unless `overwrite`. For a folder, a stale `.part` of a candidate also makes it taken (it is not
 * ours to remove); for a file, a `.part` is what we continue.
 */
export async function chooseName(dir: string, name: string, kind: 'file' | 'dir', overwrite: boolean): Promise<string> {
  for (let n = 0; n < 1000; n++) {
    const c = numberedName(name, n);
    if (!overwrite && (await exists(join(dir, c)))) continue;
    if (kind === 'dir' && (await exists(join(dir, `${c}.part`)))) continue;
    return c;
  }
  throw new FetchFailed(`no free name for ${name} in ${dir}`, 0);
}

function connectTo(job: FetchJob): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: job.address, port: job.port });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** What a consumer says after a chunk: want more, or has all it needs. */
type Take = 'more' | 'stop';

/**
 * Feeds the socket's chunks to `take` in order, pausing the socket while `take` works on one
 * asynchronously (its promise is the backpressure). Resolves when the socket closes or `take`
 * says stop; rejects on a socket error or a throwing `take`.
 */
function drain(s: Socket, take: (chunk: Buffer) => Take | Promise<Take>, signal?: AbortSignal): Promise<void> {
  let abort = (): void => undefined;
  return new Promise<void>((resolve, reject) => {
    let chain = Promise.resolve();
    let stopped = false;
    const stop = (err?: Error): void => {
      if (stopped) return;
      stopped = true;
      s.destroy();
      if (err) reject(err);
      else resolve();
    };
    abort = (): void => stop(new Error('cancelled'));
    signal?.addEventListener('abort', abort, { once: true });
    s.on('data', (chunk: Buffer) => {
      if (stopped) return;
      const r = take(chunk);
      if (r === 'stop') return stop();
      if (r === 'more') return;
      s.pause();
      chain = chain
        .then(() => r)
        .then((next) => {
          if (next === 'stop') stop();
          else s.resume();
        })
        .catch((err: Error) => stop(err));
    });
    s.once('error', (err) => stop(err));
    s.once('close', () => void chain.then(() => stop()));
  }).finally(() => signal?.removeEventListener('abort', abort));
}

/** Waits for `w` to drain when it holds more than 4 MiB. */
function backlog(w: WriteStream | undefined): Take | Promise<Take> {
  if (w === undefined || w.writableLength <= 4 << 20) return 'more';
  return new Promise((resolve) => w.once('drain', () => resolve('more')));
}


/** Bytes read from the socket at once when fetching a file: one system call per MiB, not per 64 KiB. */
const READ_BUFFER = 1 << 20;

/**
 * Fetches a file of `size` bytes into `dir/name`, continuing `dir/name.part` if there is one.
 * Resolves with the bytes on disk; rejects with {@link FetchFailed} (the `.part` stays).
 *
 * The socket reads into one reused 1 MiB buffer (`onread`) and each read is written to the file
 * at once, synchronously: that keeps up with `nc` (a stream with a 64 KiB buffer per read and a
 * write queue reached half of it), at the price of holding the event loop for the time the page
 * cache takes to copy 1 MiB.
 */
export async function fetchFile(job: FetchJob, dir: string, name: string, size: number, mtime: number): Promise<number> {
  const part = join(dir, `${name}.part`);
  const offset = await lstat(part).then((s) => (s.isFile() && s.size <= size ? s.size : 0), () => 0);
  // O_NOFOLLOW: a `.part` that is a symbolic link is not ours to write through.
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | (offset > 0 ? constants.O_APPEND : constants.O_TRUNC);
  const fh = await open(part, flags, 0o644).catch((err: Error) => {
    throw new FetchFailed(`cannot write ${part}: ${err.message}`, 0);
  });
  let got = offset;
  let failure: Error | undefined;
  try {
    if (offset < size) {
      await new Promise<void>((resolve) => {
        const s = connect({
          host: job.address,
          port: job.port,
          onread: {
            buffer: Buffer.allocUnsafe(READ_BUFFER),
            callback: (n: number, buf: Uint8Array): boolean => {
              try {
                const take = Math.min(n, size - got);
                if (take > 0) writeSync(fh.fd, buf, 0, take);
                got += take;
                job.onBytes(got);
              } catch (err) {
                failure = err as Error;
              }
              if (got >= size || failure !== undefined) s.destroy();
              return true;
            },
          },
        });
        const abort = (): void => void s.destroy(new Error('cancelled'));
        job.signal?.addEventListener('abort', abort, { once: true });
        s.once('connect', () => s.write(job.request(offset)));
        s.on('error', (err) => (failure ??= err));
        s.once('close', () => {
          job.signal?.removeEventListener('abort', abort);
          resolve();
        });
      });
    }
  } finally {
    await fh.close();
  }
  if (got < size) throw new FetchFailed(failure ? `after ${got} of ${size} bytes: ${failure.message}` : `connection closed after ${got} of ${size} bytes`, got);
  await rename(part, join(dir, name));
  if (mtime > 0) await utimes(join(dir, name), mtime, mtime).catch(() => undefined);
  return got;
}

/**
 * Fetches a folder into `dir/name` (built in `dir/name.part`, renamed when whole).
 * Resolves with the file bytes and count; rejects with {@link FetchFailed}.
 */
export async function fetchDir(job: FetchJob, dir: string, name: string, overwrite: boolean): Promise<{ bytes: number; files: number }> {
  const part = join(dir, `${name}.part`);
  const decoder = new DirStreamDecoder(job.decodeName);
  const stack: string[] = [];
  const closing: Promise<void>[] = [];
  let current: WriteStream | undefined;
  let bytes = 0;
  let files = 0;
  let ended = false;
  let failure: FetchFailed | undefined;
  const fail = (message: string, unsafeName = false): Take => {
    failure ??= new FetchFailed(message, bytes, unsafeName);
    return 'stop';
  };
  /** Acts on what one chunk completes; folders are made (awaited) before anything goes in them. */
  const consume = async (chunk: Buffer): Promise<Take> => {
    for (const item of decoder.push(chunk)) {
      if (item.type === 'error') return fail(`bad folder stream: ${item.reason}`);
      if ((item.type === 'dir' || item.type === 'file') && stack.length > 0 && !isSafeFileName(item.name)) return fail(`refused the unsafe name ${JSON.stringify(item.name)} in the folder`, true);
      if (item.type === 'dir') {
        const path = stack.length === 0 ? part : join(stack[stack.length - 1] as string, item.name);
        await mkdir(path);
        stack.push(path);
      } else if (item.type === 'file') {
        const parent = stack[stack.length - 1];
        if (parent === undefined) return fail('a file outside the folder');
        const w = createWriteStream(join(parent, item.name), { flags: 'wx', highWaterMark: 1 << 20 });
        closing.push(new Promise((resolve, reject) => (w.once('error', reject), w.once('close', () => resolve()))));
        current = w;
        files++;
      } else if (item.type === 'data') {
        current?.write(item.bytes);
        bytes += item.bytes.length;
        job.onBytes(bytes);
      } else if (item.type === 'file-end') {
        current?.end();
        current = undefined;
      } else if (item.type === 'up') stack.pop();
      else if (item.type === 'end') {
        ended = true;
        return 'stop';
      }
    }
    return backlog(current);
  };
  const s = await connectTo(job).catch((err: Error) => {
    throw new FetchFailed(`cannot connect to ${job.address}:${job.port}/tcp: ${err.message}`, 0);
  });
  s.write(job.request(0));
  await drain(s, consume, job.signal).catch((err: Error) => fail(err.message));
  current?.destroy();
  const bad = (await Promise.allSettled(closing)).find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (bad) fail(String((bad.reason as Error).message ?? bad.reason));
  if (!ended) fail(`connection closed after ${bytes} bytes, before the end of the folder`);
  if (failure !== undefined) throw failure;
  const target = join(dir, name);
  if (overwrite && (await exists(target))) await rm(target, { recursive: true, force: true });
  await rename(part, target);
  return { bytes, files };
}
