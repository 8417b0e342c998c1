/**
 * The optional native socket (native/*.cc, built by `npm install` with node-gyp): receives with
 * recvmmsg and sends with sendmmsg, up to 64 datagrams per syscall and per call into JS, and
 * formats received batches as lines (see {@link NativeFormatLines}). Linux only; where it is not built, or `UDPKIT_NATIVE=0`, {@link loadNative} returns `undefined` and
 * udpkit uses node:dgram. This file is the binding's hand-written type; keep it in step with the
 * C++ and bump `abiVersion` on both sides when the API changes. (About 260 lines, most of them
 * the documented contract of each native call.)
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { CaptureNativeEncode } from '../protocol/capture-write.js';

/** The `abiVersion` this file describes; a build reporting another one is ignored. */
export const NATIVE_ABI_VERSION = 7;

/**
 * Receives one batch of `count` (1..64) datagrams. Everything passed is valid **only during the
 * call**: `data` and the typed arrays are reused for the next batch, so copy what you keep.
 *
 * Datagram `i` is `data.subarray(starts[i], starts[i] + lengths[i])`, from port `ports[i]` of
 * sender `s = senders[i]`, whose address is `addresses[s]` (as shown: a mapped `::ffff:a.b.c.d`
 * is `a.b.c.d`; link-local IPv6 has `%ifname`), family `families[s]`, and `replyAddresses[s]`
 * the address to give this socket to reach it (`::ffff:a.b.c.d` for a mapped IPv4 sender, else
 * the same string as `addresses[s]`). The three sender arrays have one entry per distinct
 * sender in the batch, in order of first appearance. `flags[i]` says what JS need not check:
 * bit 0, the payload is printable ASCII or tab with no backslash (shown as it is); bit 1, it is
 * printable ASCII with no `"` or backslash (a JSON string as it is).
 */
export type NativeBatchCallback = (
  count: number,
  data: Buffer,
  starts: Uint32Array,
  lengths: Uint32Array,
  ports: Uint16Array,
  senders: Uint8Array,
  addresses: readonly string[],
  families: readonly ('IPv4' | 'IPv6')[],
  replyAddresses: readonly string[],
  flags: Uint8Array,
  /** When the batch was taken from the socket: ms since the epoch, to the microsecond (CLOCK_REALTIME). */
  receivedAt: number,
) => void;

/**
 * An OS failure, shaped like node:dgram's: `code` is the errno name (`'EADDRINUSE'`), `errno`
 * its negative number (libuv's convention), `syscall` what failed (`'bind'`, `'connect'`,
 * `'send'`, `'sendmmsg'`, `'recvmmsg'`, `'setsockopt'`...), plus `address` and `port` when one
 * was given. The message reads like Node's: `bind EADDRINUSE 127.0.0.1:5000`.
 *
 * Wrong arguments throw at once instead: a `TypeError` coded `UDPKIT_INVALID_ARGUMENT`, or a
 * `RangeError` coded `UDPKIT_INVALID_PORT` / `UDPKIT_INVALID_ARGUMENT`. Any method but `close`,
 * `stopReceiving`, `drops`, `ref`, `unref` and `fd` throws `EBADF` once closed.
 */
export interface NativeSocketError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly address?: string;
  readonly port?: number;
}

