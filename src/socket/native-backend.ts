/** The native backend: recvmmsg batches of up to 64 datagrams per call into JavaScript. */
import { kernelQueuedForFd } from '../net/socket-drops.js';
import type { NativeBatchCallback, NativeBinding, NativeSocketError, NativeUdp } from '../native/binding.js';
import type { AddressFamily } from '../types.js';
import type { ReceiveBackend } from './backend.js';
import type { BatchHandler, DatagramBatch } from './batch.js';
import { bindFailure, type BindRequest } from './bind.js';
import { gsoAllowed } from './datagram-spans.js';

/** The largest SO_RCVBUF request the addon accepts (INT_MAX / 2, native/udpkit.cc). */
const MAX_NATIVE_BUFFER_REQUEST = 2 ** 30 - 1;

/** A batch whose fields point at what the addon passed for the current call. */
class NativeBatch implements DatagramBatch {
  count = 0;
  data: Buffer = Buffer.alloc(0);
  starts: Uint32Array = new Uint32Array(0);
  lengths: Uint32Array = new Uint32Array(0);
  ports: Uint16Array = new Uint16Array(0);
  senders: Uint8Array = new Uint8Array(0);
  addresses: readonly string[] = [];
  families: readonly AddressFamily[] = [];
  replyAddresses: readonly string[] = [];
  receivedAt = 0;
  preciseAt = 0;
  flags: Uint8Array = new Uint8Array(0);
}

/** Wraps a bound NativeUdp socket. */
export class NativeBackend implements ReceiveBackend {
  readonly #socket: NativeUdp;
  readonly dualStack: boolean;
  /**
   * Whether {@link sendMany} lets the kernel segment runs of same-size datagrams (UDP GSO).
   * `UDPKIT_GSO=0` turns it off, for whom a capture on the sending host must show each
   * datagram as its own packet (tcpdump there sees a run as one).
   */
  gso = gsoAllowed();
  #onBatch: NativeBatchCallback | undefined;
  #onError: ((err: NativeSocketError) => void) | undefined;
  #closed = false;
  /** Sends not taken by the kernel yet, oldest first (see {@link send}). */
  readonly #waiting: Array<{ data: Uint8Array; port: number; address: string; callback: (err: Error | null) => void }> = [];

  constructor(socket: NativeUdp, dualStack: boolean) {
    this.#socket = socket;
    this.dualStack = dualStack;
  }

