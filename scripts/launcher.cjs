#!/usr/bin/env node
'use strict';
// The `udpkit` executable (copied to dist/app/udpkit.cjs by scripts/bundle.mjs). It runs the
// bundles next to it, main.cjs and then the command's own (send.cjs...), through V8's code
// cache: compiling them is most of what udpkit adds to Node's own start-up (about 7 ms of 15
// for `udpkit send`), and Node 20 keeps no compile cache for user code (module.enableCompileCache
// came in Node 22).
//
// A bundle's cache, NAME.cjs.v8cache, holds the bundle's own bytes and then V8's data. It is used
// only when those bytes are the bundle's bytes exactly: V8 itself checks no more than the
// source's length (and its own version and flags). When a bundle has no usable cache, one is
// written at exit, after the run compiled the functions it needed (a cache made right after
// compiling would hold the top-level code only): the build makes them with a first run, and a
// new Node version remakes them the same way. The cache is written only next to the bundle,
// where whoever may change the bundle already may write, never in a shared directory. Where it
// cannot be written (an install owned by root, a copy in a read-only place) udpkit runs as it
// would without one.
const { readFileSync, renameSync, unlinkSync, writeFileSync } = require('node:fs');
const { createRequire, wrap } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

const CACHE = '.v8cache';
/** Bytes before the bundle's copy in a cache file: its length, to compare before the bytes. */
const HEADER = 4;
/** How a bundle names another one: `require('./send.cjs')`. */
const SIBLING = /^\.\/[a-z][a-z-]*\.cjs$/;

const modules = new Map();
/** Bundles compiled without a usable cache, whose cache is written at exit. */
const uncached = [];

/** The cached V8 data for `source` in `file`'s cache, if it was made from these very bytes. */
function cachedDataFor(file, source) {
  let cache;
  try {
    cache = readFileSync(file + CACHE);
  } catch {
    return undefined;
  }
  if (cache.length <= HEADER + source.length || cache.readUInt32LE(0) !== source.length) return undefined;
  return source.equals(cache.subarray(HEADER, HEADER + source.length)) ? cache.subarray(HEADER + source.length) : undefined;
}

/** Runs the bundle `file` once, as Node would run a CommonJS module, and returns its exports. */
function load(file) {
  const known = modules.get(file);
  if (known) return known.exports;
  const source = readFileSync(file);
  const cachedData = cachedDataFor(file, source);
  const script = new Script(wrap(source.toString()), { filename: file, ...(cachedData ? { cachedData } : {}) });
  if (!cachedData || script.cachedDataRejected) uncached.push({ file, source, script });
  const module = { exports: {}, filename: file, id: file, loaded: false };
  modules.set(file, module);
  const nodeRequire = createRequire(file);
  const require = (id) => (SIBLING.test(id) ? load(join(dirname(file), id)) : nodeRequire(id));
  script.runInThisContext().call(module.exports, module.exports, require, module, file, dirname(file));
  module.loaded = true;
  return module.exports;
}

/** Writes each new cache beside its bundle, whole or not at all (a rename), or gives up quietly. */
function writeCaches() {
  for (const { file, source, script } of uncached.splice(0)) {
    const temp = `${file}${CACHE}.${process.pid}`;
    try {
      const header = Buffer.alloc(HEADER);
      header.writeUInt32LE(source.length);
      writeFileSync(temp, Buffer.concat([header, source, script.createCachedData()]), { mode: 0o644 });
      renameSync(temp, file + CACHE);
    } catch {
      try {
        unlinkSync(temp);
      } catch {
        // Nothing was written.
      }
    }
  }
}

process.on('exit', () => {
  if (uncached.length > 0) writeCaches();
});
load(join(__dirname, 'main.cjs'));
