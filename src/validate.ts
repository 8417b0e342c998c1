/**
 * One validator per concept. Each takes what a user or caller gave and returns the normalised
 * value, or throws a coded `RangeError`/`TypeError`. Validate once at the public entry point.
 */
import ipaddr from 'ipaddr.js';
import { UdpkitRangeError, UdpkitTypeError } from './errors.js';

/** The default UDP port, as in the textbook receiver and sender. */
export const DEFAULT_PORT = 5000;

/** Largest UDP payload over IPv4: 65535 - 20 (IP header) - 8 (UDP header). */
export const MAX_UDP_PAYLOAD_IPV4 = 65507;
/** Largest UDP payload over IPv6 without jumbograms: 65535 - 8 (UDP header). */
export const MAX_UDP_PAYLOAD_IPV6 = 65527;

/**
 * Checks a port number given as a number or a decimal string.
 * @param allowZero listen may bind port 0 (the OS picks one); a destination may not.
 * @example validatePort('5000') // 5000
 */
export function validatePort(value: unknown, { allowZero = false, name = 'port' } = {}): number {
  const min = allowZero ? 0 : 1;
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > 65535) {
    throw new UdpkitRangeError(
      'UDPKIT_INVALID_PORT',
      `${name} must be an integer from ${min} to 65535, got ${JSON.stringify(String(value))}`,
    );
  }
  return n;
}

/** The address family of an IP literal, or `undefined` when `host` is not one. */
export function ipFamily(host: string): 4 | 6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) return 4;
  // Only IPv6 has a `%scope`, and it is never empty.
  const i = host.indexOf('%');
  if (i < 0) return ipaddr.IPv6.isValid(host) ? 6 : undefined;
  return i < host.length - 1 && ipaddr.IPv6.isValid(host.slice(0, i)) ? 6 : undefined;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/**
 * Checks a host: an IPv4 address, an IPv6 address (optionally with `%scope`) or a DNS name.
 * Returns it without brackets. Numbers that are not a dotted quad (`1.2.3`) are refused rather
 * than guessed at.
 * @example validateHost('[::1]') // '::1'
 */
export function validateHost(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new UdpkitTypeError('UDPKIT_INVALID_HOST', 'a host is required (a name or an IP address)');
  }
  let host = value.trim();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (ipFamily(host) !== undefined) return host;
  if (/^[\d.]+$/.test(host) || host.includes(':') || !HOSTNAME.test(host)) {
    throw new UdpkitTypeError('UDPKIT_INVALID_HOST', `not a host name or IP address: ${JSON.stringify(value)}`);
  }
  return host;
}

/** A destination: host and port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `HOST`, `HOST:PORT`, `[IPv6]:PORT` or a bare IPv6 address (which never carries a port).
 * @example parseHostPort('example.com:9000', 5000) // { host: 'example.com', port: 9000 }
 */
export function parseHostPort(value: unknown, defaultPort: number): HostPort {
  if (typeof value !== 'string') return { host: validateHost(value), port: defaultPort };
  const text = value.trim();
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    const host = bracketed[1] ?? '';
    if (ipFamily(host) !== 6) {
      throw new UdpkitTypeError('UDPKIT_INVALID_HOST', `not an IPv6 address inside brackets: ${JSON.stringify(value)}`);
    }
    const port = bracketed[2] === undefined ? defaultPort : validatePort(bracketed[2]);
    return { host, port };
  }
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const i = text.indexOf(':');
    return { host: validateHost(text.slice(0, i)), port: validatePort(text.slice(i + 1)) };
  }
  return { host: validateHost(text), port: defaultPort };
}

/**
 * Parses hex bytes: pairs of digits, optionally separated by spaces, colons or dashes, with an
 * optional `0x` prefix.
 * @example parseHex('de:ad be-ef') // <Buffer de ad be ef>
 */
