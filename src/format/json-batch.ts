/**
 * The `--json` lines of a whole batch, built as bytes in one buffer: by the addon in C when it is
 * loaded, else by the TypeScript writers; both write what `jsonLine` writes per datagram.
 */
import type { NativeFormatLines } from '../native/binding.js';
import { PLAIN_JSON, type DatagramBatch } from '../socket/batch.js';
import { ByteBuilder } from './byte-builder.js';
import { isoTime } from './datagram.js';
import { JSON_GROWTH } from './escape.js';
import { SenderParts, writeJsonLine } from './line-bytes.js';
import { expectedSize, nativeFormatLines, writeLinesNative } from './native-lines.js';

/** Builds JSON lines for datagrams [from, to) of batches. */
export class JsonBatchFormatter {
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
    const iso = isoTime(b.receivedAt);
    out.begin(expectedSize(b, from, to, 160, JSON_GROWTH));
    if (this.#native) {
      writeLinesNative(this.#native, true, b, from, to, iso, out);
      return out.end();
    }
    const { data, starts, lengths, ports, senders, addresses, families, flags } = b;
    for (let i = from; i < to; i++) {
      const start = starts[i] as number;
      const s = senders[i] as number;
      const head = this.#senders.jsonHead(addresses[s] as string, b.receivedAt, iso);
      const plain = flags !== undefined && ((flags[i] as number) & PLAIN_JSON) !== 0;
      writeJsonLine(out, data, start, start + (lengths[i] as number), head, ports[i] as number, families[s]!, plain);
    }
    return out.end();
  }
}
