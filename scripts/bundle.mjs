// Bundles the CLI into one CommonJS file (dist/app/udpkit.cjs). Start-up is something users
// feel on every `udpkit send`: Node's ESM loader costs about a millisecond per module, and a
// single ESM bundle would load every built-in any command imports. As CommonJS, each command's
// code, and the built-ins it needs, are only loaded when that command runs. The library
// (dist/index.js) is not bundled.
import { build } from 'esbuild';

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

await build({
  entryPoints: ['dist/cli/bin.js'],
  outfile: 'dist/app/udpkit.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  plugins: [lazyChildProcess],
  // The sources are ESM and locate files next to themselves with import.meta.url.
  define: { 'import.meta.url': '__udpkitUrl' },
  banner: { js: "const __udpkitUrl = require('node:url').pathToFileURL(__filename).href;" },
});
