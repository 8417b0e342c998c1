/** `udpkit info`: this machine's IP and MAC address as the textbook prints them, then every interface. */
import { formatNetworkInfo, networkInfoJson } from '../../format/network-info.js';
import { networkInfo } from '../../net/network-info.js';
import { EXIT_OK, type CliIo } from '../io.js';
import type { InfoOptions } from './info.options.js';

/** Runs `udpkit info`. */
export async function run(_args: readonly string[], opts: InfoOptions, io: CliIo): Promise<number> {
  const info = await networkInfo();
  const view = { all: opts.all === true };
  const text = opts.json === true ? JSON.stringify(networkInfoJson(info, view), null, 2) : formatNetworkInfo(info, view).join('\n');
  await new Promise<void>((resolve) => io.stdout.write(text + '\n', () => resolve()));
  return EXIT_OK;
}
