// Bundles the CLI into CommonJS files in dist/app/: main.cjs (argument parsing and commander)
// and one file per command (send.cjs, listen.cjs...), which main.cjs requires only when that
// command runs; udpkit.cjs, the executable, is scripts/launcher.cjs, which runs them from V8's
// code cache. Start-up is something users feel on every `udpkit send`: Node's ESM
// loader costs about a millisecond per module, and V8 scans every byte of the file it runs
// (1.2 MB as one bundle, iconv-lite's tables for `chat` alone half of it) before running a line.
// Whitespace and comments are stripped for the same reason (and so that the source stays ASCII:
// one non-ASCII comment makes V8 hold and scan the whole file as two-byte text).
// The library (dist/index.js) is not bundled.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const APP = 'dist/app';

/** commander loads node:child_process up front for a feature we do not use (external commands). */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes('node_modules/commander') ? { path: 'child_process', namespace: 'lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};

/**
 * main.js loads each command with `import('./commands/NAME.js')`: in the entry bundle that becomes
 * `require('./NAME.cjs')`, the command's own bundle, so the entry carries none of their code.
 */
const commandsApart = {
  name: 'commands-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/[a-z-]+\.js$/ }, (args) =>
      args.importer.endsWith('/cli/main.js') ? { path: basename(args.path, '.js'), namespace: 'command' } : undefined,
    );
    b.onResolve({ filter: /^\.\/[a-z-]+\.cjs$/ }, (args) => (args.namespace === 'command' ? { path: args.path, external: true } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'command' }, (args) => ({
      contents: `module.exports = require('./${args.path}.cjs');`,
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  minifyWhitespace: true,
  minifySyntax: true,
  charset: 'ascii',
  // import('node:…') would start Node's ESM loader (milliseconds) just to get a built-in: require it.
  supported: { 'dynamic-import': false },
  plugins: [lazyChildProcess],
  // The sources are ESM and locate files next to themselves with import.meta.url; every bundle
  // sits in dist/app/, two levels below the package root like dist/native/ and dist/transport/.
  // Made when first asked for: most commands never ask.
  define: { 'import.meta.url': '__udpkitMeta.url' },
  banner: { js: "const __udpkitMeta = { get url() { return require('node:url').pathToFileURL(__filename).href; } };" },
};

// Whatever an earlier build left: bundles, caches, a cache half written (a fresh clone has no dist/app).
mkdirSync(APP, { recursive: true });
for (const f of readdirSync(APP, { withFileTypes: true })) if (f.isFile() && /\.cjs(\.v8cache.*)?$/.test(f.name)) rmSync(`${APP}/${f.name}`);

// The commands main.js loads; each bundle carries what its command imports (send-tcp.js goes with send).
const commands = [...readFileSync('dist/cli/main.js', 'utf8').matchAll(/import\('\.\/commands\/([a-z-]+)\.js'\)/g)].map((m) => m[1]);
await Promise.all([
  build({ ...common, entryPoints: ['dist/cli/bin.js'], outfile: `${APP}/main.cjs`, plugins: [lazyChildProcess, commandsApart] }),
  ...commands.map((name) => build({ ...common, entryPoints: [`dist/cli/commands/${name}.js`], outfile: `${APP}/${name}.cjs` })),
]);
// The web page's charts (the same renderers as `bench --plot`), one script the page loads as
// window.udpkitCharts; src/ui/server.ts serves it from here.
await build({
  entryPoints: ['dist/ui/charts-entry.js'],
  outfile: `${APP}/ui-charts.js`,
  bundle: true,
  platform: 'browser',
  format: 'iife',
  globalName: 'udpkitCharts',
  target: 'es2022',
  charset: 'ascii',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
// The launcher compiles main.cjs as a function body, where a #! line is a syntax error.
const main = readFileSync(`${APP}/main.cjs`, 'utf8');
if (main.startsWith('#!')) writeFileSync(`${APP}/main.cjs`, main.slice(main.indexOf('\n') + 1));
copyFileSync('scripts/launcher.cjs', `${APP}/udpkit.cjs`);
chmodSync(`${APP}/udpkit.cjs`, 0o755);

// A first run writes the code caches of main.cjs and send.cjs (see launcher.cjs), with what a
// plain `send` compiles: one datagram to the discard port on loopback. If it fails (no
// loopback in a build sandbox), the caches still hold what it compiled, and the next run adds none.
spawnSync(process.execPath, [`${APP}/udpkit.cjs`, 'send', '127.0.0.1:9', 'x', '-q'], { stdio: 'ignore', timeout: 20_000 });
