/** The socket `udpkit send` and `udpkit send --replay` send from, as their flags describe it. */
import { openSender, type Sender } from '../../transport/sender.js';
import { validateTtl } from '../../socket/multicast.js';
import type { CliIo } from '../io.js';
import { localAddress } from '../local-address.js';
import type { SendOptions } from './send.options.js';

/**
 * Opens the sender to `host:port` with the family, broadcast, source and multicast flags of
 * `opts`; one place, so that a replay sends exactly as a plain send would.
 */
export function openSendSender(host: string, port: number, opts: SendOptions, key: string | Uint8Array | undefined, io: CliIo): Promise<Sender> {
  return openSender({
    host,
    port,
    ...(key !== undefined ? { key } : {}),
    family: opts.ipv4 ? 4 : opts.ipv6 ? 6 : 0,
    ...(opts.broadcast === true ? { broadcast: true } : {}),
    ...(opts.source !== undefined ? { localAddress: localAddress(opts.source, '-s/--source') } : {}),
    ...(opts.ttl !== undefined ? { ttl: validateTtl(opts.ttl, '--ttl') } : {}),
    ...(opts.iface !== undefined ? { multicastInterface: opts.iface } : {}),
    ...(opts.loop !== undefined ? { multicastLoopback: opts.loop } : {}),
    signal: io.signal,
  });
}
