/** `udpkit ui`: a local web page to listen, send and see this machine's addresses. */
import { startUiServer } from '../../ui/server.js';
import { validatePort } from '../../validate.js';
import { EXIT_OK, type CliIo } from '../io.js';
import { UsageError } from '../../errors.js';
import type { UiOptions } from './ui.options.js';

/** Opens `url` in the desktop's browser, if there is one; failures are ignored. */
async function openBrowser(url: string, io: CliIo): Promise<void> {
  const { spawn } = await import('node:child_process');
  const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
  child.on('error', () => io.stderr.write('udpkit: could not run xdg-open; open the address above by hand\n'));
  child.unref();
}

/** Runs `udpkit ui` until Ctrl-C. */
export async function run(_args: readonly string[], opts: UiOptions, io: CliIo): Promise<number> {
  const port = validatePort(opts.port, { allowZero: true, name: '--port' });
  const host = opts.host;
  if (host === '') throw new UsageError('--host takes an address');
  const ui = await startUiServer({ port, host, env: io.env });
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    io.stderr.write(`warning: the page is reachable from other machines on ${host}; anyone with the token can send and listen as you\n`);
  }
  io.stdout.write(ui.url + '\n');
  io.stderr.write(`listening on http://${new URL(ui.url).host}/ (Ctrl-C to stop)\n`);
  if (opts.open === true) await openBrowser(ui.url, io).catch(() => undefined);
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await ui.close();
  return EXIT_OK;
}
