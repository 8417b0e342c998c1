/**
 * The launcher (dist/app/udpkit.cjs, scripts/launcher.cjs) runs the bundles from V8 code caches
 * it writes beside them. A cache must never run code the bundle no longer has, and a cache that
 * cannot be read or written must cost nothing but time. Each test runs a copy of dist/app.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

const APP = dirname(BIN);
const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
const dirs: string[] = [];
/** What `--version` adds under UDPKIT_NATIVE=0, as every run here has. */
const NATIVE_OFF = 'native: no (disabled by UDPKIT_NATIVE=0)\n';

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A copy of dist/app, with its caches or without. */
function copyApp(withCaches: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'udpkit-cache-'));
  dirs.push(dir);
  for (const f of readdirSync(APP)) if (withCaches || !f.endsWith('.v8cache')) copyFileSync(join(APP, f), join(dir, f));
  return dir;
}

function udpkit(dir: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(dir, 'udpkit.cjs'), ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, UDPKIT_NATIVE: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const inode = (path: string): number => statSync(path).ino;

describe('code cache', () => {
  it('the build leaves caches for main.cjs and send.cjs that hold their bundles\' bytes', () => {
    for (const name of ['main.cjs', 'send.cjs']) {
      const bundle = readFileSync(join(APP, name));
      const cache = readFileSync(join(APP, `${name}.v8cache`));
      expect(cache.readUInt32LE(0)).toBe(bundle.length);
      expect(cache.subarray(4, 4 + bundle.length).equals(bundle)).toBe(true);
      // Then V8's own data.
      expect(cache.length).toBeGreaterThan(4 + bundle.length + 1000);
    }
  });

  it('a first run writes the cache, whole; the next run uses it and does not write it again', () => {
    const dir = copyApp(false);
    expect(udpkit(dir, '--version')).toEqual({ code: 0, stdout: `${VERSION}\n${NATIVE_OFF}`, stderr: '' });
    const cache = join(dir, 'main.cjs.v8cache');
    const first = inode(cache);
    expect(readdirSync(dir).filter((f) => f.includes('.v8cache.'))).toEqual([]);
    expect(udpkit(dir, '--version')).toEqual({ code: 0, stdout: `${VERSION}\n${NATIVE_OFF}`, stderr: '' });
    // A rejected cache would have been replaced (a new file renamed over it).
    expect(inode(cache)).toBe(first);
  });

  it('a bundle changed after its cache was made runs as changed, and its cache is remade', () => {
    const dir = copyApp(true);
    const main = join(dir, 'main.cjs');
    const source = readFileSync(main, 'latin1');
    // The same length: V8 alone would take the old cache for this source and print the old version.
    const changed = source.replace(`"${VERSION}"`, `"${VERSION.replace(/\d/g, '9')}"`);
    expect(changed).not.toBe(source);
    expect(changed.length).toBe(source.length);
    writeFileSync(main, changed, 'latin1');
    expect(udpkit(dir, '--version')).toEqual({ code: 0, stdout: `${VERSION.replace(/\d/g, '9')}\n${NATIVE_OFF}`, stderr: '' });
    const cache = readFileSync(join(dir, 'main.cjs.v8cache'));
    expect(cache.subarray(4, 4 + source.length).toString('latin1')).toBe(changed);
  });

  it('a cache V8 refuses (garbage after the right bytes) is replaced, and the run is unaffected', () => {
    const dir = copyApp(true);
    const bundle = readFileSync(join(dir, 'send.cjs'));
    const header = Buffer.alloc(4);
    header.writeUInt32LE(bundle.length);
    const garbage = Buffer.alloc(5000, 0x5a);
    writeFileSync(join(dir, 'send.cjs.v8cache'), Buffer.concat([header, bundle, garbage]));
    expect(udpkit(dir, 'send', '127.0.0.1:9', '--count', '0')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'udpkit: --count must be a whole number from 1 to 9007199254740991, got "0"\nhint: see \'udpkit send --help\'\n',
    });
    const cache = readFileSync(join(dir, 'send.cjs.v8cache'));
    expect(cache.subarray(4 + bundle.length).equals(garbage)).toBe(false);
  });

  it('runs where a cache cannot be written, and leaves no temporary file', () => {
    const dir = copyApp(false);
    // A directory where the cache would go: it can be neither read nor renamed over (even by root).
    mkdirSync(join(dir, 'main.cjs.v8cache'));
    mkdirSync(join(dir, 'main.cjs.v8cache', 'x'));
    expect(udpkit(dir, '--version')).toEqual({ code: 0, stdout: `${VERSION}\n${NATIVE_OFF}`, stderr: '' });
    expect(readdirSync(dir).filter((f) => f.includes('.v8cache.'))).toEqual([]);
    expect(statSync(join(dir, 'main.cjs.v8cache')).isDirectory()).toBe(true);
  });
});
