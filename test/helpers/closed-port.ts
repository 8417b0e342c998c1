/**
 * A UDP port where nobody listens, that no other process can take meanwhile: the test binds it
 * and connects the socket to another peer, so datagrams from anyone else find no socket and the
 * kernel answers "port unreachable", as for a closed port.
 */
import dgram from 'node:dgram';

export interface ClosedPort {
  readonly port: number;
  close(): Promise<void>;
}

/** Binds a port on loopback (`127.0.0.1` or `::1`) that refuses every sender. */
export async function closedUdpPort(address: '127.0.0.1' | '::1' = '127.0.0.1'): Promise<ClosedPort> {
  const s = dgram.createSocket(address === '::1' ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  // Port 1 on loopback: nothing is sent there, the connection only narrows what the socket takes.
  await new Promise<void>((resolve) => s.connect(1, address, resolve));
  return { port: s.address().port, close: () => new Promise<void>((resolve) => s.close(() => resolve())) };
}
