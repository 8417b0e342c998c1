/**
 * Ports for the few tests that cannot bind port 0 and read it back: a foreign tool that must be
 * told its port (nc, socat), or a port where nobody listens (to see "port unreachable").
 * Taking a port another test just released is a race (the kernel hands ports out again), so
 * these come from below the kernel's ephemeral range, which a bind to port 0 never uses, picked
 * at random and checked against every UDP socket of this namespace.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The kernel's range for port 0 binds; tests take ports below it. */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/** UDP ports bound in this network namespace now, from /proc/net/udp and udp6. */
export function boundUdpPorts(): Set<number> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const local = row.trim().split(/\s+/)[1];
      if (local) ports.add(parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return ports;
}

/**
 * A UDP port that nothing on this machine is bound to and that no port-0 bind will be given:
 * for a closed port, or for a tool that needs its port on the command line.
 */
export function unusedUdpPort(): number {
  const high = ephemeralLow();
  const low = Math.max(1024, high - 12_000);
  const bound = boundUdpPorts();
  for (let tries = 0; tries < 1000; tries++) {
    const port = randomInt(low, high);
    if (!bound.has(port)) return port;
  }
  throw new Error(`no unused UDP port in ${low}..${high - 1}`);
}
