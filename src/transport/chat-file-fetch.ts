/**
 * Fetches one offered file over TCP for `udpkit chat` (./chat-files.ts; folders: ./chat-file-fetch-dir.ts).
 * A file is written to `NAME.part` and renamed when whole; a `NAME.part` already there is
 * continued from its size (GETFILEDATA carries the offset), so a cut connection costs only a new
 * `/get`.
 */
import { constants, writeSync } from 'node:fs';
import { lstat, open, rename, utimes } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { numberedName } from '../protocol/ipmsg-names.js';

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

/** True when something (a link included) is at `path`. */
export async function exists(path: string): Promise<boolean> {
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

/** Connects to the offerer; rejects with the socket error. */
export function connectTo(job: FetchJob): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: job.address, port: job.port });
    s.setTimeout(IDLE_MS, () => s.destroy(new Error(`nothing came for ${IDLE_MS / 1000} s`)));
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** A transfer with no progress for this long is cut (the sender's side has the same). */
export const IDLE_MS = 60_000;

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
        if (job.signal?.aborted) abort();
        job.signal?.addEventListener('abort', abort, { once: true });
        s.once('connect', () => s.write(job.request(offset)));
        s.setTimeout(IDLE_MS, () => s.destroy(new Error(`nothing came for ${IDLE_MS / 1000} s`)));
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
