/**
 * What a user gets from `npm pack` then `npm install ./udpkit-0.1.0.tgz`: the tarball unpacked
 * as node_modules/udpkit in a fresh project, where `import 'udpkit'` and `'udpkit/protocol'`
 * must resolve (values and types) and deep imports must not. No network: npm's cache here holds
 * no copies of udpkit's dependencies, so `npm install --offline` cannot run; the test unpacks the
 * tarball as npm would and links the dependencies from this checkout's node_modules. Needs a
 * built dist/ (npm test builds first).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
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

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'udpkit-pack-'));
  // --ignore-scripts: `prepare` would rebuild dist/ under the other tests' feet.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, timeout: 60_000 });
  tarball = join(dir, packed.stdout.trim().split('\n').pop() ?? '');
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  await run('tar', ['-xzf', tarball, '-C', modules], { timeout: 30_000 });
  renameSync(join(modules, 'package'), join(modules, 'udpkit'));
  for (const name of [...Object.keys(pkg.dependencies), '@types/node']) {
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), join(modules, name), 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
  writeFileSync(join(dir, 'check.mjs'), CHECK);
  writeFileSync(join(dir, 'consumer.ts'), CONSUMER_TS);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['consumer.ts'] }),
  );
}, 120_000);

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
});