/** One non-blocking UDP socket, created by the addon. Addresses are IP literals (no DNS). */
export interface NativeUdp {
  /**
   * Binds; throws coded (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, `EINVAL` for text that is not
   * an IP literal of a usable family). On an IPv6 socket an IPv4 address means its mapped form.
   */
  bind(address: string, port: number, reuseAddr: boolean): void;
  /** Fixes the peer: `send`/`sendBatch` without an address go there, and ICMP errors surface. */
  connect(address: string, port: number): void;
  /** The bound address as the kernel reports it (read the port here after binding 0). */
  localAddress(): { address: string; port: number; family: 'IPv4' | 'IPv6' };
  /** SO_RCVBUF to ask for; Linux caps it at net.core.rmem_max and reports twice the value. */
  setRecvBufferSize(bytes: number): void;
  getRecvBufferSize(): number;
  setSendBufferSize(bytes: number): void;
  getSendBufferSize(): number;
  setBroadcast(on: boolean): void;
  /**
   * Datagrams the kernel dropped for this socket because its receive buffer was full: read now
   * (SO_MEMINFO), and after close the count read as it closed. On kernels without SO_MEMINFO
   * (before 4.12), the latest SO_RXQ_OVFL counter seen on a received datagram, which lags
   * (drops after the last received datagram show with the next one).
   */
  drops(): number;
  /**
   * Starts (or restarts, replacing the callbacks) reading: up to 16 batches of 64 per event-loop
   * turn. `onError` gets receive failures (e.g. `ECONNREFUSED` on a connected socket); reading
   * goes on. While receiving, the socket keeps the event loop alive (see `unref`) and is not
   * garbage-collected. A callback that throws goes to process `'uncaughtException'`.
   */
  startReceiving(onBatch: NativeBatchCallback, onError: (err: NativeSocketError) => void): void;
  /**
   * Stops reading (backpressure): the kernel buffers, then drops and counts (see `drops`).
   * Releases the callbacks; pass them again to `startReceiving`. Safe from inside `onBatch`.
   */
  stopReceiving(): void;
  /**
   * Sends one datagram to `address`:`port`, or to the connected peer when omitted. False when
   * the kernel could not take it now (EAGAIN/ENOBUFS): retry after `waitWritable`. Throws coded
   * on real errors, `ECONNREFUSED` included (connected socket, peer port closed: that datagram
   * was not sent).
   */
  send(data: Uint8Array, address?: string, port?: number): boolean;
  /**
   * One sendmmsg of `buffers[start .. start + 64)` to `address`:`port` or the connected peer.
   * Returns how many the kernel took (0 when full: retry after `waitWritable`); continue from
   * `start + taken`. Throws coded when the first of them fails (`ECONNREFUSED`, `EMSGSIZE`...);
   * a failure after the first ends the batch early and shows on the next call. With `gso`, runs
   * of same-size datagrams go as one message each with UDP_SEGMENT (native/send.cc says what
   * that changes); the kernel still delivers them one by one.
   */
  sendBatch(buffers: readonly Uint8Array[], start: number, address?: string, port?: number, gso?: boolean): number;
  /**
   * One sendmmsg to the connected peer of `bytes[starts[i], ends[i])` for `i` from `from` up to
   * `to` (64 at most): like `sendBatch`, but slices of one buffer, so that sending many small
   * datagrams makes no object per datagram. A RangeError when `to` is past either array or a
   * slice is outside `bytes`. With `gso`, runs of same-size datagrams that follow each other in
   * `bytes` go as one message each with UDP_SEGMENT, as in `sendBatch`.
   */
  sendSpans(bytes: Uint8Array, starts: Uint32Array, ends: Uint32Array, from: number, to: number, gso?: boolean): number;
  /** Calls `callback` once, from the event loop, when the socket can take datagrams again. */
  waitWritable(callback: () => void): void;
  /** Let the event loop exit while this socket is receiving / keep it alive again (default). */
  unref(): this;
  ref(): this;
  /** Stops reading and closes the fd at once. Safe to call twice; also done on GC. */
  close(): void;
  /** The file descriptor, -1 once closed. */
  readonly fd: number;
}

/**
 * Writes the text lines (`json` false) or `--json` lines (`json` true) of datagrams
 * `state[0] .. state[1]` of a batch into `out` from `state[2]`, newline-terminated, exactly as
 * src/format/line-bytes.ts does (the escaping is specified in src/format/escape.ts). The batch
 * arguments are a {@link NativeBatchCallback}'s; `time` is the ISO time of a JSON line (ignored
 * for text); `flags` may be `undefined`, else bits `PLAIN_TEXT`/`PLAIN_JSON` set for a datagram
 * are trusted (it is copied as it is).
 *
 * Returns true when all were written: `state[0]` is then `state[1]` and `state[2]` the end of
 * the output. Returns false when `out` has too little room for the next line: `state[0]` is
 * that datagram, `state[2]` the end of what was written, `state[3]` the room the line may need;
 * grow `out` and call again. Throws a `TypeError` for arguments of the wrong type and a
 * `RangeError` for a datagram outside `data`, a sender outside `addresses` or a state outside
 * the batch (both coded `UDPKIT_INVALID_ARGUMENT`); it never reads or writes out of bounds.
 */
export type NativeFormatLines = (
  json: boolean,
  data: Uint8Array,
  starts: Uint32Array,
  lengths: Uint32Array,
  ports: Uint16Array,
  senders: Uint8Array,
  addresses: readonly string[],
  families: readonly string[],
  time: string,
  flags: Uint8Array | undefined,
  out: Uint8Array,
  state: Uint32Array,
) => boolean;

