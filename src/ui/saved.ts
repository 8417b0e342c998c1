/** Saved send forms, kept as one JSON file in `$XDG_CONFIG_HOME/udpkit/saved.json`. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Saved messages kept at most; with bodies capped at 256 KiB the file stays under 26 MB. */
export const MAX_SAVED = 100;

/** One saved send form. */
export interface SavedMessage {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly payload: string;
  readonly mode: 'text' | 'hex';
}

/** Where the saved messages live for this environment. */
export function savedPath(env: NodeJS.ProcessEnv): string {
  const base = env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
  return join(base, 'udpkit', 'saved.json');
}

/** Checks a request body and returns the normalised message, or a reason it is not one. */
export function toSaved(body: unknown): SavedMessage | string {
  const b = (body ?? {}) as Record<string, unknown>;
  const name = typeof b['name'] === 'string' ? b['name'].trim() : '';
  if (name === '' || name.length > 100) return 'name: 1 to 100 characters';
  if (typeof b['host'] !== 'string' || b['host'] === '') return 'host is required';
  const port = Number(b['port']);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return 'port: 1 to 65535';
  if (typeof b['payload'] !== 'string') return 'payload must be a string';
  const mode = b['mode'] === 'hex' ? 'hex' : 'text';
  return { name, host: b['host'], port, payload: b['payload'], mode };
}

/** The saved messages, read and written whole (they are few), by name. */
export class SavedStore {
  readonly #path: string;
  constructor(path: string) {
    this.#path = path;
  }

  /** Every saved message; none when the file does not exist yet. */
  async list(): Promise<SavedMessage[]> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.#path, 'utf8'));
      return Array.isArray(parsed) ? parsed.map(toSaved).filter((m): m is SavedMessage => typeof m !== 'string') : [];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Adds `m`, replacing a message of the same name; undefined when {@link MAX_SAVED} others are kept. */
  async put(m: SavedMessage): Promise<SavedMessage[] | undefined> {
    const all = (await this.list()).filter((x) => x.name !== m.name);
    if (all.length >= MAX_SAVED) return undefined;
    all.push(m);
    await this.#write(all);
    return all;
  }

  /** Removes the message named `name`; false when there was none. */
  async remove(name: string): Promise<boolean> {
    const all = await this.list();
    const kept = all.filter((x) => x.name !== name);
    if (kept.length === all.length) return false;
    await this.#write(kept);
    return true;
  }

  async #write(all: readonly SavedMessage[]): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true });
    // Write then rename, so a crash never leaves half a file.
    const tmp = `${this.#path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(all, null, 2) + '\n');
    await rename(tmp, this.#path);
  }
}
