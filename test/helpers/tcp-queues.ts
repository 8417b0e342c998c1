/**
 * Bytes waiting in the kernel on this machine's TCP connections to one port, from /proc/net/tcp
 * and /proc/net/tcp6 (Linux): what clients have not yet sent (tx_queue) and what the listener
 * has not yet read (rx_queue). Both 0 means the listener has read everything sent so far.
 */
import { readFileSync } from 'node:fs';

const ESTABLISHED = '01';

/** Sums over established connections to `port`: `unsent` on the client side, `unread` on the server side. */
export function tcpQueues(port: number): { connections: number; unsent: number; unread: number } {
  let connections = 0;
  let unsent = 0;
  let unread = 0;
  for (const path of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of readFileSync(path, 'utf8').split('\n').slice(1)) {
      // sl local rem st tx_queue:rx_queue ...
      const f = row.trim().split(/\s+/);
      if (f.length < 5 || f[3] !== ESTABLISHED) continue;
      const localPort = parseInt((f[1] as string).split(':')[1] as string, 16);
      const remotePort = parseInt((f[2] as string).split(':')[1] as string, 16);
      const [tx, rx] = (f[4] as string).split(':').map((h) => parseInt(h, 16)) as [number, number];
      if (remotePort === port) unsent += tx;
      if (localPort === port) {
        connections++;
        unread += rx;
      }
    }
  }
  return { connections, unsent, unread };
}
