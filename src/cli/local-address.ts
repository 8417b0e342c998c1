/** The check every `--bind` (and `send --source`) makes: an IP address literal, brackets allowed. */
import { ipFamily } from '../validate.js';
import { UsageError } from '../errors.js';

/**
 * The address without IPv6 brackets, or `undefined` when the flag was not given. A name is refused
 * here, not resolved: binding needs an address of this machine, and no lookup should leave it.
 * @example localAddress('[::1]', '--bind') // '::1'
 */
export function localAddress(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const address = value.replace(/^\[|\]$/g, '');
  if (ipFamily(address) === undefined) throw new UsageError(`${flag} takes an IP address of this machine, got ${JSON.stringify(value)}`);
  return address;
}
