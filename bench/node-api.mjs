#!/usr/bin/env node
// The Node API on one archive (issue 4: "a 1 GB archive analysed through the
// Node API keeps the process's peak memory under 200 MB"; bench/run.sh runs
// it on every workload, W2 being the 1.25 GB one).
//
//   node bench/node-api.mjs FILE [--pkg DIR]
//
// Imports `analyze` from DIR/node/index.mjs (DIR: --pkg, else $BENCH_PKG_DIR,
// else pkg/ beside bench/), runs `await analyze(FILE)` once and prints one
// line: the elapsed seconds (the import, i.e. loading the wasm, excluded),
// the process's peak RSS (process.resourceUsage().maxRSS: the whole process,
// so the layer worker threads the package starts on big uncompressed
// archives are included) and the verdicts.
//
//   seconds=1.234 max_rss_mb=123.4 verdicts=pseudo-rootless

import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let file = null;
let pkg = process.env.BENCH_PKG_DIR || path.join(root, 'pkg');
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--pkg' && i + 1 < args.length) pkg = args[++i];
  else if (args[i].startsWith('--pkg=')) pkg = args[i].slice(6);
  else if (!args[i].startsWith('-') && file === null) file = args[i];
  else {
    console.error('usage: node bench/node-api.mjs FILE [--pkg DIR]');
    process.exit(2);
  }
}
if (file === null) {
  console.error('usage: node bench/node-api.mjs FILE [--pkg DIR]');
  process.exit(2);
}

const { analyze } = await import(pathToFileURL(path.resolve(pkg, 'node', 'index.mjs')).href);
const t0 = process.hrtime.bigint();
const report = await analyze(file);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const maxRss = process.resourceUsage().maxRSS; // KB
console.log(`seconds=${seconds.toFixed(3)} max_rss_mb=${(maxRss / 1024).toFixed(1)} ` +
  `verdicts=${report.images.map((i) => i.verdict).join(',')}`);
