/** Forged IPv4 UDP datagrams (any source address and port) through test/fixtures/forge_udp.py. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const FORGE = fileURLToPath(new URL('../fixtures/forge_udp.py', import.meta.url));

/** A source or destination: an IPv4 address and a port. */
export interface V4Endpoint {
  readonly address: string;
  readonly port: number;
}

/**
 * Sends each payload as one datagram from `from` to `to` (a loopback address), in order, with
 * a raw socket: the receiver sees `from` as the source. Needs root.
 */
export async function forgeUdp(from: V4Endpoint, to: V4Endpoint, payloads: readonly Uint8Array[]): Promise<void> {
  const hex = payloads.map((p) => Buffer.from(p).toString('hex'));
  await run('python3', [FORGE, from.address, String(from.port), to.address, String(to.port), ...hex], { timeout: 10_000 });
}
