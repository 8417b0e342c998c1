/** Public option and event types. */

/** `'IPv4'` or `'IPv6'`, as Node names address families. */
export type AddressFamily = 'IPv4' | 'IPv6';

/** Where a datagram came from. An IPv4 sender is always plain IPv4, never `::ffff:a.b.c.d`. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly family: AddressFamily;
}

/**
 * One received datagram.
 * @example
 * for await (const d of listener) console.log(d.text ?? d.data.toString('hex'), d.from.port);
 */
export interface Datagram {
  /** The payload, exactly as received. */
  readonly data: Buffer;
  /** The payload decoded as UTF-8, present only when it is valid UTF-8. */
  readonly text?: string;
  readonly from: Endpoint;
  /** When the datagram was taken from the socket (milliseconds since the epoch). */
  readonly receivedAt: number;
}

/** Resolves a host name to addresses; injectable so tests never make a DNS query. */
export type Lookup = (
  hostname: string,
  family: 0 | 4 | 6,
) => Promise<ReadonlyArray<{ readonly address: string; readonly family: 4 | 6 }>>;

/** State of a listener or sender socket. */
export type SocketState = 'binding' | 'bound' | 'closing' | 'closed';

/**
 * What an address is to this machine: `local` (loopback, or an address of one of its
 * interfaces), `broadcast` (limited, or the directed broadcast of one of its subnets),
 * `multicast`, `unspecified` (0.0.0.0, ::), `other` (someone else), or `invalid`.
 */
export type AddressKind = 'local' | 'broadcast' | 'multicast' | 'unspecified' | 'other' | 'invalid';
