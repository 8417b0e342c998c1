/** The flags `listen` reads the same way over UDP and TCP, checked before any socket is opened. */
import { parseCidrList } from '../net/address-filter.js';
import { validateInteger, validatePort, validateSeconds } from '../validate.js';
import type { ListenOptions } from './commands/listen.options.js';
import { localAddress } from './local-address.js';

/** Port, address, when to stop, whom to show and where to log, as checked values. */
export function parseCommon(opts: ListenOptions) {
  return {
    port: validatePort(opts.port, { allowZero: true, name: '--port' }),
    bind: localAddress(opts.bind, '--bind'),
    stopWord: typeof opts.stopWord === 'string' ? opts.stopWord : undefined,
    count: opts.count === undefined ? undefined : validateInteger(opts.count, { name: '--count', min: 1 }),
    timeoutMs: opts.timeout === undefined ? undefined : validateSeconds(opts.timeout, { name: '--timeout', min: 0.001 }),
    allow: opts.allow === undefined ? undefined : parseCidrList(opts.allow),
    log: opts.log,
  } as const;
}
