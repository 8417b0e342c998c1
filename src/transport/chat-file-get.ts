/**
 * `/get`: fetches every file and folder of one offer made to us, one after the other, into a
 * folder, reporting progress, success and failure as {@link ChatFiles} events. Names are made
 * safe first (./../protocol/ipmsg-names.ts) and never replace an existing file unless asked.
 */
import { safeFileName } from '../protocol/ipmsg-names.js';
import type { IncomingOffer } from '../protocol/ipmsg-files.js';
import { join } from 'node:path';
import { chooseName, fetchFile, FetchFailed, type FetchJob } from './chat-file-fetch.js';
import { fetchDir } from './chat-file-fetch-dir.js';
import type { ChatFileEvent, ChatFileStats } from './chat-file-types.js';
import { milliseconds as now } from './clock.js';

/** What a fetch reports to and asks of (./chat-files.ts's ChatFiles). */
export interface FetchHost {
  readonly stats: ChatFileStats;
  emit(type: ChatFileEvent['type'], e: ChatFileEvent): boolean;
  /** Reads a name in a folder stream. */
  readonly decodeName: (bytes: Buffer) => string;
  /** The request packet for one file or folder of an offer. */
  request(kind: 'file' | 'dir', packetNo: number, fileId: number, offset: number): Buffer;
}

/** Bytes a second since `t0`. */
export function rate(bytes: number, t0: number): number {
  const s = (now() - t0) / 1000;
  return s > 0 ? Math.round(bytes / s) : 0;
}

/** Progress events at most this often per transfer. */
const PROGRESS_MS = 500;

/** Fetches all of `offer` into `dir`; rejects only on a bug (failures are `failed` events). */
export async function fetchWhole(files: FetchHost, offer: IncomingOffer, dir: string, overwrite: boolean, signal?: AbortSignal): Promise<void> {
  for (const f of offer.files) {
    if (offer.fetched.has(f.id)) continue;
    if (signal?.aborted) return; // the chat is closing
    const safe = safeFileName(f.name);
    if (safe.changed) files.stats.unsafeNames++;
    const t0 = now();
    let last = t0;
    let first: number | undefined;
    const job: FetchJob = {
      address: offer.address,
      port: offer.port,
      request: (offset) => files.request(f.kind, offer.packetNo, f.id, offset),
      decodeName: files.decodeName,
      ...(signal ? { signal } : {}),
      onBytes: (bytes) => {
        first ??= bytes;
        const t = now();
        if (t - last < PROGRESS_MS) return;
        last = t;
        files.emit('progress', { type: 'progress', id: offer.id, name: safe.name, bytes, total: f.kind === 'file' ? f.size : undefined, rate: rate(bytes - first, t0) });
      },
    };
    try {
      const name = await chooseName(dir, safe.name, f.kind, overwrite);
      const got = f.kind === 'file' ? { bytes: await fetchFile(job, dir, name, f.size, f.mtime), files: 1 } : await fetchDir(job, dir, name, overwrite);
      offer.fetched.add(f.id);
      files.stats.received++;
      files.emit('received', { type: 'received', id: offer.id, name: safe.name, path: join(dir, name), kind: f.kind, bytes: got.bytes, files: got.files, seconds: (now() - t0) / 1000 });
    } catch (err) {
      const failed = err instanceof FetchFailed ? err : new FetchFailed((err as Error).message, 0);
      if (failed.unsafeName) files.stats.unsafeNames++;
      files.stats.failed++;
      files.emit('failed', { type: 'failed', id: offer.id, name: safe.name, reason: failed.message, bytes: failed.bytes });
    }
  }
}
