import { UdpkitError, describeErrno, errnoOf } from '../errors.js';
import type { Lookup } from '../types.js';
import { ipFamily } from '../validate.js';

/** A host resolved to one address. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** How to resolve: which family, which resolver, how long to wait. */
export interface ResolveOptions {
  /** Only addresses of this family; 0 (default) prefers IPv4 when a name has both. */
  readonly family?: 0 | 4 | 6;
  /** The resolver; defaults to the system's (`getaddrinfo`, which reads /etc/hosts first). */
  readonly lookup?: Lookup;
  /** Give up after this long (milliseconds, default 5000). */
  readonly timeoutMs?: number;
}

/** The system resolver, as a `Lookup`. */
export const systemLookup: Lookup = async (hostname, family) => {
  // Loaded on the first name: an IP literal (most sends) needs no resolver module at start-up.
  const { lookup: dnsLookup } = await import('node:dns/promises');
  const all = await dnsLookup(hostname, { all: true, family, verbatim: false });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/**
 * Resolves a host name or IP literal to one address. Literals are returned as they are, without
 * any lookup; names go through `lookup`, bounded by `timeoutMs`.
 * @example await resolveHost('localhost', { family: 4 }) // { address: '127.0.0.1', family: 4 }
 */
export async function resolveHost(host: string, options: ResolveOptions = {}): Promise<ResolvedAddress> {
  const { family = 0, lookup = systemLookup, timeoutMs = 5000 } = options;
  const literal = ipFamily(host);
  if (literal !== undefined) {
    if (family !== 0 && family !== literal) {
      throw new UdpkitError('UDPKIT_RESOLVE_FAILED', `${host} is an IPv${literal} address but IPv${family} was asked for`, {
        address: host,
        errno: 'EAFNOSUPPORT',
      });
    }
    return { address: host, family: literal };
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    const found = await Promise.race([lookup(host, family), timeout]);
    const pick = found.find((a) => a.family === 4) ?? found[0];
    if (!pick) throw Object.assign(new Error('no address'), { code: 'ENODATA' });
    return { address: pick.address, family: pick.family };
  } catch (err) {
    const errno = errnoOf(err) ?? 'ENOTFOUND';
    const why = errno === 'ETIMEDOUT' ? `no answer within ${timeoutMs / 1000} s` : describeErrno(errno);
    throw new UdpkitError('UDPKIT_RESOLVE_FAILED', `cannot resolve host "${host}": ${why}`, {
      syscall: 'getaddrinfo',
      address: host,
      errno,
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}
