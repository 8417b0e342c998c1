// What the kernel knows about UDP sockets (Linux /proc), and free ports for tools that need one.
import { createSocket } from 'node:dgram';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A UDP port free right now on 127.0.0.1. Only for the third-party tools that want a port
 * number on their command line; udpkit itself is told `-p 0` where it can be.
 */
export async function freePort() {
  const s = createSocket('udp4');
  await new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', resolve);
  });
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Rows of /proc/net/udp and udp6: local port, inode, drops, receive queue bytes. */
function udpRows() {
  const rows = [];
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 13) continue;
      rows.push({
        port: parseInt(f[1].split(':')[1], 16),
        rxQueue: parseInt(f[4].split(':')[1], 16),
        inode: f[9],
        drops: Number(f[f.length - 1]),
      });
    }
  }
  return rows;
}

/** Waits until some socket is bound to UDP `port`; false after `ms`. */
export async function waitBound(port, ms = 5000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (udpRows().some((r) => r.port === port)) return true;
    await sleep(10);
  }
  return false;
}

/** Socket inodes the process `pid` holds open. */
function socketInodes(pid) {
  const inodes = new Set();
  let fds = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (m) inodes.add(m[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  return inodes;
}

/**
 * Datagrams the kernel dropped on the UDP sockets `pid` holds (receive buffer full), and what
 * still waits in their receive queues. Read it before the process closes them.
 */
export function socketDrops(pid) {
  const inodes = socketInodes(pid);
  let drops = 0;
  let queued = 0;
  let sockets = 0;
  for (const r of udpRows()) {
    if (!inodes.has(r.inode)) continue;
    sockets++;
    drops += r.drops;
    queued += r.rxQueue;
  }
  return { drops, queuedBytes: queued, sockets };
}

/**
 * The count of datagrams dropped for a full receive buffer (IPv4 + IPv6) in the network
 * namespace whose /proc/net is `dir`. It survives the socket's close, so a delta around a test
 * counts every overflow in it (and any other traffic's in the namespace).
 */
export function rcvbufErrors(dir = '/proc/net') {
  let n = 0;
  try {
    const lines = readFileSync(`${dir}/snmp`, 'utf8').split('\n');
    const names = lines.find((l) => l.startsWith('Udp: ') && /RcvbufErrors/.test(l))?.split(/\s+/) ?? [];
    const values = lines.filter((l) => l.startsWith('Udp: '))[1]?.split(/\s+/) ?? [];
    const i = names.indexOf('RcvbufErrors');
    if (i > 0) n += Number(values[i]);
  } catch {
    // No IPv4 stats.
  }
  try {
    const m = readFileSync(`${dir}/snmp6`, 'utf8').match(/^Udp6RcvbufErrors\s+(\d+)/m);
    if (m) n += Number(m[1]);
  } catch {
    // No IPv6 stats.
  }
  return n;
}
