// The layer rule of docs/ARCHITECTURE.md, checked by `npm run lint:layers` (part of `npm test`).
// Layers, lowest first; a file may import its own layer and any layer below it, never one above:
//   base (src/*.ts: errors, types, validate) <- protocol <- net, socket, native <- transport
//   <- format <- cli, ui
// src/index.ts is the public entry: it re-exports from every library layer and nothing imports it.
// net, socket and native are one layer (I/O primitives) and may use each other.

/** Folders (or base files) of each layer, lowest first. */
const LAYERS = [
  { name: 'protocol', path: '^src/protocol/' },
  { name: 'io', path: '^src/(net|socket|native)/' },
  { name: 'transport', path: '^src/transport/' },
  { name: 'format', path: '^src/format/' },
  { name: 'cli-ui', path: '^src/(cli|ui)/' },
];

/** One "forbidden" rule per layer: nothing from the layers above it. */
const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `no-upward-from-${layer.name}`,
  comment: `${layer.name} may import only its own layer and the layers below it (docs/ARCHITECTURE.md)`,
  severity: 'error',
  from: { path: layer.path },
  to: { path: LAYERS.slice(i + 1).map((above) => above.path) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'base-imports-only-base',
      comment: 'src/errors.ts, src/types.ts and src/validate.ts sit below every layer: they import only each other',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$', pathNot: '^src/index\\.ts$' },
      to: { path: '^src/[^/]+/' },
    },
    {
      name: 'nothing-imports-index',
      comment: 'src/index.ts is the public entry only; inside src/ import the module itself',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'protocol-is-pure',
      comment: 'protocol cores are sans-I/O: no sockets, files, timers, clock, name lookups or processes (STYLE.md rule 5)',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(dgram|net|fs|fs/promises|child_process|worker_threads|timers|timers/promises|perf_hooks|os|http|https|http2|tls|dns|dns/promises|cluster|process|readline)$',
      },
    },
    {
      name: 'no-circular',
      comment: 'an import cycle makes load order matter and hides which layer a file is in',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import the checker cannot resolve cannot be checked either',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type from a higher layer still couples the lower one to it.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
    exclude: { path: '^(node_modules|dist|build)/' },
  },
};
