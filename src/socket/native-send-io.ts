/**
 * The native sender: datagrams written in one event-loop turn go out together, up to 64 per
 * sendmmsg, instead of one syscall and one callback from libuv each; `sendNow` sends one at once
 * when nothing waits before it (a round trip waits for no later turn). Slices of one buffer
 * (`sendSpans`) go out straight from it, with no object made per datagram.
 */
import type { NativeBinding, NativeUdp } from '../native/binding.js';
import { connectFailure, type ConnectRequest, type ReplyHandler, type SendIo } from './send-io.js';

type Done = (err: Error | null) => void;

class NativeSendIo implements SendIo {
  readonly #socket: NativeUdp;
  #queue: Uint8Array[] = [];
  #dones: Done[] = [];
  #head = 0;
  #scheduled = false;
  #waiting = false;
  /** Who waits for the socket to take datagrams again: the pump, a span sender, or both. */
  #writableWaiters: Array<() => void> = [];
  #onMessage: ReplyHandler | undefined;
  #onError: ((err: Error) => void) | undefined;

  constructor(socket: NativeUdp) {
    this.#socket = socket;
  }

  sendNow(data: Uint8Array): boolean {
    return !this.#scheduled && !this.#waiting && this.#head === this.#queue.length && this.#socket.send(data);
  }

  send(data: Uint8Array, done: Done): void {
    this.#queue.push(data);
    this.#dones.push(done);
    if (!this.#scheduled && !this.#waiting) {
      this.#scheduled = true;
      setImmediate(() => this.#pump());
    }
  }

  #pump(): void {
    this.#scheduled = false;
    while (this.#head < this.#queue.length) {
      let taken: number;
      try {
        taken = this.#socket.sendBatch(this.#queue, this.#head);
      } catch (err) {
        // The first datagram of the batch failed (e.g. a refusal meant for an earlier one).
        const done = this.#dones[this.#head++] as Done;
        done(err as Error);
        continue;
      }
      if (taken === 0) {
        this.#waiting = true;
        this.#whenWritable(() => {
          this.#waiting = false;
          this.#pump();
        });
        return;
      }
      const end = this.#head + taken;
      for (let k = this.#head; k < end; k++) (this.#dones[k] as Done)(null);
      this.#head = end;
    }
    this.#queue = [];
    this.#dones = [];
    this.#head = 0;
  }

  /** One native wait for writable serves every waiter; meanwhile the socket keeps the process alive. */
  #whenWritable(waiter: () => void): void {
    this.#writableWaiters.push(waiter);
    if (this.#writableWaiters.length > 1) return;
    this.#socket.ref();
    this.#socket.waitWritable(() => {
      this.#socket.unref();
      for (const w of this.#writableWaiters.splice(0)) w();
    });
  }

  sendSpans(bytes: Buffer, starts: Uint32Array, ends: Uint32Array, from: number, to: number, gso = false): number {
    return this.#socket.sendSpans(bytes, starts, ends, from, to, gso);
  }

  writable(): Promise<void> {
    return new Promise((resolve) => this.#whenWritable(resolve));
  }

  /**
   * Starts reading replies. Until then the socket does not read at all (no receive arena), and
   * an ICMP refusal shows up on the next send instead.
   */
  onMessage(handler: ReplyHandler): void {
    const first = this.#onMessage === undefined;
    this.#onMessage = handler;
    if (!first) return;
    this.#socket.startReceiving(
      (count, data, starts, lengths, ports, senders, addresses, families) => {
        for (let i = 0; i < count; i++) {
          const s = senders[i] as number;
          handler(data, starts[i] as number, lengths[i] as number, addresses[s] as string, ports[i] as number, families[s] as string);
        }
      },
      (err) => this.#onError?.(err),
    );
    // Replies are optional: an idle sender must not keep the process alive by listening.
    this.#socket.unref();
  }

  onError(handler: (err: Error) => void): void {
    this.#onError = handler;
  }

  localAddress(): { address: string; port: number } {
    const a = this.#socket.localAddress();
    return { address: a.address, port: a.port };
  }

  setReceiveBufferSize(bytes: number): void {
    // The addon throws above INT_MAX / 2; Linux caps the request at net.core.rmem_max anyway.
    this.#socket.setRecvBufferSize(Math.min(bytes, 2 ** 30 - 1));
  }

  kernelDrops(): Promise<number | undefined> {
    try {
      return Promise.resolve(this.#socket.drops());
    } catch {
      // Closed (EBADF), or no counter on this system.
      return Promise.resolve(undefined);
    }
  }

  close(): Promise<void> {
    this.#socket.close();
    return Promise.resolve();
  }
}

/** Binds and connects a native socket; throws a ConnectFailure like the dgram one. */
export function openNativeSendIo(native: NativeBinding, req: ConnectRequest): SendIo {
  const socket = new native.NativeUdp(req.family, false);
  try {
    socket.bind(req.localAddress ?? (req.family === 6 ? '::' : '0.0.0.0'), req.localPort ?? 0, false);
  } catch (err) {
    socket.close();
    throw connectFailure('bind', err);
  }
  try {
    if (req.broadcast) socket.setBroadcast(true);
    socket.connect(req.address, req.port);
  } catch (err) {
    socket.close();
    throw connectFailure('connect', err);
  }
  return new NativeSendIo(socket);
}
