/** OS readers over a recorded snapshot (test/fixtures/net/*.json), for the pure `net/` code. */
import { readFileSync } from 'node:fs';
import type os from 'node:os';
import type { NetOsReaders } from '../../src/net/os-readers.js';

/** A machine's network state as `net/` reads it. */
export interface NetSnapshot {
  hostname: string;
  dirs: Record<string, string[]>;
  files: Record<string, string>;
  networkInterfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

/** Loads `test/fixtures/net/NAME.json`. */
export function loadSnapshot(name: string): NetSnapshot {
  return JSON.parse(readFileSync(new URL(`../fixtures/net/${name}.json`, import.meta.url), 'utf8')) as NetSnapshot;
}

function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
}

/** Readers that answer from the snapshot and fail like the OS for anything else. */
export function fakeNetOs(snap: NetSnapshot): NetOsReaders {
  return {
    readFile: async (path) => snap.files[path] ?? Promise.reject(enoent(path)),
    listDir: async (path) => snap.dirs[path] ?? Promise.reject(enoent(path)),
    networkInterfaces: () => structuredClone(snap.networkInterfaces),
    hostname: () => snap.hostname,
  };
}

/** A snapshot with some of its files replaced (`undefined` removes one). */
export function withFiles(snap: NetSnapshot, files: Record<string, string | undefined>): NetSnapshot {
  const merged = { ...snap.files, ...files };
  for (const [k, v] of Object.entries(files)) if (v === undefined) delete merged[k];
  return { ...snap, files: merged as Record<string, string> };
}
