/** A reply a sender received, as handed to `Sender.receive` and `Sender.onMessage`. */
import { isUtf8 } from 'node:buffer';
import type { Datagram, Endpoint } from '../types.js';

/** A reply, its text decoded only when asked for: a bench client reads thousands of binary ones. */
export class Reply implements Datagram {
  #text: string | null | undefined;
  constructor(
    readonly data: Buffer,
    readonly from: Endpoint,
    readonly receivedAt: number,
  ) {}

  get text(): string | undefined {
    if (this.#text === undefined) this.#text = isUtf8(this.data) ? this.data.toString('utf8') : null;
    return this.#text ?? undefined;
  }

  toJSON(): object {
    return { data: this.data, text: this.text, from: this.from, receivedAt: this.receivedAt };
  }
}
