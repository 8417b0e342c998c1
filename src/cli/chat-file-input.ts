/** The file commands typed into `udpkit chat`: `/send`, `/get`, `/cancel`. */

/** A file command, understood. */
export type ChatFileCommand =
  /** `/send NAME PATH...`: offer files or folders to NAME. */
  | { readonly kind: 'send'; readonly to: string; readonly paths: readonly string[] }
  /** `/get ID [DIR]`: fetch offer ID into DIR (default: --download-dir). */
  | { readonly kind: 'get'; readonly id: number; readonly dir: string | undefined }
  /** `/cancel ID`: withdraw our offer, or decline one made to us. */
  | { readonly kind: 'cancel'; readonly id: number };

/** Lines of `/help` for the file commands. */
export const CHAT_FILE_HELP: readonly string[] = [
  '/send NAME PATH...  offer files or folders to NAME ("quote" paths with spaces)',
  '/get ID [DIR]       fetch offer ID (from its "offer" line) into DIR',
  '/cancel ID          withdraw your offer ID, or decline offer ID made to you',
];

/** Splits at spaces, keeping "quoted parts" whole. */
function words(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

const ID = /^[1-9]\d{0,8}$/;

/**
 * Parses the arguments of a file command (`verb` is `send`, `get` or `cancel`), or returns the
 * usage line to show.
 * @example parseFileCommand('send', 'bob "my report.pdf" photos') // { kind: 'send', to: 'bob', paths: ['my report.pdf', 'photos'] }
 */
export function parseFileCommand(verb: 'send' | 'get' | 'cancel', rest: string): ChatFileCommand | { readonly kind: 'error'; readonly message: string } {
  const w = words(rest);
  if (verb === 'send') {
    const [to, ...paths] = w;
    return to === undefined || paths.length === 0 ? { kind: 'error', message: 'usage: /send NAME PATH...' } : { kind: 'send', to, paths };
  }
  const [id, dir, extra] = w;
  if (id === undefined || !ID.test(id) || extra !== undefined || (verb === 'cancel' && dir !== undefined)) {
    return { kind: 'error', message: verb === 'get' ? 'usage: /get ID [DIR]' : 'usage: /cancel ID' };
  }
  return verb === 'get' ? { kind: 'get', id: Number(id), dir } : { kind: 'cancel', id: Number(id) };
}
