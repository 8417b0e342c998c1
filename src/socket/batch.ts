/**
 * Datagrams as they come off a socket, many at a time: payloads side by side in one buffer,
 * with typed arrays for where each starts and who sent it. Handlers that format or count work on
 * a batch directly; only callers that keep datagrams get objects (see {@link datagramAt}).
 */
import { isUtf8 } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { AddressFamily, Datagram, Endpoint } from '../types.js';

/**
 * A batch of received datagrams. Valid only during the call that hands it over: the buffer and
 * arrays are reused for the next batch, so copy what you keep.
 */
export interface DatagramBatch {
  readonly count: number;
  /** The payloads; datagram i is `data[starts[i] .. starts[i] + lengths[i])`. */
  readonly data: Buffer;
  readonly starts: Uint32Array;
  readonly lengths: Uint32Array;
  readonly ports: Uint16Array;
  /** Datagram i came from `addresses[senders[i]]`. */
  readonly senders: Uint8Array;
  /** Senders as shown (an IPv4 sender on a dual-stack socket is plain IPv4). */
  readonly addresses: readonly string[];
  readonly families: readonly AddressFamily[];
  /** Senders as the socket must be given them to reply (`::ffff:a.b.c.d` on a dual-stack socket). */
  readonly replyAddresses: readonly string[];
  /** When the batch was taken from the socket (whole ms since the epoch, as `Date.now()`). */
  readonly receivedAt: number;
  /**
   * The same moment to the microsecond (ms since the epoch, with the fraction), where the socket
   * can tell: the native socket reads the wall clock as it takes the batch (`receivedAt` is the
   * same reading, whole ms); node:dgram's path reads the monotonic clock from the process's
   * start (so it does not follow later adjustments of the wall clock). What a capture stamps its
   * packets with.
   */
  readonly preciseAt?: number;
  /**
   * Checks already made, when the socket made them: bit 0 of `flags[i]`, payload i is printable
   * ASCII or tab with no backslash; bit 1, printable ASCII with no `"` or backslash. Bit 2
   * ({@link ANSWER}) is set by unsealing, never by the socket.
   */
  readonly flags?: Uint8Array;
}

/** `flags` bit: shown as it is in a text line. */
export const PLAIN_TEXT = 1;
/** `flags` bit: a JSON string as it is. */
export const PLAIN_JSON = 2;
/**
 * `flags` bit: the datagram was sealed as an automatic answer (an echo, an ACK; see
 * docs/protocol.md, "Sealed frames"), so an echo must not answer it.
 */
export const ANSWER = 4;

/** Receives batches. */
export type BatchHandler = (batch: DatagramBatch) => void;

class ReceivedDatagram implements Datagram {
  #text: string | null | undefined;
  constructor(
    readonly data: Buffer,
    readonly from: Endpoint,
    readonly receivedAt: number,
    /** The address as the socket reported it, needed to reply on a dual-stack socket. */
    readonly replyAddress: string,
  ) {}

  get text(): string | undefined {
    if (this.#text === undefined) this.#text = isUtf8(this.data) ? this.data.toString('utf8') : null;
    return this.#text ?? undefined;
  }

  toJSON(): object {
    return { data: this.data, text: this.text, from: this.from, receivedAt: this.receivedAt };
  }
}

/** Datagram i of a batch as an object of its own, with a copy of its payload. */
export function datagramAt(batch: DatagramBatch, i: number): Datagram & { readonly replyAddress: string } {
  const start = batch.starts[i] as number;
  const data = Buffer.from(batch.data.subarray(start, start + (batch.lengths[i] as number)));
  const s = batch.senders[i] as number;
  const from: Endpoint = { address: batch.addresses[s] as string, port: batch.ports[i] as number, family: batch.families[s] as AddressFamily };
  return new ReceivedDatagram(data, from, batch.receivedAt, batch.replyAddresses[s] as string);
}

/** The address a reply to `datagram` must go to, if it came from a listener. */
export function replyAddressOf(datagram: Datagram): string | undefined {
  return datagram instanceof ReceivedDatagram ? datagram.replyAddress : undefined;
}

/**
 * A batch of one, refilled for every datagram: what node:dgram's one-callback-per-datagram
 * model looks like as a batch, without allocating per datagram.
 */
export class SingleBatch implements DatagramBatch {
  count = 1;
  data: Buffer = Buffer.alloc(0);
  readonly starts = new Uint32Array(1);
  readonly lengths = new Uint32Array(1);
  readonly ports = new Uint16Array(1);
  readonly senders = new Uint8Array(1);
  readonly addresses: string[] = [''];
  readonly families: AddressFamily[] = ['IPv4'];
  readonly replyAddresses: string[] = [''];
  receivedAt = 0;
  preciseAt = 0;

