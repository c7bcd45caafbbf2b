#!/usr/bin/env node
// Builds the npm package pkg/ as wasm-pack.toml describes: a cargo build for
// wasm32 per feature set, then per target wasm-bindgen and wasm-opt, then the package
// assembled from pkg-template/. Usage: node scripts/build-pkg.mjs (npm run build).
// Needs what scripts/setup-wasm.sh installs; it never downloads anything.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { parse } from 'smol-toml';
import { schemaToDts } from './schema-to-dts.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const config = parse(fs.readFileSync(path.join(root, 'wasm-pack.toml'), 'utf8'));
const cargoToml = parse(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'));
const crate = cargoToml.package;
const started = Date.now();

function run(cmd, args, env = {}) {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  try {
    execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  } catch {
    fail(`${path.basename(cmd)} failed`);
  }
}

function output(cmd, args) {
  try {
    return execFileSync(cmd, args, { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

function fail(message) {
  console.error(`build-pkg: ${message}`);
  process.exit(1);
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

// The wasm-bindgen CLI must be the version of the crate in Cargo.lock, or
// its output does not match the crate's glue.
const lock = parse(fs.readFileSync(path.join(root, 'Cargo.lock'), 'utf8'));
const bindgenVersion = lock.package.find((p) => p.name === 'wasm-bindgen')?.version;
if (!bindgenVersion) fail('wasm-bindgen is not in Cargo.lock: is it a dependency for wasm32?');
const cliVersion = output('wasm-bindgen', ['--version']);
if (cliVersion !== `wasm-bindgen ${bindgenVersion}`) {
  fail(`need wasm-bindgen ${bindgenVersion} on PATH, found ${cliVersion ?? 'none'}: run scripts/setup-wasm.sh`);
}
const wasmOpt = path.join(root, 'node_modules', '.bin', 'wasm-opt');
if (config['wasm-opt'].enabled && !fs.existsSync(wasmOpt)) {
  fail('node_modules/.bin/wasm-opt is missing: run npm ci (binaryen@132.0.0)');
}

// 1. One cargo build per distinct feature set ([cargo].features plus the
//    target's own `features`), each wasm copied out before the next build.
const cargo = config.cargo;
const targetDir = path.resolve(root, cargo.target_dir);
const profileDir = cargo.profile === 'dev' ? 'debug' : cargo.profile;
const crateWasm = path.join(targetDir, cargo.target, profileDir, `${crate.name.replaceAll('-', '_')}.wasm`);
const envName = `CARGO_TARGET_${cargo.target.toUpperCase().replaceAll('-', '_')}_RUSTFLAGS`;
const featureSet = (target) => [...new Set([...cargo.features, ...(target.features ?? [])])].sort().join(',');
// A target's profile overrides: [cargo.profile-overrides], then its own.
const overrides = (target) => ({ ...(cargo['profile-overrides'] ?? {}), ...(target['profile-overrides'] ?? {}) });
// One build per distinct feature set and overrides.
const buildKey = (target) => JSON.stringify([featureSet(target), Object.entries(overrides(target)).sort()]);
const builtWasm = new Map(); // build key -> the crate's .wasm, copied
for (const target of config.targets) {
  const key = buildKey(target);
  if (builtWasm.has(key)) continue;
  const features = featureSet(target);
  const cargoArgs = ['build', '--lib', '--target', cargo.target, '--profile', cargo.profile];
  if (cargo.default_features === false) cargoArgs.push('--no-default-features');
  if (features) cargoArgs.push('--features', features);
  const extra = overrides(target);
  for (const [name, value] of Object.entries(extra)) {
    cargoArgs.push('--config', `profile.${cargo.profile}.${name}=${JSON.stringify(value)}`);
  }
  run('cargo', cargoArgs, { CARGO_TARGET_DIR: targetDir, [envName]: cargo.rustflags.join(' ') });
  const optName = `opt${extra['opt-level'] ?? ''}`;
  const copy = path.join(targetDir, `${crate.name}-${features.replaceAll(',', '+') || 'none'}-${optName}.wasm`);
  fs.copyFileSync(crateWasm, copy);
  builtWasm.set(key, copy);
}
const builtAt = Date.now();

// 2. Per target: bindings, optimisation, the template's files for it.
const pkg = config.package;
const outDir = path.resolve(root, pkg.out_dir);
const templateDir = path.resolve(root, pkg.template_dir);
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });

const substitutions = {
  '%VERSION%': crate.version,
  '%DESCRIPTION%': crate.description,
  '%REPOSITORY%': crate.repository,
};
function copyTemplate(from, to) {
  let text = fs.readFileSync(from, 'utf8');
  for (const [key, value] of Object.entries(substitutions)) text = text.replaceAll(key, value);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.writeFileSync(to, text);
  fs.chmodSync(to, fs.statSync(from).mode);
}
function copyTemplateDir(from, to) {
  for (const name of fs.readdirSync(from)) copyTemplate(path.join(from, name), path.join(to, name));
}

// wasm-bindgen writes the same .wasm for targets built with the same
// features (only the JS glue differs): optimise each distinct module once
// (wasm-opt takes ~40 s).
const sizes = [];
const optimised = new Map();
for (const target of config.targets) {
  const dir = path.join(outDir, target.out_dir);
  run('wasm-bindgen', ['--target', target.name, '--out-dir', dir, '--out-name', 'rootless_check', builtWasm.get(buildKey(target))]);
  const wasmFile = path.join(dir, 'rootless_check_bg.wasm');
  const raw = fs.readFileSync(wasmFile);
  // A target's `wasm-opt` flags replace [wasm-opt].flags.
  const flags = target['wasm-opt'] ?? config['wasm-opt'].flags;
  const key = `${flags.join(' ')}\n${raw.toString('base64')}`;
  if (!optimised.has(key)) {
    if (config['wasm-opt'].enabled) run(wasmOpt, [...flags, wasmFile, '-o', wasmFile]);
    optimised.set(key, fs.readFileSync(wasmFile));
  }
  const bytes = optimised.get(key);
  fs.writeFileSync(wasmFile, bytes);
  const gzipped = zlib.gzipSync(bytes, { level: 9 }).length;
  // Two targets may share a wasm-bindgen target (web, web-specs): say which.
  const label = target.out_dir === target.name ? target.name : `${target.name} (${target.out_dir})`;
  sizes.push({ target: label, raw: raw.length, optimised: bytes.length, gzipped, budget: target.budget !== false });
  copyTemplateDir(path.join(templateDir, target.template), dir);
}

// 3. The package's root: package.json, types (one per module kind, as
//    TypeScript's node16 resolution wants), README, LICENSE.
copyTemplate(path.join(templateDir, 'package.json'), path.join(outDir, 'package.json'));
copyTemplate(path.join(templateDir, 'README.md'), path.join(outDir, 'README.md'));
const schema = JSON.parse(fs.readFileSync(path.resolve(root, pkg.report_schema), 'utf8'));
substitutions['%REPORT_TYPES%'] = schemaToDts(schema).trimEnd();
for (const ext of ['d.cts', 'd.mts']) {
  copyTemplate(path.join(templateDir, 'index.d.ts'), path.join(outDir, `index.${ext}`));
}
const licence = path.join(root, pkg.license_file);
if (fs.existsSync(licence)) {
  fs.copyFileSync(licence, path.join(outDir, 'LICENSE'));
} else {
  fs.writeFileSync(
    path.join(outDir, 'LICENSE'),
    `MIT License\n\nCopyright (c) ${new Date().getFullYear()} rootless-check contributors\n\n` +
      'Permission is hereby granted, free of charge, to any person obtaining a copy of this software and ' +
      'associated documentation files (the "Software"), to deal in the Software without restriction, including ' +
      'without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell ' +
      'copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the ' +
      'following conditions:\n\nThe above copyright notice and this permission notice shall be included in all ' +
      'copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ' +
      'ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR ' +
      'A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ' +
      'ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, ' +
      'OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n',
  );
}

// 4. Sizes: the budget is on the gzipped .wasm (what a browser downloads).
console.log(`\nbuilt ${path.relative(root, outDir)}/ in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
  `(cargo ${((builtAt - started) / 1000).toFixed(1)} s)`);
let over = false;
for (const s of sizes) {
  console.log(`  ${s.target.padEnd(17)} .wasm ${kib(s.raw)} from wasm-bindgen, ${kib(s.optimised)} after wasm-opt, ` +
    `${kib(s.gzipped)} gzipped (${s.gzipped} bytes)${s.budget ? '' : ', not budgeted'}`);
  if (s.budget && s.gzipped > pkg.max_gzip_bytes) over = true;
}
if (over) {
  const message = `the .wasm is over the budget of ${pkg.max_gzip_bytes} bytes gzipped (wasm-pack.toml)`;
  if (pkg.enforce_budget) fail(message);
  console.warn(`build-pkg: warning: ${message}`);
}
