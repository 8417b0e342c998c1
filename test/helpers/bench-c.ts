/**
 * The benchmark's C reference programs (bench/c/), compiled for a test into a private temporary
 * directory, so a test checks the very source `npm run bench` compiles.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_DIR = fileURLToPath(new URL('../../bench/c/', import.meta.url));

/** Paths of the compiled programs, and a function that removes them. */
export interface BenchPrograms {
  readonly dir: string;
  path(name: string): string;
  remove(): void;
}

/** Compiles `names` (e.g. 'udp-print') with the flags the benchmark uses. */
export function compileBenchC(names: readonly string[]): BenchPrograms {
  const dir = mkdtempSync(join(os.tmpdir(), 'udpkit-bench-c-'));
  for (const name of names) {
    execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', join(dir, name), join(SOURCE_DIR, `${name}.c`)], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  return {
    dir,
    path: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