  /** Refills the batch with one datagram as node:dgram reports it. */
  set(data: Buffer, rawAddress: string, port: number, family: string): this {
    this.data = data;
    this.lengths[0] = data.length;
    this.ports[0] = port;
    this.receivedAt = Date.now();
    this.preciseAt = performance.timeOrigin + performance.now();
    if (rawAddress !== this.replyAddresses[0]) {
      const mapped = rawAddress.startsWith('::ffff:') && rawAddress.includes('.');
      this.replyAddresses[0] = rawAddress;
      this.addresses[0] = mapped ? rawAddress.slice(7) : rawAddress;
      this.families[0] = mapped || family === 'IPv4' ? 'IPv4' : 'IPv6';
    }
    return this;
  }
}

/**
 * Collects accepted datagrams into a new batch (after an allow-list or unsealing). Only the
 * {@link ANSWER} bit of `flags` is kept: the text checks no longer hold for a changed payload.
 */
export class BatchBuilder {
  readonly #parts: Buffer[] = [];
  readonly #answers: number[] = [];
  readonly #ports: number[] = [];
  readonly #senders: number[] = [];
  readonly #addresses: string[] = [];
  readonly #families: AddressFamily[] = [];
  readonly #replies: string[] = [];

  /**
   * Adds one datagram with this payload from sender `s` of `source`; `answer` says it was sealed
   * as an automatic answer (by default, what `source` says of datagram i).
   */
  add(payload: Buffer, source: DatagramBatch, i: number, answer = ((source.flags?.[i] ?? 0) & ANSWER) !== 0): void {
    const s = source.senders[i] as number;
    const address = source.addresses[s] as string;
    let k = this.#addresses.indexOf(address);
    if (k < 0) {
      k = this.#addresses.push(address) - 1;
      this.#families.push(source.families[s] as AddressFamily);
      this.#replies.push(source.replyAddresses[s] as string);
    }
    this.#parts.push(payload);
    this.#ports.push(source.ports[i] as number);
    this.#senders.push(k);
    if (answer) this.#answers.push(this.#parts.length - 1);
  }

  /** The batch of everything added, stamped with `receivedAt`. */
  build(receivedAt: number): DatagramBatch {
    const count = this.#parts.length;
    const starts = new Uint32Array(count);
    const lengths = new Uint32Array(count);
    let at = 0;
    this.#parts.forEach((p, i) => {
      starts[i] = at;
      lengths[i] = p.length;
      at += p.length;
    });
    let flags: Uint8Array | undefined;
    if (this.#answers.length > 0) {
      flags = new Uint8Array(count);
      for (const i of this.#answers) flags[i] = ANSWER;
    }
    return {
      ...(flags ? { flags } : {}),
      count,
      data: Buffer.concat(this.#parts, at),
      starts,
      lengths,
      ports: Uint16Array.from(this.#ports),
      senders: Uint8Array.from(this.#senders),
      addresses: this.#addresses,
      families: this.#families,
      replyAddresses: this.#replies,
      receivedAt,
    };
  }
}
