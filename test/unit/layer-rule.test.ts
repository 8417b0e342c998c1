/**
 * The layer rule (`npm run lint:layers`, .dependency-cruiser.cjs) can fail: run against a fixture
 * tree with one violation of each kind it must refuse a non-zero exit and name each one, and
 * against the same shape with every import pointing down it must pass.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHECKER = `${ROOT}node_modules/dependency-cruiser/bin/dependency-cruise.mjs`;
const CONFIG = `${ROOT}.dependency-cruiser.cjs`;

/** Runs the checker with the project's rules over `src/` of a fixture tree. */
function check(fixture: 'bad' | 'good'): Promise<{ code: number; out: string }> {
  const cwd = fileURLToPath(new URL(`../fixtures/layers/${fixture}/`, import.meta.url));
  return new Promise((resolve) => {
    execFile(process.execPath, [CHECKER, 'src', '--config', CONFIG, '--output-type', 'err'], { cwd, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

describe('layer rule', () => {
  it('refuses each kind of violation, naming the rule and the import, with a non-zero exit', async () => {
    const { code, out } = await check('bad');
    const found = [...out.matchAll(/^\s*error ([\w-]+): (\S+) → (\S*)/gm)].map((m) => `${m[1]} ${m[2]} -> ${m[3]}`).sort();
    expect(found).toEqual([
      'base-imports-only-base src/errors.ts -> src/protocol/core.ts',
      'no-circular src/transport/driver.ts -> ',
      'no-upward-from-io src/socket/io.ts -> src/transport/driver.ts',
      'no-upward-from-protocol src/protocol/core.ts -> src/transport/driver.ts',
      'no-upward-from-transport src/transport/driver.ts -> src/format/show.ts',
      'protocol-is-pure src/protocol/core.ts -> dgram',
    ]);
    expect(out).toMatch(/src\/transport\/loop\.ts →\s+src\/transport\/driver\.ts/);
    expect(code).toBe(6);
  });

  it('passes a tree whose imports all point down', async () => {
    const { code, out } = await check('good');
    expect(out).toContain('no dependency violations found');
    expect(code).toBe(0);
  });
});
