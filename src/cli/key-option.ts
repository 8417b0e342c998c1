/** The shared secret for sealed datagrams: `--key`, `--key-file` or the UDPKIT_KEY variable. */
import { UdpkitError, UsageError, describeErrno, errnoOf } from '../errors.js';

/** The flags a sealing command declares (see `withKeyFlags`). */
export interface KeyFlags {
  readonly key?: string;
  readonly keyFile?: string;
}

/**
 * The secret given, or `undefined` for plain datagrams. `--key` wins over `--key-file`, which
 * wins over `UDPKIT_KEY`; a key file's one trailing newline is not part of the secret.
 */
export async function keyFrom(opts: KeyFlags, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const inline = opts.key;
  const file = opts.keyFile;
  if (typeof inline === 'string' && typeof file === 'string') throw new UsageError('give only one of --key, --key-file');
  if (typeof inline === 'string') {
    if (inline === '') throw new UsageError('--key is empty');
    return inline;
  }
  if (typeof file === 'string') {
    let text: string;
    try {
      // Loaded only for --key-file: node:fs/promises costs a millisecond of every start-up.
      text = await (await import('node:fs/promises')).readFile(file, 'utf8');
    } catch (err) {
      throw new UdpkitError('UDPKIT_IO_FAILED', `cannot read key file ${JSON.stringify(file)}: ${describeErrno(errnoOf(err))}`, {
        syscall: 'open',
        errno: errnoOf(err),
        cause: err,
      });
    }
    const secret = text.replace(/\r?\n$/, '');
    if (secret === '') throw new UsageError(`key file ${JSON.stringify(file)} is empty`);
    return secret;
  }
  const fromEnv = env['UDPKIT_KEY'];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}