  start(onBatch: BatchHandler, onError: (err: Error) => void): void {
    const batch = new NativeBatch();
    this.#onBatch = (count, data, starts, lengths, ports, senders, addresses, families, replyAddresses, flags, receivedAt) => {
      batch.count = count;
      batch.data = data;
      batch.starts = starts;
      batch.lengths = lengths;
      batch.ports = ports;
      batch.senders = senders;
      batch.addresses = addresses;
      batch.families = families;
      batch.replyAddresses = replyAddresses;
      batch.flags = flags;
      // The addon's wall-clock reading as the batch was taken, whole ms as Date.now() gives them.
      batch.preciseAt = receivedAt;
      batch.receivedAt = Math.floor(receivedAt);
      onBatch(batch);
    };
    this.#onError = onError;
    this.#socket.startReceiving(this.#onBatch, this.#onError);
  }

  pause(): boolean {
    if (this.#closed) return false;
    this.#socket.stopReceiving();
    return true;
  }

  resume(): boolean {
    if (this.#closed || !this.#onBatch || !this.#onError) return false;
    this.#socket.startReceiving(this.#onBatch, this.#onError);
    return true;
  }

  address(): { address: string; port: number; family: AddressFamily } {
    return this.#socket.localAddress();
  }

  /**
   * Sends in the order asked. When the kernel is full (EAGAIN), the rest wait here: the addon
   * keeps a single writable callback, so each blocked send registering its own would drop all
   * but the last, and their callbacks would never run. Sends still waiting at close fail.
   */
  send(data: Uint8Array, port: number, address: string, callback: (err: Error | null) => void): void {
    if (this.#waiting.length > 0) {
      // Behind a blocked send. Callers may hand a view of a receive buffer that the next batch
      // overwrites (a relay forwarding what it just read): whatever waits keeps its own copy.
      this.#waiting.push({ data: Buffer.from(data), port, address, callback });
      return;
    }
    // Nothing waits: straight to the kernel, with no entry queued for it (a bench server's echo,
    // a relay's forward). Only a send the kernel cannot take now waits, on its own copy.
    let sent: boolean;
    try {
      sent = this.#socket.send(data, address, port);
    } catch (err) {
      return callback(err as Error);
    }
    if (sent) return callback(null);
    this.#waiting.push({ data: Buffer.from(data), port, address, callback });
    this.#socket.waitWritable(this.#sendWaiting);
  }

  sendMany(data: readonly Uint8Array[], port: number, address: string, done: (failed: number) => void): void {
    let i = 0;
    let failed = 0;
    // Nothing waits before them: straight to the kernel, up to 64 per sendmmsg, runs of one
    // size segmented by the kernel (UDP GSO: a relay forwarding a blast spends most of its time
    // sending, and this makes each send of a run 2.5-3x cheaper on loopback).
    while (this.#waiting.length === 0 && i < data.length) {
      let taken: number;
      try {
        taken = this.#socket.sendBatch(data, i, address, port, this.gso);
      } catch {
        // The first of the batch failed; the rest go on.
        failed++;
        i++;
        continue;
      }
      if (taken === 0) break;
      i += taken;
    }
    let left = data.length - i;
    if (left === 0) return done(failed);
    // The kernel is full: the rest wait, one by one, each on its own copy (see send).
    for (; i < data.length; i++) {
      this.send(data[i] as Uint8Array, port, address, (err) => {
        if (err) failed++;
        if (--left === 0) done(failed);
      });
    }
  }

  readonly #sendWaiting = (): void => {
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0]!;
      let err: Error | null = null;
      try {
        if (!this.#socket.send(next.data, next.address, next.port)) {
          this.#socket.waitWritable(this.#sendWaiting);
          return;
        }
      } catch (e) {
        err = e as Error;
      }
      this.#waiting.shift();
      next.callback(err);
    }
  };

  receiveBufferSize(): number {
    return this.#socket.getRecvBufferSize();
  }

  setReceiveBufferSize(bytes: number): void {
    // The addon takes at most INT_MAX / 2 and throws above it, which left the kernel's small
    // default in place of a large request. Linux caps the request at net.core.rmem_max anyway,
    // so asking for less than 1 GiB grants the same as asking for more (as node:dgram does).
    this.#socket.setRecvBufferSize(Math.min(bytes, MAX_NATIVE_BUFFER_REQUEST));
  }

  setBroadcast(on: boolean): void {
    this.#socket.setBroadcast(on);
  }

  kernelDrops(): Promise<number | undefined> {
    return Promise.resolve(this.#closed ? undefined : this.#socket.drops());
  }

  queuedBytes(): Promise<number | undefined> {
    return this.#closed || this.#socket.fd < 0 ? Promise.resolve(undefined) : kernelQueuedForFd(this.#socket.fd);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#socket.close();
    for (const w of this.#waiting.splice(0)) w.callback(closedError());
    return Promise.resolve();
  }
}

/** What a send still waiting for room gets when the socket closes (node:dgram's code for it). */
function closedError(): Error {
  return Object.assign(new Error('the socket closed before the datagram could be sent'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
}

function bindNative(native: NativeBinding, family: 4 | 6, ipv6Only: boolean, address: string, req: BindRequest): NativeUdp {
  const socket = new native.NativeUdp(family, ipv6Only);
  try {
    socket.bind(address, req.port, req.reuseAddress === true);
    return socket;
  } catch (err) {
    socket.close();
    throw bindFailure(err, address, req.port);
  }
}

/** Binds a native socket the way {@link bindUdp} binds a node:dgram one. */
export function openNativeBackend(native: NativeBinding, req: BindRequest, literalFamily: 4 | 6 | undefined): NativeBackend {
  if (req.address !== undefined) return new NativeBackend(bindNative(native, literalFamily ?? 4, true, req.address, req), false);
  if (req.family === 4) return new NativeBackend(bindNative(native, 4, false, '0.0.0.0', req), false);
  try {
    return new NativeBackend(bindNative(native, 6, req.family === 6, '::', req), req.family === 0);
  } catch (err) {
    const errno = (err as { errno?: string }).errno;
    if (req.family === 6 || (errno !== 'EAFNOSUPPORT' && errno !== 'EADDRNOTAVAIL')) throw err;
    return new NativeBackend(bindNative(native, 4, false, '0.0.0.0', req), false);
  }
}
