/**
 * The batch formatters' C path: the addon writes a whole batch's lines into the formatter's
 * buffer in one call (see native/format-lines.cc). Used whenever the addon is loaded; the
 * TypeScript writers (line-bytes.ts) produce the same bytes otherwise.
 */
import { loadNative, type NativeFormatLines } from '../native/binding.js';
import type { DatagramBatch } from '../socket/batch.js';
import type { ByteBuilder } from './byte-builder.js';

/**
 * The addon's line formatter, or `undefined` when the addon is not loaded (not built, stale,
 * or `UDPKIT_NATIVE=0`).
 * @example const native = nativeFormatLines(); // undefined under UDPKIT_NATIVE=0
 */
export function nativeFormatLines(): NativeFormatLines | undefined {
  return loadNative()?.formatLines;
}

/** In: first datagram, end, output position; out: where it stopped and the room it needs. */
const state = new Uint32Array(4);

/**
 * Writes the lines of datagrams [from, to) of `b` with the addon into `out`, growing `out`
 * whenever the addon asks for room. `time` is the ISO time for JSON lines.
 */
export function writeLinesNative(format: NativeFormatLines, json: boolean, b: DatagramBatch, from: number, to: number, time: string, out: ByteBuilder): void {
  state[0] = from;
  state[1] = to;
  state[2] = out.pos;
  while (!format(json, b.data, b.starts, b.lengths, b.ports, b.senders, b.addresses, b.families, time, b.flags, out.buf, state)) {
    out.pos = state[2];
    out.reserve(state[3] as number);
    state[2] = out.pos;
  }
  out.pos = state[2] as number;
}

/**
 * Bytes the lines of datagrams [from, to) of `b` likely take: each payload as it is plus
 * `perLine`, and room for one payload at `growth` times its size, so that the formatter
 * seldom has to ask for more in the middle of a batch.
 */
export function expectedSize(b: DatagramBatch, from: number, to: number, perLine: number, growth: number): number {
  let sum = 0;
  let longest = 0;
  for (let i = from; i < to; i++) {
    const n = b.lengths[i] as number;
    sum += n;
    if (n > longest) longest = n;
  }
  return sum + (to - from) * perLine + longest * growth;
}
