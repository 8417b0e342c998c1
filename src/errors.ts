/**
 * Every error udpkit throws or rejects with carries a stable `code` (compare `err.code`, never
 * `instanceof` across module copies). Argument errors use the built-in class that fits
 * (`RangeError`, `TypeError`); failures of the OS or the network are `UdpkitError`s that say what
 * was attempted and where.
 */

/** Codes for wrong arguments: the caller's mistake, reported synchronously. */
export type UsageErrorCode =
  | 'UDPKIT_INVALID_PORT'
  | 'UDPKIT_INVALID_HOST'
  | 'UDPKIT_INVALID_ARGUMENT'
  | 'UDPKIT_MESSAGE_TOO_LARGE'
  /** A combination of options or arguments that makes no sense (the CLI's usage errors). */
  | 'UDPKIT_USAGE';

/** Codes for runtime failures: the OS or the network said no. */
export type RuntimeErrorCode =
  | 'UDPKIT_BIND_FAILED'
  | 'UDPKIT_SEND_FAILED'
  | 'UDPKIT_RESOLVE_FAILED'
  | 'UDPKIT_NO_INTERFACE'
  | 'UDPKIT_IO_FAILED'
  /** A message sent with `ack` was not acknowledged (timeout, or nobody listening). */
  | 'UDPKIT_UNCONFIRMED'
  /** A peer that should answer (a bench server) did not. */
  | 'UDPKIT_NO_ANSWER'
  /** A peer answered that it is too busy (a bench server at its session limit). */
  | 'UDPKIT_SERVER_BUSY'
  /** A file that is not a pcap/pcapng capture, or is cut short; `offset` says where. */
  | 'UDPKIT_CAPTURE_INVALID'
  | 'UDPKIT_CLOSED';

/** Any udpkit error code. */
export type UdpkitErrorCode = UsageErrorCode | RuntimeErrorCode;

/** Where an OS failure happened, as Node reports it for sockets. */
export interface ErrorPlace {
  readonly syscall?: string;
  readonly address?: string;
  readonly port?: number;
  /** The OS error code, e.g. `EADDRINUSE`. */
  readonly errno?: string;
  /**
   * The option the message names (`'broadcast'`), written in the message as
   * {@link optionPhrase} gives it, so that a CLI can show its own flag there instead.
   */
  readonly option?: string;
  /** In a file or stream: the byte offset where the fault was found. */
  readonly offset?: number;
  readonly cause?: unknown;
}

/** Base class of runtime failures (bind, send, resolve...). */
export class UdpkitError extends Error {
  readonly code: RuntimeErrorCode;
  // `declare`: a plain field would be an own `undefined` property even when not given.
  declare readonly syscall?: string;
  declare readonly address?: string;
  declare readonly port?: number;
  declare readonly errno?: string;
  declare readonly option?: string;
  declare readonly offset?: number;

  constructor(code: RuntimeErrorCode, message: string, place: ErrorPlace = {}) {
    super(message, place.cause === undefined ? undefined : { cause: place.cause });
    this.name = 'UdpkitError';
    this.code = code;
    if (place.syscall !== undefined) this.syscall = place.syscall;
    if (place.address !== undefined) this.address = place.address;
    if (place.port !== undefined) this.port = place.port;
    if (place.errno !== undefined) this.errno = place.errno;
    if (place.option !== undefined) this.option = place.option;
    if (place.offset !== undefined) this.offset = place.offset;
  }
}

/**
 * How a library message names one of its options: `the broadcast option`. One fixed phrase, so
 * that the CLI can find it and put its flag there (`--broadcast`) while library callers read
 * the option they pass.
 * @example optionPhrase('broadcast') // 'the broadcast option'
 */
export function optionPhrase(option: string): string {
  return `the ${option} option`;
}

/**
 * A combination of options or arguments that makes no sense (exit 2 in the CLI). `option`
 * names the option at fault when there is one, as in {@link ErrorPlace}.
 * @example throw new UsageError('give only one of --key, --key-file')
 */
export class UsageError extends Error {
  readonly code = 'UDPKIT_USAGE';
  declare readonly option?: string;
  constructor(message: string, option?: string) {
    super(message);
    this.name = 'UsageError';
    if (option !== undefined) this.option = option;
  }
}

/** A value outside its allowed range (a port of 70000, a message over the UDP limit). */
export class UdpkitRangeError extends RangeError {
  readonly code: UsageErrorCode;
  constructor(code: UsageErrorCode, message: string) {
    super(message);
    this.name = 'UdpkitRangeError';
    this.code = code;
  }
}

/** A value of the wrong kind (a host that is not a name or address, hex with odd digits). */
export class UdpkitTypeError extends TypeError {
  readonly code: UsageErrorCode;
  constructor(code: UsageErrorCode, message: string) {
    super(message);
    this.name = 'UdpkitTypeError';
    this.code = code;
  }
}

const USAGE_CODES: ReadonlySet<string> = new Set<UsageErrorCode>([
  'UDPKIT_INVALID_PORT',
  'UDPKIT_INVALID_HOST',
  'UDPKIT_INVALID_ARGUMENT',
  'UDPKIT_MESSAGE_TOO_LARGE',
  'UDPKIT_USAGE',
]);

/** True for any error udpkit made, judged by its `code` (works across module copies). */
export function isUdpkitError(err: unknown): err is Error & { code: UdpkitErrorCode } {
  const code: unknown = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('UDPKIT_');
}

/** True when the error is the caller's mistake (bad argument) rather than a runtime failure. */
export function isUsageError(err: unknown): boolean {
  return isUdpkitError(err) && USAGE_CODES.has(err.code);
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EADDRINUSE: 'already in use',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EADDRNOTAVAIL: 'address not available on this machine',
  EAFNOSUPPORT: 'address family not supported',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'host unreachable',
  ECONNREFUSED: 'connection refused',
  EMSGSIZE: 'message too long',
  ENOBUFS: 'no buffer space available',
  EINVAL: 'invalid argument',
  ENOTFOUND: 'not found',
  EAI_AGAIN: 'temporary failure in name resolution',
  ENODATA: 'no address of that family',
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ETIMEDOUT: 'timed out',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  EPIPE: 'the reader has gone (broken pipe)',
  EBADF: 'not open for writing',
  ENODEV: 'no such device',
};

/** A short human phrase for an OS error code (`EADDRINUSE` -> `already in use`). */
export function describeErrno(errno: string | undefined): string {
  if (errno === undefined) return 'failed';
  return Object.hasOwn(ERRNO_TEXT, errno) ? (ERRNO_TEXT[errno] as string) : errno.toLowerCase();
}

/** The OS error code carried by a Node error, if any. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Formats `host:port` with brackets around IPv6 literals. */
export function formatHostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
