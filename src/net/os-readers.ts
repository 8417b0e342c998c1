/**
 * The OS boundary of `net/`: the few calls that read this machine's network state. Everything
 * above them is pure, so tests pass fixtures here and keep the rest real.
 */
import os from 'node:os';

/** What `net/` reads from the OS. */
export interface NetOsReaders {
  /** Reads a text file such as `/proc/net/route` or `/sys/class/net/eth0/address`. */
  readonly readFile: (path: string) => Promise<string>;
  /** Lists a directory such as `/sys/class/net`. */
  readonly listDir: (path: string) => Promise<readonly string[]>;
  /** Interface addresses, as `os.networkInterfaces()` gives them. */
  readonly networkInterfaces: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  /** This machine's name, as `os.hostname()` gives it. */
  readonly hostname: () => string;
}

/**
 * Any subset of the readers; the rest are the system's.
 * @example
 * await networkInfo({ readFile: async (p) => fixtures[p] ?? Promise.reject(new Error('ENOENT')) });
 */
export type NetOsOptions = Partial<NetOsReaders>;

/**
 * The real readers.
 * @example await systemReaders.readFile('/proc/net/route')
 */
export const systemReaders: NetOsReaders = {
  // node:fs/promises is loaded on first use: a plain `send` never reads these files, and loading
  // it up front costs a millisecond of every start-up.
  readFile: async (path) => (await import('node:fs/promises')).readFile(path, 'utf8'),
  listDir: async (path) => (await import('node:fs/promises')).readdir(path),
  networkInterfaces: () => os.networkInterfaces(),
  hostname: () => os.hostname(),
};

/**
 * The system's readers with the given ones put in their place.
 * @example readersOf({ hostname: () => 'test-host' }).hostname() // 'test-host'
 */
export function readersOf(options: NetOsOptions = {}): NetOsReaders {
  const given = Object.entries(options).filter(([, v]) => v !== undefined);
  return { ...systemReaders, ...Object.fromEntries(given) };
}

/**
 * Reads a file, or `undefined` when it cannot be read (no /proc or /sys on this OS).
 * @example await readOptional(systemReaders, '/proc/net/ipv6_route') // undefined where IPv6 is off
 */
export async function readOptional(readers: NetOsReaders, path: string): Promise<string | undefined> {
  try {
    return await readers.readFile(path);
  } catch {
    return undefined;
  }
}
