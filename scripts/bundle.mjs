// Bundles the CLI into one file (dist/app/udpkit.js): Node's ESM loader costs about a
// millisecond per module, and start-up is something users feel on every `udpkit send`.
// Commands stay lazy: each is evaluated only when it runs. The library (dist/index.js) is not
// bundled.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/bin.js'],
  outfile: 'dist/app/udpkit.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // Bundled CommonJS dependencies (commander, ipaddr.js) call require() for Node's built-ins.
  banner: { js: "import { createRequire as __udpkitRequire } from 'node:module';\nconst require = __udpkitRequire(import.meta.url);" },
});
