/**
 * The textbook lines of a whole batch, built as bytes in one buffer: by the addon in C when it is
 * loaded, else by the TypeScript writers; both escape exactly as escape.ts specifies, and write
 * what `textLine` writes per datagram.
 */
import type { NativeFormatLines } from '../native/binding.js';
import { PLAIN_TEXT, type DatagramBatch } from '../socket/batch.js';
import { ByteBuilder } from './byte-builder.js';
import { TEXT_GROWTH } from './escape.js';
import { SenderParts, writeHexDump, writeTextLine } from './line-bytes.js';
import { expectedSize, nativeFormatLines, writeLinesNative } from './native-lines.js';

/** Builds the lines of datagrams [from, to) of batches. */
export class TextBatchFormatter {
  readonly #out = new ByteBuilder();
  readonly #senders = new SenderParts();
  readonly #native: NativeFormatLines | null;

  /** `native`: the addon's formatter (by default, when the addon is loaded); `null`: TypeScript. */
  constructor(native: NativeFormatLines | null = nativeFormatLines() ?? null) {
    this.#native = native;
  }

  /** Every output handed out was written and let go: its memory may be written again. */
  recycle(): void {
    this.#out.recycle();
  }

  /** The lines, newline-terminated, of datagrams [from, to) of `b` (a view, valid until {@link recycle}). */
  format(b: DatagramBatch, from: number, to: number): Buffer {
    const out = this.#out;
    out.begin(expectedSize(b, from, to, 64, TEXT_GROWTH));
    if (this.#native) {
      writeLinesNative(this.#native, false, b, from, to, '', out);
      return out.end();
    }
    const { data, starts, lengths, ports, senders, addresses, flags } = b;
    for (let i = from; i < to; i++) {
      const start = starts[i] as number;
      const plain = flags !== undefined && ((flags[i] as number) & PLAIN_TEXT) !== 0;
      writeTextLine(out, data, start, start + (lengths[i] as number), ports[i] as number, this.#senders.text(addresses[senders[i] as number] as string), plain);
    }
    return out.end();
  }
}

/** Builds, for `--hex`, each datagram's text line followed by its hex dump (TypeScript only). */
export class HexBatchFormatter {
  readonly #out = new ByteBuilder();
  readonly #senders = new SenderParts();

  /** Every output handed out was written and let go: its memory may be written again. */
  recycle(): void {
    this.#out.recycle();
  }

  /** The lines and dumps of datagrams [from, to) of `b` (a view, valid until {@link recycle}). */
  format(b: DatagramBatch, from: number, to: number): Buffer {
    const out = this.#out;
    const { data, starts, lengths, ports, senders, addresses } = b;
    out.begin();
    for (let i = from; i < to; i++) {
      const start = starts[i] as number;
      const end = start + (lengths[i] as number);
      writeTextLine(out, data, start, end, ports[i] as number, this.#senders.text(addresses[senders[i] as number] as string), false);
      writeHexDump(out, data, start, end);
    }
    return out.end();
  }
}
