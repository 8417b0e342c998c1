/**
 * The two things node:dgram does not expose that a listener under load needs: the socket's file
 * descriptor (to read the kernel's drop counter) and stopping/restarting reception (so a slow
 * consumer makes the kernel buffer and count drops instead of udpkit queueing without bound).
 * Both reach into Node's internal socket state; where that is missing they report `undefined` /
 * `false` and callers fall back.
 */
import type dgram from 'node:dgram';

interface UdpHandle {
  readonly fd?: number;
  recvStart?: () => number;
  recvStop?: () => number;
}

function handleOf(socket: dgram.Socket): UdpHandle | undefined {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = key === undefined ? undefined : (socket as unknown as Record<symbol, { handle?: UdpHandle }>)[key];
  return state?.handle ?? undefined;
}

/** The socket's file descriptor, or `undefined` where Node does not expose it. */
export function socketFd(socket: dgram.Socket): number | undefined {
  const fd = handleOf(socket)?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** Stops (`false`) or restarts (`true`) reading datagrams from the kernel; false if unsupported. */
export function setReceiving(socket: dgram.Socket, on: boolean): boolean {
  const handle = handleOf(socket);
  const fn = on ? handle?.recvStart : handle?.recvStop;
  if (typeof fn !== 'function') return false;
  return fn.call(handle) === 0;
}
