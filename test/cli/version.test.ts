/**
 * `udpkit --version` says which path runs: `native: yes`, or `native: no (why)` so that an
 * install without the addon (npm 11 skips install scripts for global tarball installs) shows.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/cli/version.js';
import { nativeFailureReason } from '../../src/native/binding.js';
import { BIN } from '../helpers/cli.js';

const ROOT = join(dirname(BIN), '..', '..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function version(bin: string, native: string | undefined): { code: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  if (native === undefined) delete env['UDPKIT_NATIVE'];
  else env['UDPKIT_NATIVE'] = native;
  const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', timeout: 20_000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('udpkit --version', () => {
  it('is the version in package.json', () => {
    expect(VERSION).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('needs the Node.js that the README names, and runs on it', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const min = /^>=(\d+\.\d+)$/.exec(pkg.engines.node)?.[1];
    expect(min).toBeDefined();
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`Node.js ${min} or later (\`engines\` in package.json)`);
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const [needMajor = 0, needMinor = 0] = (min ?? '').split('.').map(Number);
    expect(major > needMajor || (major === needMajor && minor >= needMinor)).toBe(true);
  });

  it('with UDPKIT_NATIVE=0: native: no, and why', () => {
    expect(version(BIN, '0')).toEqual({ code: 0, stdout: `${VERSION}\nnative: no (disabled by UDPKIT_NATIVE=0)\n`, stderr: '' });
  });

  it('with the addon built here: native: yes', () => {
    // npm install builds it (CI installs a compiler); without a build this says so instead.
    const built = existsSync(join(ROOT, 'build', 'Release', 'udpkit_native.node'));
    const expected = built ? 'native: yes' : 'native: no (not built: npm skipped or failed its install script)';
    expect(version(BIN, undefined)).toEqual({ code: 0, stdout: `${VERSION}\n${expected}\n`, stderr: '' });
  });

  it('installed without its addon (a copy of dist/app with no build/ beside it): native: no (not built...)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpkit-version-'));
    dirs.push(dir);
    const app = join(dir, 'dist', 'app');
    mkdirSync(app, { recursive: true });
    for (const f of readdirSync(dirname(BIN))) if (!f.endsWith('.v8cache')) copyFileSync(join(dirname(BIN), f), join(app, f));
    expect(version(join(app, 'udpkit.cjs'), undefined)).toEqual({
      code: 0,
      stdout: `${VERSION}\nnative: no (not built: npm skipped or failed its install script)\n`,
      stderr: '',
    });
  });
});

describe('nativeFailureReason', () => {
  it('names an addon built for another Node.js, with both ABI numbers', () => {
    const err = new Error(
      "The module '/x/build/Release/udpkit_native.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 127. Please try re-compiling or re-installing\nthe module (for instance, using `npm rebuild` or `npm install`).",
    );
    expect(nativeFailureReason(err)).toBe('built for another Node.js (NODE_MODULE_VERSION 115, this one needs 127): run npm rebuild udpkit');
  });

  it('passes a stale build and other failures on in one line', () => {
    expect(nativeFailureReason(new Error('stale native build: abiVersion 3, want 4'))).toBe('stale native build: abiVersion 3, want 4');
    expect(nativeFailureReason(new Error('/x/udpkit_native.node: invalid ELF header\nmore'))).toBe('/x/udpkit_native.node: invalid ELF header');
    expect(nativeFailureReason(Object.assign(new Error("Cannot find module '/x/udpkit_native.node'"), { code: 'MODULE_NOT_FOUND' }))).toBe('not built: npm skipped or failed its install script');
  });
});
