/**
 * Bytes the kernel holds for UDP sockets bound to one port, not yet read by their process:
 * the rx_queue of /proc/net/udp and /proc/net/udp6 (Linux). 0 means the socket has read
 * everything that reached it so far.
 */
import { readFileSync } from 'node:fs';

/** The unread bytes of every UDP socket bound to `port` on this machine. */
export function udpUnread(port: number): number {
  let unread = 0;
  for (const path of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const row of readFileSync(path, 'utf8').split('\n').slice(1)) {
      // sl local rem st tx_queue:rx_queue ...
      const f = row.trim().split(/\s+/);
      if (f.length < 5 || parseInt((f[1] as string).split(':')[1] as string, 16) !== port) continue;
      unread += parseInt((f[4] as string).split(':')[1] as string, 16);
    }
  }
  return unread;
}
