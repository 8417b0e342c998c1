/**
 * Reads the one request a file connection sends (an IPMsg packet: GETFILEDATA or GETDIRFILES,
 * ./../protocol/ipmsg-attach.ts), within a size and a time limit. Also: what may be offered.
 */
import { lstat, realpath } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { basename } from 'node:path';
import { UdpkitError, UdpkitRangeError } from '../errors.js';
import { parseFileRequest, type IpmsgFileRequest } from '../protocol/ipmsg-attach.js';
import type { OfferedFile } from '../protocol/ipmsg-files.js';
import { decodeIpmsgPacket } from '../protocol/ipmsg-packet.js';

/** A request is at most this long (real ones are under 100 bytes). */
export const MAX_REQUEST = 2048;

/**
 * Calls `onRequest` once the socket has sent a whole request, or `onBad` for anything else (too
 * long, not a request, nothing within `timeoutMs`). A request whose Extra ends in `:` or NUL is
 * whole; one without may still be arriving, so it waits 30 ms for more first.
 */
export function readRequest(s: Socket, timeoutMs: number, onRequest: (r: IpmsgFileRequest) => void, onBad: () => void): void {
  let buf = Buffer.alloc(0);
  let wait: NodeJS.Timeout | undefined;
  const go = (r: IpmsgFileRequest): void => {
    clearTimeout(wait);
    s.removeAllListeners('data');
    s.setTimeout(0);
    s.removeListener('timeout', onBad);
    onRequest(r);
  };
  s.setTimeout(timeoutMs, onBad);
  s.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    clearTimeout(wait);
    if (buf.length > MAX_REQUEST) return onBad();
    const p = decodeIpmsgPacket(buf);
    const r = p && parseFileRequest(p.command, p.extra);
    const whole = p !== undefined && /[\0:]$/.test(p.extra);
    if (r === undefined) return whole ? onBad() : undefined;
    if (whole) go(r);
    else wait = setTimeout(() => go(r), 30);
  });
}

/**
 * Checks the paths to offer and describes them: each must be a regular file or a folder (not
 * a symbolic link: an offer names what the user pointed at, and nothing it leads to). Ids are
 * 0, 1, ... in order; the real path is resolved once, here.
 * @throws `UDPKIT_INVALID_ARGUMENT` for a link or special file, `UDPKIT_IO_FAILED` for a path that cannot be read.
 */
export async function prepareOffer(paths: readonly string[]): Promise<OfferedFile[]> {
  const out: OfferedFile[] = [];
  for (const [i, p] of paths.entries()) {
    const st = await lstat(p).catch((err: NodeJS.ErrnoException) => {
      throw new UdpkitError('UDPKIT_IO_FAILED', `cannot offer ${p}: ${err.code ?? err.message}`, { syscall: 'lstat', ...(err.code ? { errno: err.code } : {}) });
    });
    if (!st.isFile() && !st.isDirectory()) throw new UdpkitRangeError('UDPKIT_INVALID_ARGUMENT', `cannot offer ${p}: ${st.isSymbolicLink() ? 'a symbolic link' : 'not a file or folder'}`);
    const kind = st.isFile() ? 'file' : 'dir';
    const real = await realpath(p);
    out.push({ id: i, name: basename(real) || real, size: kind === 'file' ? st.size : 0, mtime: Math.floor(st.mtimeMs / 1000), kind, path: real });
  }
  return out;
}
