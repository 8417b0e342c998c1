/**
 * Fetches one offered folder over TCP for `udpkit chat` (./chat-files.ts): the GETDIRFILES stream
 * (./../protocol/ipmsg-dir-stream.ts) is built into a fresh `NAME.part` folder, renamed when the
 * stream ends. Every name in it must be one safe path component (./../protocol/ipmsg-names.ts),
 * else the transfer stops: a sender that writes `..` is not describing a folder of its own.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { DirStreamDecoder } from '../protocol/ipmsg-dir-stream.js';
import { isSafeFileName } from '../protocol/ipmsg-names.js';
import { connectTo, exists, FetchFailed, type FetchJob } from './chat-file-fetch.js';

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
    if (signal?.aborted) return abort();
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
