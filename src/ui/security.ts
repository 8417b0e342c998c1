/**
 * The page's guards: a random token on every request, a `Host` header naming this server (against
 * DNS rebinding), and no cross-site `Origin` on requests that change state.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import type { MiddlewareHandler } from 'hono';

/** A fresh 128-bit token, URL-safe. */
export function newToken(): string {
  return randomBytes(16).toString('base64url');
}

function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What the guard needs to know: the token and the port the server is bound to. */
export interface GuardOptions {
  readonly token: string;
  /** The bound port, read once the server listens. */
  readonly port: () => number;
  /** The bound host, accepted in `Host` besides 127.0.0.1 and localhost. */
  readonly host: string;
}

const bracket = (a: string): string => (a.includes(':') ? `[${a}]` : a);

/** The names a browser may put in `Host`: loopback, the bound address, and for a wildcard bind each local address. */
function hostNames(bound: string): string[] {
  const names = ['127.0.0.1', 'localhost', '[::1]', bracket(bound)];
  if (bound === '0.0.0.0' || bound === '::') {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (!a.address.includes('%')) names.push(bracket(a.address));
  }
  return names;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses requests with a foreign `Host` or cross-site `Origin` (403) or without the token (401).
 * @example app.use('*', guard({ token, host: '127.0.0.1', port: () => server.port }))
 */
export function guard(options: GuardOptions): MiddlewareHandler {
  return async (c, next) => {
    const port = options.port();
    const allowedHosts = new Set(hostNames(options.host).map((n) => `${n}:${port}`));
    const host = c.req.header('host') ?? '';
    if (!allowedHosts.has(host.toLowerCase())) return c.json({ error: 'foreign Host header' }, 403);
    const origin = c.req.header('origin');
    if (origin !== undefined && !SAFE_METHODS.has(c.req.method) && origin !== `http://${host}`) {
      return c.json({ error: 'cross-site request' }, 403);
    }
    const auth = c.req.header('authorization');
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (!sameToken(bearer ?? c.req.query('token'), options.token)) return c.json({ error: 'missing or wrong token' }, 401);
    await next();
  };
}
