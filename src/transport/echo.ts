/**
 * Echo over a listener's socket: each datagram goes back to its source from the listening port
 * (sealed and marked as an answer when keyed), unless the {@link EchoGuard} says no. Keeps the
 * interface list the guard needs, read at most once a second, and counts what it did.
 */
import os from 'node:os';
import { addressKind, localAddressesOf, type LocalAddresses } from '../net/local-addresses.js';
import { EchoGuard, type EchoGuardOptions, type EchoRefusal } from '../protocol/echo-guard.js';
import type { Endpoint } from '../types.js';
import { ANSWER, type DatagramBatch } from '../socket/batch.js';

/** What an echo did so far: every datagram considered is counted once, in one of these. */
export interface EchoStats {
  /** Echoes the kernel took. */
  echoed: number;
  /** Echoes whose send failed (e.g. no route to the source). */
  failed: number;
  /** Datagrams not echoed, by reason. */
  refused: number;
  refusedBy: Partial<Record<EchoRefusal, number>>;
}

/** Sends one echo from the listening socket; `replyAddress` as the socket must be given it. */
export type EchoSend = (payload: Buffer, port: number, replyAddress: string) => Promise<void>;

/** How often the interface list is read again, in ms: addresses come and go (DHCP, VPNs). */
const INTERFACES_TTL_MS = 1000;

/** Options of an {@link Echoer}. */
export interface EchoerOptions {
  /** The counters to update; default a fresh set. */
  readonly stats?: EchoStats;
  /** The guard's buckets (defaults in src/protocol/echo-guard.ts). */
  readonly limits?: Omit<EchoGuardOptions, 'port' | 'addressKind'>;
  /** The interface list; default `os.networkInterfaces` (tests pass a fixture). */
  readonly interfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  /** Told of each datagram not echoed, with why and where it came from. */
  readonly onRefused?: (reason: EchoRefusal, from: Endpoint) => void;
}

/** Echoes datagrams of batches through a guard. */
export class Echoer {
  readonly stats: EchoStats;
  readonly #guard: EchoGuard;
  readonly #send: EchoSend;
  readonly #boundAddress: string;
  readonly #interfaces: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  readonly #onRefused: ((reason: EchoRefusal, from: Endpoint) => void) | undefined;
  #local: LocalAddresses | undefined;
  #localAt = -Infinity;
  #pending = 0;
  #idle: Array<() => void> = [];

  /** @param bound the listener's bound address and port */
  constructor(bound: { readonly address: string; readonly port: number }, send: EchoSend, options: EchoerOptions = {}) {
    this.#boundAddress = bound.address;
    this.#send = send;
    this.stats = options.stats ?? { echoed: 0, failed: 0, refused: 0, refusedBy: {} };
    this.#interfaces = options.interfaces ?? os.networkInterfaces;
    this.#onRefused = options.onRefused;
    this.#guard = new EchoGuard({ ...options.limits, port: bound.port, addressKind: (a) => addressKind(a, this.#local!) });
  }

  /** Echoes datagrams [from, to) of `batch`, as far as the guard allows. */
  echo(batch: DatagramBatch, from: number, to: number): void {
    const now = batch.receivedAt;
    if (this.#local === undefined || now - this.#localAt >= INTERFACES_TTL_MS || now < this.#localAt) {
      this.#local = localAddressesOf(this.#interfaces(), [this.#boundAddress]);
      this.#localAt = now;
    }
    for (let i = from; i < to; i++) {
      const start = batch.starts[i] as number;
      const payload = batch.data.subarray(start, start + (batch.lengths[i] as number));
      const s = batch.senders[i] as number;
      const port = batch.ports[i] as number;
      const answer = ((batch.flags?.[i] ?? 0) & ANSWER) !== 0;
      const refusal = this.#guard.check({ address: batch.addresses[s] as string, port, payload, answer }, now);
      if (refusal !== undefined) {
        this.stats.refused++;
        this.stats.refusedBy[refusal] = (this.stats.refusedBy[refusal] ?? 0) + 1;
        this.#onRefused?.(refusal, { address: batch.addresses[s] as string, port, family: batch.families[s]! });
        continue;
      }
      this.#pending++;
      // The batch is reused after this call: the send gets its own copy.
      this.#send(Buffer.from(payload), port, batch.replyAddresses[s] as string).then(
        () => this.#done(true),
        () => this.#done(false),
      );
    }
  }

  /** Resolves once every echo sent so far has been taken by the kernel or has failed. */
  settled(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #done(ok: boolean): void {
    if (ok) this.stats.echoed++;
    else this.stats.failed++;
    if (--this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }
}
