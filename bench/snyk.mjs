#!/usr/bin/env node
// The Node peer of bench/run.sh: snyk-docker-plugin (npm), the library the
// Snyk CLI uses to read an image archive, timed on the same file as the
// Node API. It is not a dependency of the project: install it under
// bench/work first (see bench/README.md):
//
//   npm install --prefix bench/work/snyk snyk-docker-plugin
//   node bench/snyk.mjs FILE [--type docker-archive|oci-archive] [--snyk DIR]
//
// --type: the prefix snyk's scan() takes (`docker-archive:FILE`,
// `oci-archive:FILE`); default docker-archive. --snyk: the --prefix folder it
// was installed into (default bench/work/snyk). Runs `await scan({path})` once
// and prints
//   seconds=… max_rss_mb=… results=N facts=TYPE,… os=… user=…
// (the scan alone, the import excluded; the facts of the first result, the
// OS it found and the config's User). On an error: `error=MESSAGE` on stdout
// and stderr, and exit 1. If the
// package is not installed: `not_measured=…` and exit 3. It makes no network
// request of its own for an archive; bench/run.sh runs it in a network
// namespace without a network (unshare -n) where it can, to show it.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let file = null;
let type = 'docker-archive';
let dir = path.join(root, 'bench/work/snyk');
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--type') type = args[++i];
  else if (args[i] === '--snyk') dir = path.resolve(args[++i]);
  else if (!file) file = args[i];
}
if (!file || !fs.existsSync(file) || !['docker-archive', 'oci-archive'].includes(type)) {
  console.error('usage: node bench/snyk.mjs FILE [--type docker-archive|oci-archive] [--snyk DIR]');
  process.exit(2);
}

const require = createRequire(path.join(dir, 'package.json'));
let plugin;
try {
  plugin = require('snyk-docker-plugin');
} catch {
  console.log(`not_measured=snyk-docker-plugin not installed (npm install --prefix ${path.relative(root, dir) || dir} snyk-docker-plugin)`);
  process.exit(3);
}

const started = process.hrtime.bigint();
let response;
try {
  response = await plugin.scan({ path: `${type}:${path.resolve(file)}` });
} catch (e) {
  const message = String(e && e.message ? e.message : e).replace(/\s+/g, ' ').slice(0, 300);
  console.log(`error=${message}`);
  console.error(`error=${message}`);
  process.exit(1);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const first = response.scanResults[0] || { facts: [] };
const fact = (name) => first.facts.find((f) => f.type === name);
const os = fact('imageOsReleasePrettyName')?.data ?? '-';
const user = fact('containerConfig')?.data?.user || '-';
console.log([
  `seconds=${seconds.toFixed(3)}`,
  `max_rss_mb=${(process.resourceUsage().maxRSS / 1024).toFixed(1)}`,
  `results=${response.scanResults.length}`,
  `facts=${first.facts.map((f) => f.type).join(',')}`,
  `os=${String(os).replace(/\s+/g, '_')}`,
  `user=${String(user).replace(/\s+/g, '_')}`,
].join(' '));
