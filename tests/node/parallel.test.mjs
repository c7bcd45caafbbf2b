// The layers of a seekable uncompressed archive are summarised by worker
// threads (pkg/node/layer-pool.cjs) when they are big. The fixtures are
// small, so these tests lower the threshold to use the workers on every
// fixture and check that the report is the one of a single pass.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import { fixtureFiles, pkgDir, requirePkg } from './helpers.mjs';

let wasm;
let scanLayers;
before(() => {
  requirePkg();
  const require = createRequire(import.meta.url);
  wasm = require(path.join(pkgDir, 'node', 'core.cjs')).wasm;
  scanLayers = require(path.join(pkgDir, 'node', 'layer-pool.cjs')).scanLayers;
});

/** The report of `file` through plan + worker threads + finish. */
async function parallelReport(file, options = {}) {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const read = (offset, length, layer, into) => fs.readSync(fd, into, 0, length, offset);
    const pending = wasm.planCallback(read, size, 1 << 20);
    const layers = pending.deferredLayers().map(([name, offset, length]) => ({ name, offset, size: length }));
    let scanned;
    try {
      scanned = await scanLayers(fd, layers, { blockSize: 1 << 20, totalBytes: size, wasm, threads: 2, minParallelBytes: 0, ...options });
    } catch (err) {
      pending.free();
      throw err;
    }
    for (const { name, summary } of scanned) pending.addLayer(name, summary);
    const analysis = pending.finish();
    pending.free();
    try {
      return { json: analysis.json(), layers: layers.length };
    } finally {
      analysis.free();
    }
  } finally {
    fs.closeSync(fd);
  }
}

function sequentialReport(file) {
  const bytes = fs.readFileSync(file);
  const analysis = wasm.analyzeBytes(bytes, false);
  try {
    return analysis.json();
  } finally {
    analysis.free();
  }
}

test('worker threads give the report of a single pass, on every fixture', async () => {
  let deferred = 0;
  for (const file of fixtureFiles()) {
    const expected = sequentialReport(file);
    // Workers alone; with the calling thread taking layers too; with more threads than layers.
    for (const options of [{ callingThread: false }, {}, { threads: 8 }]) {
      const { json, layers } = await parallelReport(file, options);
      assert.equal(json, expected, `${path.basename(file)} ${JSON.stringify(options)}`);
      if (layers > 1 && options.threads === undefined && options.callingThread === false) deferred++;
    }
  }
  // Most fixtures are uncompressed archives whose layers are deferred.
  assert.ok(deferred >= 10, `${deferred} fixtures had several deferred layers`);
});

test('the API with worker threads, each summary added as it comes, gives the report of a single pass', async () => {
  const require = createRequire(import.meta.url);
  const { analyze } = require(path.join(pkgDir, 'node', 'index.cjs'));
  for (const file of fixtureFiles()) {
    const report = await analyze(file, { parallelMinBytes: 0 });
    assert.deepEqual(report, JSON.parse(sequentialReport(file)), path.basename(file));
  }
});

test('a summary its taker refuses stops the workers and rejects', async () => {
  const file = fixtureFiles()
    .filter((f) => !f.endsWith('.gz'))
    .map((f) => [f, fs.statSync(f).size])
    .sort((a, b) => b[1] - a[1])[0][0];
  const refusal = Object.assign(new Error('no, thanks'), { code: 'E_USAGE' });
  let taken = 0;
  for (const threads of [1, 2]) {
    taken = 0;
    await assert.rejects(
      parallelReport(file, {
        threads,
        onSummary: () => {
          taken++;
          throw refusal;
        },
      }),
      refusal,
    );
    assert.equal(taken, 1, `${threads} thread(s): no summary is taken after the refusal`);
  }
});

// The biggest fixture that is not gzipped as a whole: the most layers to spread.
function largestUncompressedFixture() {
  return fixtureFiles()
    .filter((f) => !f.endsWith('.gz'))
    .map((f) => [f, fs.statSync(f).size])
    .sort((a, b) => b[1] - a[1])[0][0];
}

test('progress from the workers adds up to the size; abort stops them', async () => {
  const file = largestUncompressedFixture();
  const size = fs.statSync(file).size;
  const seen = [];
  await parallelReport(file, { onProgress: (p) => seen.push(p), callingThread: false });
  assert.ok(seen.length > 0);
  assert.ok(seen.every((p) => p.totalBytes === size && p.bytesRead <= size));
  assert.ok(seen.some((p) => typeof p.layer === 'string' && p.layer.length > 0));

  const controller = new AbortController();
  await assert.rejects(
    parallelReport(file, { signal: controller.signal, onProgress: () => controller.abort() }),
    { name: 'AbortError' },
  );
});

test('a summary that is not one is refused with E_USAGE', () => {
  const file = fixtureFiles().find((f) => !f.endsWith('.gz'));
  const fd = fs.openSync(file, 'r');
  try {
    const read = (offset, length, layer, into) => fs.readSync(fd, into, 0, length, offset);
    const pending = wasm.planCallback(read, fs.fstatSync(fd).size, 1 << 20);
    const [name] = pending.deferredLayers()[0];
    assert.throws(() => pending.addLayer(name, new Uint8Array([1, 2, 3])), { code: 'E_USAGE' });
    assert.throws(() => pending.finish(), { code: 'E_USAGE' });
    pending.free();
  } finally {
    fs.closeSync(fd);
  }
});

test('workers started while the structure is read: progress through them, and stopped when the plan fails', async () => {
  const require = createRequire(import.meta.url);
  const { analyze } = require(path.join(pkgDir, 'node', 'index.cjs'));
  const file = largestUncompressedFixture();
  const size = fs.statSync(file).size;
  const seen = [];
  const report = await analyze(file, { parallelMinBytes: 0, onProgress: (p) => seen.push(p) });
  assert.deepEqual(report, JSON.parse(sequentialReport(file)));
  assert.ok(seen.some((p) => typeof p.layer === 'string' && p.layer.length > 0), 'progress names the layers');
  assert.ok(seen.every((p) => p.totalBytes === size && p.bytesRead <= size));

  // Not an archive: the error of a single pass, and the process ends (no
  // worker left running).
  const junk = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'prestart-')), 'junk.tar');
  fs.writeFileSync(junk, Buffer.alloc(1 << 20, 0x41));
  let expected;
  try {
    wasm.analyzeBytes(fs.readFileSync(junk), false).free();
  } catch (err) {
    expected = `${err.code}: ${err.message}`;
  }
  assert.ok(expected, 'the junk file is refused');
  const script = `const { analyze } = require(${JSON.stringify(path.join(pkgDir, 'node', 'index.cjs'))});
analyze(${JSON.stringify(junk)}, { parallelMinBytes: 0 }).then(() => console.log('no error'), (e) => console.log(e.code + ': ' + e.message));`;
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30000 });
  assert.equal(out.trim(), expected);
});
