/**
 * How `udpkit chat` shows files and folders: one JSON object per event for scripts (`offer`,
 * `offered`, `progress`, `received`, `served`, `failed`, `released`), one line for people (names
 * from the network made safe with {@link sanitizeText}), and the files part of the summary line.
 */
import type { ChatFileEvent, ChatFileStats } from '../transport/chat-files.js';
import { sanitizeText as safe } from './sanitize.js';

/** Files of an offer as `--json` shows them. */
function filesJson(files: readonly { readonly id: number; readonly name: string; readonly size: number; readonly kind: 'file' | 'dir' }[]): object[] {
  return files.map((f) => ({ name: f.name, size: f.size, kind: f.kind }));
}

/**
 * One file event as one JSON line, or `undefined` for events scripts do not see (`refused`:
 * counted in the summary instead).
 * @example chatFileEventJson({ type: 'failed', id: 3, name: 'a.bin', reason: 'cut', bytes: 10 }) // '{"event":"failed","id":3,"name":"a.bin","reason":"cut","bytes":10}'
 */
export function chatFileEventJson(e: ChatFileEvent): string | undefined {
  switch (e.type) {
    case 'offer':
      return JSON.stringify({ event: 'offer', id: e.offer.id, from: { name: e.offer.from, address: e.offer.address }, packet: e.offer.packetNo, files: filesJson(e.offer.files) });
    case 'offered':
      return JSON.stringify({ event: 'offered', id: e.offer.id, to: e.offer.to, packet: e.offer.packetNo, files: filesJson([...e.offer.files.values()]) });
    case 'refused':
      return undefined;
    default: {
      const { type, ...rest } = e;
      return JSON.stringify({ event: type, ...rest });
    }
  }
}

/** Bytes as people read them: `512 B`, `20.0 MB`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) (v /= 1000), i++;
  return `${v.toFixed(1)} ${units[i]}`;
}

/** Seconds as `m:ss`. */
function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * One file event as one terminal line (no time prefix), or `undefined` for none.
 * @example formatChatFileEvent({ type: 'progress', id: 1, name: 'a.bin', bytes: 5e6, total: 2e7, rate: 5e6 })
 * // '* [1] a.bin: 5.0 MB of 20.0 MB, 5.0 MB/s, 0:03 left'
 */
export function formatChatFileEvent(e: ChatFileEvent): string | undefined {
  switch (e.type) {
    case 'offer': {
      const list = e.offer.files.map((f) => `${safe(f.name)}${f.kind === 'dir' ? '/' : ` (${formatBytes(f.size)})`}`).join(', ');
      return `* [${e.offer.id}] ${safe(e.offer.from)} offers ${list}: /get ${e.offer.id} [DIR] to fetch, /cancel ${e.offer.id} to decline`;
    }
    case 'offered':
      return `* [${e.offer.id}] offered to ${safe(e.offer.to)}: ${[...e.offer.files.values()].map((f) => safe(f.name)).join(', ')} (/cancel ${e.offer.id} to withdraw)`;
    case 'progress': {
      const eta = e.total !== undefined && e.rate > 0 ? `, ${clock((e.total - e.bytes) / e.rate)} left` : '';
      return `* [${e.id}] ${safe(e.name)}: ${formatBytes(e.bytes)}${e.total !== undefined ? ` of ${formatBytes(e.total)}` : ''}, ${formatBytes(e.rate)}/s${eta}`;
    }
    case 'received':
      return `* [${e.id}] received ${safe(e.name)}${e.kind === 'dir' ? ` (${e.files} files)` : ''}: ${formatBytes(e.bytes)} in ${e.seconds.toFixed(1)} s, saved as ${safe(e.path)}`;
    case 'served':
      return `* [${e.id}] ${safe(e.to)} fetched ${safe(e.name)} (${formatBytes(e.bytes)})`;
    case 'failed':
      return `* [${e.id}] ${safe(e.name)} FAILED after ${formatBytes(e.bytes)}: ${safe(e.reason)}${e.bytes > 0 ? ` (/get ${e.id} again continues)` : ''}`;
    case 'released':
      return `* [${e.id}] ${safe(e.by)} declined your files`;
    case 'refused':
      return undefined;
  }
}

/** True when anything happened with files: an offer, a transfer, a refusal, a name made safe. */
export function anyFileActivity(s: ChatFileStats): boolean {
  const r = s.refused;
  return s.offered + s.served + s.received + s.failed + s.unsafeNames + r.unoffered + r.rateLimited + r.busy + r.malformed + r.unsafe > 0;
}

/**
 * The files part of the summary line.
 * @example formatFileSummary(stats) // 'files offered 2, served 2, received 1, failed 0; refused 3 (unoffered 1, rate-limited 0, busy 0, malformed 1, unsafe 1); unsafe names 1'
 */
export function formatFileSummary(s: ChatFileStats): string {
  const r = s.refused;
  const refused = r.unoffered + r.rateLimited + r.busy + r.malformed + r.unsafe;
  return `files offered ${s.offered}, served ${s.served}, received ${s.received}, failed ${s.failed}; refused ${refused} (unoffered ${r.unoffered}, rate-limited ${r.rateLimited}, busy ${r.busy}, malformed ${r.malformed}, unsafe ${r.unsafe}); unsafe names ${s.unsafeNames}`;
}
