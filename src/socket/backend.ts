/**
 * What a listener needs from the socket under it. Two implementations: node:dgram (always
 * there) and the optional native addon that receives with recvmmsg, many datagrams per call.
 */
import type { AddressFamily } from '../types.js';
import type { BatchHandler } from './batch.js';

/** A bound UDP socket that delivers datagrams in batches. */
export interface ReceiveBackend {
  /** True when one socket receives both IPv4 and IPv6. */
  readonly dualStack: boolean;
  /** Starts delivering batches (and errors). Call once. */
  start(onBatch: BatchHandler, onError: (err: Error) => void): void;
  /** Stops reading from the kernel; false where that is not possible. */
  pause(): boolean;
  /** Reads again after {@link pause}. */
  resume(): boolean;
  address(): { address: string; port: number; family: AddressFamily };
  /** Sends one datagram from the bound port. */
  send(data: Uint8Array, port: number, address: string, callback: (err: Error | null) => void): void;
  /**
   * Sends several datagrams to one address and port, in order (a relay forwarding a batch: the
   * native addon sends up to 64 per sendmmsg). `done` gets how many failed. `data` may be views
   * of a receive buffer: whatever cannot leave at once waits on its own copy.
   */
  sendMany(data: readonly Uint8Array[], port: number, address: string, done: (failed: number) => void): void;
  receiveBufferSize(): number;
  setReceiveBufferSize(bytes: number): void;
  /** SO_BROADCAST: lets this socket send to broadcast addresses. */
  setBroadcast(on: boolean): void;
  /** The kernel's count of datagrams dropped for this socket (buffer full), if readable. */
  kernelDrops(): Promise<number | undefined>;
  /** Bytes still waiting in the kernel's receive queue (0: none), if readable. */
  queuedBytes(): Promise<number | undefined>;
  /** Closes the socket; resolves once closed. */
  close(): Promise<void>;
}
