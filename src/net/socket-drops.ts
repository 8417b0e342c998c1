/**
 * How many datagrams the kernel dropped for one socket because its receive buffer was full:
 * the `drops` column of /proc/net/udp and /proc/net/udp6 (Linux), found by the socket's inode.
 * Also how many bytes still wait in its receive queue (`rx_queue`), so a listener that stops can
 * read and count them instead of letting close() discard them unseen.
 */
import { readlink } from 'node:fs/promises';
import { readOptional, readersOf, type NetOsOptions } from './os-readers.js';

/**
 * The `drops` count of the socket with this inode in a /proc/net/udp-style table, or `undefined`
 * when the table has no such socket.
 * @example udpDropsForInode(procNetUdpText, 69559) // 0
 */
export function udpDropsForInode(table: string, inode: number): number | undefined {
  const wanted = String(inode);
  for (const line of table.split('\n')) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    const f = line.trim().split(/\s+/);
    if (f.length >= 13 && f[9] === wanted) {
      const drops = Number(f[12]);
      return Number.isInteger(drops) ? drops : undefined;
    }
  }
  return undefined;
}

/**
 * The `rx_queue` of the socket with this inode in a /proc/net/udp-style table: bytes the kernel
 * holds for it (datagrams plus their bookkeeping; 0 when nothing waits), or `undefined`.
 * @example udpRxQueueForInode(procNetUdpText, 69559) // 0
 */
export function udpRxQueueForInode(table: string, inode: number): number | undefined {
  const wanted = String(inode);
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 13 && f[9] === wanted) {
      const rx = Number.parseInt(f[4]?.split(':')[1] ?? '', 16);
      return Number.isInteger(rx) ? rx : undefined;
    }
  }
  return undefined;
}

/**
 * The inode of the socket open on file descriptor `fd` of this process, from /proc/self/fd.
 * @example await socketInode(18) // 69559
 */
export async function socketInode(fd: number, readLink: (p: string) => Promise<string> = readlink): Promise<number | undefined> {
  try {
    const m = /^socket:\[(\d+)\]$/.exec(await readLink(`/proc/self/fd/${fd}`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads one column of the /proc/net/udp* row of the socket on `fd`, IPv6 table first. */
async function forFd(
  fd: number,
  column: (table: string, inode: number) => number | undefined,
  options: NetOsOptions & { readLink?: (p: string) => Promise<string> },
): Promise<number | undefined> {
  const inode = await socketInode(fd, options.readLink);
  if (inode === undefined) return undefined;
  const readers = readersOf(options);
  for (const path of ['/proc/net/udp6', '/proc/net/udp']) {
    const table = await readOptional(readers, path);
    const value = table === undefined ? undefined : column(table, inode);
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * Datagrams the kernel dropped for the UDP socket on `fd`, or `undefined` where that cannot be
 * read (not Linux, no /proc). Read it before closing the socket.
 * @example await kernelDropsForFd(18) // 0
 */
export function kernelDropsForFd(fd: number, options: NetOsOptions & { readLink?: (p: string) => Promise<string> } = {}): Promise<number | undefined> {
  return forFd(fd, udpDropsForInode, options);
}

/**
 * Bytes waiting in the receive queue of the UDP socket on `fd`, or `undefined` where that cannot
 * be read (not Linux, no /proc).
 * @example await kernelQueuedForFd(18) // 0
 */
export function kernelQueuedForFd(fd: number, options: NetOsOptions & { readLink?: (p: string) => Promise<string> } = {}): Promise<number | undefined> {
  return forFd(fd, udpRxQueueForInode, options);
}