/**
 * Writes datagrams `from .. to` of a batch into `out` from `state[0]` as capture records
 * (`pcapng` true: Enhanced Packet Blocks; false: classic pcap records), each an IPv4 or IPv6 +
 * UDP packet with both checksums, byte for byte what src/protocol/capture-write.ts writes.
 * The batch arguments are a {@link NativeBatchCallback}'s; `hosts` holds 36 bytes per sender:
 * the address length (4, 16, or 0 to leave that sender's datagrams out), 3 zero bytes, the
 * source address and the destination address (16 bytes each, the first 4 used for IPv4).
 * `localPort` is every packet's destination port, `state[2]` and `state[3]` the two 32-bit time
 * fields of every record. On return `state[0]` is the end of what was written and `state[1]`
 * how many datagrams were (payloads too long for the IP length fields are left out). A
 * `RangeError` coded `UDPKIT_INVALID_ARGUMENT` when `out` has too little room or an index is
 * outside its array; it never reads or writes out of bounds.
 */
export type NativeEncodeCapture = CaptureNativeEncode;

/** What `build/Release/udpkit_native.node` exports. */
export interface NativeBinding {
  readonly abiVersion: number;
  readonly formatLines: NativeFormatLines;
  readonly encodeCapture: NativeEncodeCapture;
  /**
   * Asks for a pipe buffer of `bytes` on `fd` (F_SETPIPE_SZ) unless it is that large already;
   * the size it has now, or minus the errno (not a pipe, or past the user's pipe-max-size).
   */
  readonly growPipe: (fd: number, bytes: number) => number;
  /** `family` 4 or 6; `ipv6Only` false makes an IPv6 socket dual-stack (set either way). */
  readonly NativeUdp: new (family: 4 | 6, ipv6Only?: boolean) => NativeUdp;
}

let loaded: { binding: NativeBinding | undefined; error: unknown } | undefined;

function load(): { binding: NativeBinding | undefined; error: unknown } {
  try {
    // From src/native/ (tests), dist/native/ (built) and dist/app/ (the bundled CLI) alike, two
    // levels up is the package root. A computed path, so that bundlers leave the require alone.
    const path = fileURLToPath(new URL('../../build/Release/udpkit_native.node', import.meta.url));
    const binding = createRequire(import.meta.url)(path) as NativeBinding;
    if (binding.abiVersion !== NATIVE_ABI_VERSION) {
      return { binding: undefined, error: new Error(`stale native build: abiVersion ${binding.abiVersion}, want ${NATIVE_ABI_VERSION}`) };
    }
    return { binding, error: undefined };
  } catch (error) {
    return { binding: undefined, error };
  }
}

/**
 * The native binding, or `undefined` when it is not built, fails to load (another platform or
 * Node ABI), is stale, or `UDPKIT_NATIVE=0` forces the node:dgram path.
 * @example
 * const native = loadNative();
 * const socket = native ? new native.NativeUdp(6, false) : undefined;
 */
export function loadNative(): NativeBinding | undefined {
  if (process.env.UDPKIT_NATIVE === '0') return undefined;
  loaded ??= load();
  return loaded.binding;
}

/**
 * True when the native socket can be used (see {@link loadNative}).
 * @example if (!nativeAvailable()) console.error(`native addon: ${nativeLoadError()}`);
 */
export function nativeAvailable(): boolean {
  return loadNative() !== undefined;
}

/** Why the binding did not load (`undefined` when it did, or was not tried), for diagnostics. */
export function nativeLoadError(): unknown {
  if (process.env.UDPKIT_NATIVE === '0') return new Error('disabled by UDPKIT_NATIVE=0');
  return (loaded ??= load()).error;
}

/**
 * Why the native path is off, in a few words a user can act on, from the error {@link load}
 * kept: `not built: ...`, `built for another Node.js ...`, `stale native build: ...`, or
 * `disabled by UDPKIT_NATIVE=0`. Pure over the error, so each case is testable without a
 * broken build.
 * @example nativeFailureReason(Object.assign(new Error('x'), { code: 'MODULE_NOT_FOUND' })) // 'not built: npm skipped or failed its install script'
 */
export function nativeFailureReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'MODULE_NOT_FOUND' || /cannot find module/i.test(message)) return 'not built: npm skipped or failed its install script';
  if (/NODE_MODULE_VERSION/.test(message)) {
    const versions = /NODE_MODULE_VERSION (\d+)[\s\S]*NODE_MODULE_VERSION (\d+)/.exec(message);
    return `built for another Node.js${versions ? ` (NODE_MODULE_VERSION ${versions[1]}, this one needs ${versions[2]})` : ''}: run npm rebuild udpkit`;
  }
  return (message.split('\n')[0] ?? message).trim() || 'failed to load';
}

/**
 * Which receive and send path this process uses, as `udpkit --version` shows it: `yes`, or
 * `no (why)` so that a user whose install skipped the addon learns it and why.
 * @example nativeStatus() // 'no (disabled by UDPKIT_NATIVE=0)'
 */
export function nativeStatus(): string {
  if (loadNative() !== undefined) return 'yes';
  return `no (${nativeFailureReason(nativeLoadError())})`;
}