export function parseHex(value: string): Buffer {
  const digits = value.replace(/^0x/i, '').replace(/[\s:-]/g, '');
  if (!/^[0-9a-f]*$/i.test(digits) || digits.length % 2 !== 0) {
    throw new UdpkitTypeError(
      'UDPKIT_INVALID_ARGUMENT',
      `not hex bytes (pairs of digits 0-9, a-f): ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value)}`,
    );
  }
  return Buffer.from(digits, 'hex');
}

/**
 * A whole number within bounds, from a number or a decimal string.
 * @example validateInteger('3', { name: '--count', min: 1 }) // 3
 */
export function validateInteger(
  value: unknown,
  { name, min = 0, max = Number.MAX_SAFE_INTEGER }: { name: string; min?: number; max?: number },
): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new UdpkitRangeError(
      'UDPKIT_INVALID_ARGUMENT',
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(String(value))}`,
    );
  }
  return n;
}

/**
 * A duration in seconds (decimals allowed), returned in milliseconds.
 * @example validateSeconds('1.5', { name: '--timeout' }) // 1500
 */
export function validateSeconds(value: unknown, { name, min = 0 }: { name: string; min?: number }): number {
  const n = typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > 2_147_483) {
    throw new UdpkitRangeError(
      'UDPKIT_INVALID_ARGUMENT',
      `${name} must be a number of seconds from ${min} to 2147483, got ${JSON.stringify(String(value))}`,
    );
  }
  return Math.round(n * 1000);
}

/**
 * Refuses a payload larger than one UDP datagram can carry for the family.
 * @example checkPayloadSize(65508, 4) // throws UDPKIT_MESSAGE_TOO_LARGE
 */
export function checkPayloadSize(size: number, family: 4 | 6): void {
  const limit = family === 4 ? MAX_UDP_PAYLOAD_IPV4 : MAX_UDP_PAYLOAD_IPV6;
  if (size > limit) {
    throw new UdpkitRangeError(
      'UDPKIT_MESSAGE_TOO_LARGE',
      `message is ${size} bytes; one UDP datagram over IPv${family} carries at most ${limit}`,
    );
  }
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * A size in bytes, whole, from a number or a string with an optional binary unit (`64K`,
 * `32MiB`, `1g`: powers of 1024), so that limits need not be typed as eight-digit numbers.
 * @example validateByteSize('64M', { name: '--max-buffered', min: 65536 }) // 67108864
 */
export function validateByteSize(value: unknown, { name, min = 0, max = Number.MAX_SAFE_INTEGER }: { name: string; min?: number; max?: number }): number {
  const m = typeof value === 'string' ? /^\s*(\d+)\s*([kmg]?)(?:i?b)?\s*$/i.exec(value) : null;
  const n = m ? Number(m[1]) * (BYTE_UNITS[(m[2] as string).toLowerCase()] as number) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UdpkitRangeError(
      'UDPKIT_INVALID_ARGUMENT',
      `${name} must be a size from ${min} to ${max} bytes (K, M, G for KiB, MiB, GiB), got ${JSON.stringify(String(value))}`,
    );
  }
  return n;
}

const DECIMAL_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

/**
 * A rate (per second), whole after scaling, from a number or a string with an optional decimal
 * unit (`20k`, `2.5M`, `1G`: powers of 1000, as rates are quoted), so that `--rate 100k` and
 * `--bitrate 100M` read as people say them.
 * @example validateRate('2.5k', { name: '--rate' }) // 2500
 */
export function validateRate(value: unknown, { name, min = 0, max = Number.MAX_SAFE_INTEGER }: { name: string; min?: number; max?: number }): number {
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)\s*$/i.exec(value) : null;
  const n = m ? Math.round(Number(m[1]) * (DECIMAL_UNITS[(m[2] as string).toLowerCase()] as number)) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UdpkitRangeError(
      'UDPKIT_INVALID_ARGUMENT',
      `${name} must be a rate from ${min} to ${max} per second (k, M, G for thousands, millions, billions), got ${JSON.stringify(String(value))}`,
    );
  }
  return n;
}
