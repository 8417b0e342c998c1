/**
 * The `--json` lines of a whole batch, built as bytes. A payload of printable ASCII with no `"`
 * or `\` (the common case) needs no JSON escaping and is copied as it is; anything else goes
 * through `jsonLine`. Output is identical to `jsonLine` per datagram.
 */
import { PLAIN_JSON, type DatagramBatch } from '../socket/batch.js';
import { ByteBuilder } from './byte-builder.js';
import { isoTime, jsonLine } from './datagram.js';

/** True when bytes [start, end) are printable ASCII other than `"` and `\`. */
function isJsonSafeAscii(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) return false;
  }
  return true;
}

/** Builds JSON lines for datagrams [from, to) of batches; reuses the head of a repeat sender. */
export class JsonBatchFormatter {
  #head = '';
  #headKey = '';

  /** `{"time":...,"from":{...},"size":` for this sender at this time. */
  #headFor(ms: number, address: string, port: number, family: string): string {
    const key = ms + ' ' + address + ' ' + port;
    if (key !== this.#headKey) {
      this.#headKey = key;
      this.#head = '{"time":"' + isoTime(ms) + '","from":{"address":' + JSON.stringify(address) + ',"port":' + port + ',"family":"' + family + '"},"size":';
    }
    return this.#head;
  }

  /** The lines, newline-terminated, of datagrams [from, to) of `b`. */
  format(b: DatagramBatch, from: number, to: number): Buffer {
    const { data, starts, lengths, ports, senders, addresses, families, flags } = b;
    let size = 0;
    for (let i = from; i < to; i++) size += (lengths[i] as number) + 160;
    const out = new ByteBuilder(size);
    for (let i = from; i < to; i++) {
      const start = starts[i] as number;
      const end = start + (lengths[i] as number);
      const s = senders[i] as number;
      const address = addresses[s] as string;
      const port = ports[i] as number;
      const family = families[s]!;
      if (flags ? (flags[i] as number) & PLAIN_JSON : isJsonSafeAscii(data, start, end)) {
        // The head is ASCII but for an address's %zone name, which JSON.stringify kept as text.
        out.text(this.#headFor(b.receivedAt, address, port, family) + (end - start) + ',"text":"');
        out.bytes(data, start, end);
        out.text('"}\n', 'latin1');
      } else out.text(jsonLine(data, start, end, address, port, family, b.receivedAt) + '\n');
    }
    return out.result();
  }
}
