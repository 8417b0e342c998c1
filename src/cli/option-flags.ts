/**
 * The library names its options in errors (`the broadcast option`); the CLI user knows flags.
 * This map is the one place where an option name becomes the flag that sets it.
 */
import { optionPhrase } from '../errors.js';

/** Library option name -> the flag as the CLI's help shows it. */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  broadcast: '--broadcast',
  iface: '--iface NAME',
};

/**
 * The message of `err` as the CLI shows it: where it names an option the CLI has a flag for,
 * the flag instead.
 * @example cliMessage(new UdpkitError('UDPKIT_SEND_FAILED', 'x (needs the broadcast option)', { option: 'broadcast' })) // 'x (needs --broadcast)'
 */
export function cliMessage(err: Error & { option?: unknown }): string {
  const option = err.option;
  if (typeof option !== 'string' || !Object.hasOwn(OPTION_FLAGS, option)) return err.message;
  return err.message.replaceAll(optionPhrase(option), OPTION_FLAGS[option] as string);
}
