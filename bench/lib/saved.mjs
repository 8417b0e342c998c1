// Results of whole scenario runs, kept in bench/out/results/ so that docs/BENCHMARKS.md can be
// put together (`--merge`) from scenarios measured at different times, each section saying when.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Keeps one scenario's finished section (with `measuredAt` and `revision`), replacing the last. */
export function saveSection(outDir, key, section) {
  const dir = join(outDir, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${key}.json`), JSON.stringify(section, null, 1));
}

/** The kept section of each of `keys` that has one, by key. */
export function loadSaved(outDir, keys) {
  const out = {};
  for (const key of keys) {
    const file = join(outDir, 'results', `${key}.json`);
    if (!existsSync(file)) continue;
    try {
      out[key] = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      // A file cut short by an interrupted run: as if there were none.
    }
  }
  return out;
}
