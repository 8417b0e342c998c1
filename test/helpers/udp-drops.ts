/**
 * Datagrams the kernel dropped for the UDP sockets bound to one port because their receive
 * buffer was full: the `drops` column of /proc/net/udp and /proc/net/udp6 (Linux). Read it
 * while the socket is open: the row goes with it.
 */
import { readFileSync } from 'node:fs';

/** The drops of every UDP socket bound to `port` on this machine. */
export function udpDrops(port: number): number {
  let drops = 0;
  for (const path of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const row of readFileSync(path, 'utf8').split('\n').slice(1)) {
      // sl local rem st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
      const f = row.trim().split(/\s+/);
      if (f.length < 13 || parseInt((f[1] as string).split(':')[1] as string, 16) !== port) continue;
      drops += Number(f[12]);
    }
  }
  return drops;
}
