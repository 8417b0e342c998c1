/**
 * What a user gets from `npm pack` then `npm install ./udpkit-0.1.0.tgz`: in a fresh project,
 * `import 'udpkit'` and `'udpkit/protocol'` must resolve (values and types), deep imports must
 * not, and the `udpkit` bin must run. No network: npm's cache here holds no copies of udpkit's
 * dependencies, so npm installs the tarball with `--offline` and is given those dependencies as
 * local directories from this checkout's node_modules (it links them). `--ignore-scripts`, as
 * when npm skips the install script: the bin must then say `native: no (not built...)`. Needs a
 * built dist/ (npm test builds first).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL, TOP_LEVEL } from '../helpers/public-names.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };

let dir = '';
let tarball = '';

const CHECK = `
const api = await import('udpkit');
const protocol = await import('udpkit/protocol');
let deep;
try { await import('udpkit/dist/net/routes.js'); deep = 'resolved'; } catch (err) { deep = err.code; }
console.log(JSON.stringify({ api: Object.keys(api).sort(), protocol: Object.keys(protocol).sort(), deep }));
`;

const CONSUMER_TS = `
import { listen, UdpkitError, type ListenOptions, type RefusalReason } from 'udpkit';
import { Sealer, type SealerOptions } from 'udpkit/protocol';
const options: ListenOptions = { port: 0, maxQueue: 16 };
const reason: RefusalReason = 'source';
export const used = [listen, UdpkitError, Sealer, options, reason] as const;
export type Used = SealerOptions;
`;

/** `names` and everything they depend on, as installed in this checkout. */
function closure(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep);
  };
  for (const name of names) visit(name);
  return [...seen];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'udpkit-pack-'));
  // --ignore-scripts: `prepare` would rebuild dist/ under the other tests' feet.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, timeout: 60_000 });
  tarball = join(dir, packed.stdout.trim().split('\n').pop() ?? '');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
  const deps = closure([...Object.keys(pkg.dependencies), '@types/node']).map((name) => join(ROOT, 'node_modules', name));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', ...deps, tarball], { cwd: dir, timeout: 120_000 });
  writeFileSync(join(dir, 'check.mjs'), CHECK);
  writeFileSync(join(dir, 'consumer.ts'), CONSUMER_TS);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['consumer.ts'] }),
  );
}, 180_000);

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('the packed tarball, installed in another project', () => {
  it('is named for the version and carries both entry points with their types, and no tests', async () => {
    expect(tarball.endsWith(`udpkit-${pkg.version}.tgz`)).toBe(true);
    const { stdout } = await run('tar', ['-tzf', tarball], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
    const files = stdout.split('\n');
    for (const f of ['package/package.json', 'package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/protocol/index.js', 'package/dist/protocol/index.d.ts', 'package/dist/app/udpkit.cjs']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('package/test/'))).toEqual([]);
  });

  it("resolves 'udpkit' and 'udpkit/protocol' to exactly the pinned names, and refuses deep imports", async () => {
    const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: dir, timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({ api: [...TOP_LEVEL].sort(), protocol: [...PROTOCOL].sort(), deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
  });

  it('type-checks a consumer that imports from both entry points (module nodenext)', async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, timeout: 90_000 }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (err: { code?: number; stdout?: string }) => ({ code: err.code, out: err.stdout ?? '' }),
    );
    expect(result).toEqual({ code: 0, out: '' });
  }, 120_000);

  it("installs the bin, which runs and says that npm skipped the native addon's build", async () => {
    const bin = join(dir, 'node_modules', '.bin', 'udpkit');
    expect(existsSync(bin)).toBe(true);
    const env = { ...process.env };
    delete env['UDPKIT_NATIVE'];
    const { stdout, stderr } = await run(bin, ['--version'], { cwd: dir, timeout: 30_000, env });
    expect({ stdout, stderr }).toEqual({ stdout: `${pkg.version}\nnative: no (not built: npm skipped or failed its install script)\n`, stderr: '' });
  });
});
