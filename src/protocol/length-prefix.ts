/**
 * Length-prefixed frames over a byte stream (TCP mode with --key): a 4-byte big-endian length,
 * then that many bytes (one sealed frame). Sans-I/O, bounded. See docs/protocol.md.
 */

/** Bytes of the length field. */
export const LENGTH_PREFIX_BYTES = 4;

/**
 * One frame: the 4-byte big-endian length of `payload`, then `payload`.
 * @example encodeLengthPrefixed(Buffer.from('hi')) // <00 00 00 02 68 69>
 */
export function encodeLengthPrefixed(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, LENGTH_PREFIX_BYTES);
  return out;
}

/** What {@link LengthPrefixReader.push} found: the frames completed, or a length over the limit. */
export type ReadResult = { readonly frames: Buffer[]; readonly tooLarge: false } | { readonly frames: Buffer[]; readonly tooLarge: true; readonly length: number };

/**
 * Reassembles length-prefixed frames from chunks cut anywhere. A length above `maxFrameBytes`
 * is reported (`tooLarge`) and the reader stops: the stream cannot be resynchronised.
 * @example
 * const r = new LengthPrefixReader(65_536);
 * r.push(encodeLengthPrefixed(Buffer.from('hi'))).frames // [<68 69>]
 */
export class LengthPrefixReader {
  readonly #max: number;
  #buf: Buffer = Buffer.alloc(0);
  #failed = false;

  constructor(maxFrameBytes: number) {
    this.#max = maxFrameBytes;
  }

  /** Bytes held for an unfinished frame. */
  get pending(): number {
    return this.#buf.length;
  }

  /** Feeds one chunk; returns the frames it completed, in order. */
  push(chunk: Buffer): ReadResult {
    const frames: Buffer[] = [];
    if (this.#failed) return { frames, tooLarge: false };
    let buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    let at = 0;
    while (buf.length - at >= LENGTH_PREFIX_BYTES) {
      const length = buf.readUInt32BE(at);
      if (length > this.#max) {
        this.#failed = true;
        this.#buf = Buffer.alloc(0);
        return { frames, tooLarge: true, length };
      }
      if (buf.length - at - LENGTH_PREFIX_BYTES < length) break;
      frames.push(Buffer.from(buf.subarray(at + LENGTH_PREFIX_BYTES, at + LENGTH_PREFIX_BYTES + length)));
      at += LENGTH_PREFIX_BYTES + length;
    }
    buf = buf.subarray(at);
    this.#buf = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return { frames, tooLarge: false };
  }
}
