// Archives cut before their manifest (issue 16): every fixture cut at the
// header of its manifest.json / index.json gives, in the Node CLI and the
// API (with and without layer workers), the native CLI's partial report:
// the images put together from their configs and the layers before the cut.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { fixtureFiles, nativeCli, pkgDir, requirePkg, runCli, tempDir } from './helpers.mjs';

const nodeCli = path.join(pkgDir, 'node', 'cli.cjs');

// The header offset of the first top-level manifest.json or index.json of a
// tar, or undefined. Names here are short: the ustar name field is enough,
// but PAX and GNU long-name headers are stepped over.
function manifestOffset(tar) {
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return undefined;
    const name = header.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '').replace(/^\.\//, '');
    const size = parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    if (name === 'manifest.json' || name === 'index.json') return at;
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

let dir;
const cuts = [];
before(() => {
  requirePkg();
  assert.ok(fs.existsSync(nativeCli), `no native CLI at ${nativeCli}: run cargo build --release or set NATIVE_CLI`);
  dir = tempDir('cut');
  for (const file of fixtureFiles()) {
    let bytes = fs.readFileSync(file);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = zlib.gunzipSync(bytes);
    const at = manifestOffset(bytes);
    if (!at) continue;
    const cut = path.join(dir, path.basename(file).replace(/\.gz$/, ''));
    fs.writeFileSync(cut, bytes.subarray(0, at));
    cuts.push(cut);
  }
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('every fixture cut before its manifest', () => {
  test('the Node CLI gives the native CLI\'s partial report', () => {
    assert.ok(cuts.length >= 25, `${cuts.length} fixtures cut`);
    for (const cut of cuts) {
      const node = runCli(process.execPath, [nodeCli, '--format', 'json', cut]);
      const native = runCli(nativeCli, ['--format', 'json', cut]);
      const name = path.basename(cut);
      assert.equal(node.status, 2, `${name}: ${node.stderr}`);
      assert.equal(node.stdout, native.stdout, name);
      assert.equal(node.stderr, native.stderr, name);
      const report = JSON.parse(node.stdout);
      assert.equal(report.partial, true, name);
      assert.ok(report.images.length > 0, name);
      assert.deepEqual(report.errors.map((e) => e.code), ['E_TRUNCATED'], name);
      // Through standard input too.
      const piped = runCli(process.execPath, [nodeCli, '--format', 'json', '-'], { input: fs.readFileSync(cut) });
      assert.equal(piped.stdout.replace(/"bytesRead": \d+/, ''), node.stdout.replace(/"bytesRead": \d+/, ''), name);
    }
  });

  test('the API with layer workers gives the same report', async () => {
    const { analyze } = await import(path.join(pkgDir, 'node', 'index.mjs'));
    for (const cut of cuts) {
      const native = JSON.parse(runCli(nativeCli, ['--format', 'json', cut]).stdout);
      assert.deepEqual(await analyze(cut, { parallelMinBytes: 0 }), native, path.basename(cut));
    }
  });
});
