/** Binding a UDP socket the way a listener wants it, with failures that say what and where. */
import type dgram from 'node:dgram';
import { UdpkitError, describeErrno, errnoOf, formatHostPort } from '../errors.js';
import { ipFamily } from '../validate.js';

/** What to bind. */
export interface BindRequest {
  readonly port: number;
  /** One address; default every address. */
  readonly address?: string;
  /** 4 or 6 for one family; 0 for both through one dual-stack socket. */
  readonly family: 0 | 4 | 6;
  readonly reuseAddress?: boolean;
}

/** A bound socket, and whether it receives both families. */
export interface BoundSocket {
  readonly socket: dgram.Socket;
  readonly dualStack: boolean;
}

/** A bind failure as one line: `cannot bind [::]:5000/udp: port 5000/udp is already in use`. */
export function bindFailure(err: unknown, address: string, port: number): UdpkitError {
  const errno = errnoOf(err);
  let why = describeErrno(errno);
  if (errno === 'EADDRINUSE') why = `port ${port}/udp is already in use`;
  if (errno === 'EACCES' && port > 0 && port < 1024) why += ' (ports below 1024 need privileges)';
  if (errno === 'EADDRNOTAVAIL') why = `${address} is not an address of this machine`;
  return new UdpkitError('UDPKIT_BIND_FAILED', `cannot bind ${formatHostPort(address, port)}/udp: ${why}`, {
    syscall: 'bind',
    address,
    port,
    errno,
    cause: err,
  });
}

async function bindOne(type: 'udp4' | 'udp6', address: string, req: BindRequest, ipv6Only: boolean): Promise<dgram.Socket> {
  // Loaded when a socket is made, not with this file: `send` takes only bindFailure from here and
  // on the native path never needs node:dgram, which would cost every start-up half a millisecond.
  const { createSocket } = await import('node:dgram');
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type, ...(type === 'udp6' ? { ipv6Only } : {}), reuseAddr: req.reuseAddress === true });
    const onError = (err: Error): void => {
      socket.close();
      reject(bindFailure(err, address, req.port));
    };
    socket.once('error', onError);
    socket.bind({ port: req.port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/**
 * Binds as asked: one address; IPv4 only (`0.0.0.0`); IPv6 only (`::`); or both through one
 * dual-stack socket on `::`, falling back to `0.0.0.0` where the machine has no IPv6.
 */
export async function bindUdp(req: BindRequest): Promise<BoundSocket> {
  if (req.address !== undefined) {
    const fam = ipFamily(req.address);
    if (fam === undefined) throw bindFailure(Object.assign(new Error(), { code: 'EINVAL' }), req.address, req.port);
    return { socket: await bindOne(fam === 6 ? 'udp6' : 'udp4', req.address, req, true), dualStack: false };
  }
  if (req.family === 4) return { socket: await bindOne('udp4', '0.0.0.0', req, false), dualStack: false };
  try {
    return { socket: await bindOne('udp6', '::', req, req.family === 6), dualStack: req.family === 0 };
  } catch (err) {
    const errno = (err as UdpkitError).errno;
    if (req.family === 6 || (errno !== 'EAFNOSUPPORT' && errno !== 'EADDRNOTAVAIL')) throw err;
    return { socket: await bindOne('udp4', '0.0.0.0', req, false), dualStack: false };
  }
}
