/**
 * The textbook lines of a whole batch, built as bytes: a payload that is plain printable ASCII
 * (the common case) is copied as it is, with no decoding and re-encoding; anything else goes
 * through the same sanitizer as a single line. Output is identical to `textLine` per datagram.
 */
import { PLAIN_TEXT, type DatagramBatch } from '../socket/batch.js';
import { textLine } from './datagram.js';

const PREFIX = Buffer.from('received message: ');

/** True when bytes [start, end) are printable ASCII or tab, with no backslash. */
function isPlainAscii(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    if (b < 0x20 || b > 0x7e || b === 0x5c) {
      if (b !== 0x09) return false;
    }
  }
  return true;
}

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
    let out = Buffer.allocUnsafe(size);
    let pos = 0;
    const ensure = (n: number): void => {
      if (pos + n <= out.length) return;
      const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, pos + n));
      out.copy(bigger, 0, 0, pos);
      out = bigger;
    };
    for (let i = from; i < to; i++) {
      const start = starts[i] as number;
      const end = start + (lengths[i] as number);
      const port = ports[i] as number;
      const address = addresses[senders[i] as number] as string;
      if (flags ? (flags[i] as number) & PLAIN_TEXT : isPlainAscii(data, start, end)) {
        const suffix = this.#suffixFor(port, address);
        ensure(PREFIX.length + (end - start) + suffix.length);
        pos += PREFIX.copy(out, pos);
        pos += data.copy(out, pos, start, end);
        pos += suffix.copy(out, pos);
      } else {
        const line = textLine(data, start, end, port, address) + '\n';
        ensure(Buffer.byteLength(line));
        pos += out.write(line, pos);
      }
    }
    return out.subarray(0, pos);
  }
}
