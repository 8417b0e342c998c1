/**
 * The textbook lines of a whole batch, built as bytes: a payload that is plain printable ASCII
 * (the common case) is copied as it is, with no decoding and re-encoding; anything else goes
 * through the same sanitizer as a single line. Output is identical to `textLine` per datagram.
 */
import { PLAIN_TEXT, type DatagramBatch } from '../socket/batch.js';
import { ByteBuilder } from './byte-builder.js';
import { textLine } from './datagram.js';
import { isPlainAscii } from './sanitize.js';

const PREFIX = Buffer.from('received message: ');

/** Builds the lines of datagrams [from, to) of batches, reusing the suffix of a repeat sender. */
export class TextBatchFormatter {
  #suffix = Buffer.alloc(0);
  #suffixPort = -1;
  #suffixAddress = '';

  #suffixFor(port: number, address: string): Buffer {
    if (port !== this.#suffixPort || address !== this.#suffixAddress) {
      this.#suffixPort = port;
      this.#suffixAddress = address;
      this.#suffix = Buffer.from(' from PORT ' + port + ' on ' + address + '\n');
    }
    return this.#suffix;
  }

  /** The lines, newline-terminated, of datagrams [from, to) of `b`. */
  format(b: DatagramBatch, from: number, to: number): Buffer {
    const { data, starts, lengths, ports, senders, addresses, flags } = b;
    let size = 0;
    for (let i = from; i < to; i++) size += (lengths[i] as number) + 96;
    const out = new ByteBuilder(size);
    for (let i = from; i < to; i++) {
      const start = starts[i] as number;
      const end = start + (lengths[i] as number);
      const port = ports[i] as number;
      const address = addresses[senders[i] as number] as string;
      if (flags ? (flags[i] as number) & PLAIN_TEXT : isPlainAscii(data, start, end)) {
        out.bytes(PREFIX);
        out.bytes(data, start, end);
        out.bytes(this.#suffixFor(port, address));
      } else out.text(textLine(data, start, end, port, address) + '\n');
    }
    return out.result();
  }
}
