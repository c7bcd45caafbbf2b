// Shared by the tests in this folder: where things are, and a fresh project
// with the packed package installed, the way a user would get it.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const pkgDir = path.join(root, 'pkg');
export const fixturesDir = path.resolve(root, process.env.ROOTLESS_CHECK_FIXTURES || '../shared/fixtures');
export const nativeCli = path.resolve(root, process.env.NATIVE_CLI || 'target/release/rootless-check');

/** Every fixture that EXPECTED.json lists, as absolute paths. */
export function fixtureFiles() {
  const expected = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'EXPECTED.json'), 'utf8'));
  return expected.map((e) => path.join(fixturesDir, e.file));
}

export function requirePkg() {
  if (!fs.existsSync(path.join(pkgDir, 'package.json'))) {
    throw new Error('pkg/ is not built: run `npm run build` first');
  }
}

const tempDirs = [];
process.on('exit', () => {
  for (const dir of tempDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // a folder something still holds: left behind, as the OS's temp
    }
  }
});

/** A fresh folder, removed with what it holds when the test file's process exits. */
export function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rootless-check-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** npm pack pkg/ into a temp dir; returns the tarball's path. */
export function packPkg() {
  requirePkg();
  const dir = tempDir('pack');
  const out = execFileSync('npm', ['pack', pkgDir, '--pack-destination', dir, '--json'], { encoding: 'utf8' });
  return path.join(dir, JSON.parse(out)[0].filename);
}

/** A fresh project of the given module type with the tarball installed offline. */
export function installedProject(tarball, type) {
  const dir = tempDir(type);
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: `consumer-${type}`, private: true, type, version: '0.0.0' }),
  );
  execFileSync('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'pipe' });
  return dir;
}

/** Run a CLI; returns { status, stdout, stderr } (stdout as a string). */
export function runCli(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...options });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
