/**
 * A listener's stdout is often a pipe (`udpkit listen | grep x`), and Node writes to a pipe
 * synchronously: with the kernel's default 64 KiB, every moment the reader is late stops the
 * receiving loop, and the kernel drops what arrives meanwhile. A 1 MiB pipe (the most an
 * unprivileged user may ask for by default, /proc/sys/fs/pipe-max-size) rides those moments out.
 * In the benchmark's worst case, 1,200-byte binary payloads as --json into `wc -c`, the share
 * received went from 0.77 to 0.79 of the C printer on a quiet machine and from 0.57 to 0.71 on a
 * busy one (docs/BENCHMARKS.md).
 */
import type { Writable } from 'node:stream';
import { loadNative } from '../native/binding.js';

/** The pipe buffer a listener asks for on its stdout. */
export const OUTPUT_PIPE_BYTES = 1024 * 1024;

/**
 * Grows the pipe behind `out` to {@link OUTPUT_PIPE_BYTES} when `out` is a pipe and the addon is
 * built; otherwise (a file, a terminal, a stream without a descriptor, node:dgram only) does
 * nothing. Returns the pipe's size afterwards, or undefined when nothing was asked.
 */
export function growOutputPipe(out: Writable): number | undefined {
  const fd = (out as { fd?: unknown }).fd;
  const native = loadNative();
  if (typeof fd !== 'number' || native === undefined) return undefined;
  const size = native.growPipe(fd, OUTPUT_PIPE_BYTES);
  return size > 0 ? size : undefined;
}
