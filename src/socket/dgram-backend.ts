/** The node:dgram backend: one callback per datagram, seen as batches of one. */
import type dgram from 'node:dgram';
import { kernelDropsForFd, kernelQueuedForFd } from '../net/socket-drops.js';
import type { AddressFamily } from '../types.js';
import type { ReceiveBackend } from './backend.js';
import { SingleBatch, type BatchHandler } from './batch.js';
import { setReceiving, socketFd } from './handle.js';

/** Wraps a bound node:dgram socket. */
export class DgramBackend implements ReceiveBackend {
  readonly #socket: dgram.Socket;
  readonly dualStack: boolean;

  constructor(socket: dgram.Socket, dualStack: boolean) {
    this.#socket = socket;
    this.dualStack = dualStack;
  }

  start(onBatch: BatchHandler, onError: (err: Error) => void): void {
    const batch = new SingleBatch();
    this.#socket.on('message', (data, rinfo) => onBatch(batch.set(data, rinfo.address, rinfo.port, rinfo.family)));
    this.#socket.on('error', onError);
  }

  pause(): boolean {
    return setReceiving(this.#socket, false);
  }

  resume(): boolean {
    return setReceiving(this.#socket, true);
  }

  address(): { address: string; port: number; family: AddressFamily } {
    const a = this.#socket.address();
    return { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
  }

  send(data: Uint8Array, port: number, address: string, callback: (err: Error | null) => void): void {
    this.#socket.send(data, port, address, (err) => callback(err ?? null));
  }

  sendMany(data: readonly Uint8Array[], port: number, address: string, done: (failed: number) => void): void {
    let left = data.length;
    let failed = 0;
    if (left === 0) return done(0);
    // node:dgram gives each datagram its own buffer (a batch of one), so none is overwritten while it waits.
    for (const d of data) {
      this.#socket.send(d, port, address, (err) => {
        if (err) failed++;
        if (--left === 0) done(failed);
      });
    }
  }

  receiveBufferSize(): number {
    return this.#socket.getRecvBufferSize();
  }

  setReceiveBufferSize(bytes: number): void {
    this.#socket.setRecvBufferSize(bytes);
  }

  setBroadcast(on: boolean): void {
    this.#socket.setBroadcast(on);
  }

  kernelDrops(): Promise<number | undefined> {
    const fd = socketFd(this.#socket);
    return fd === undefined ? Promise.resolve(undefined) : kernelDropsForFd(fd);
  }

  queuedBytes(): Promise<number | undefined> {
    const fd = socketFd(this.#socket);
    return fd === undefined ? Promise.resolve(undefined) : kernelQueuedForFd(fd);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
