// A big gzip file is inflated by the wasm on a worker thread, feeding the
// wasm's analysis on the calling thread through a shared ring, where Node's
// crc32 checks each member (pkg/node/gunzip-pipe.cjs); it is analysed again
// by the wasm's sequential decoder whenever the worker did not end cleanly,
// a member's CRC or size is wrong, or the report is partial. These tests
// check that both ways give the same answer on every gzip fixture and on
// broken gzip streams, that the fast way is really taken when the stream is
// sound, and that a tiny ring (every read waits, every write wraps) and
// more members than the shared records hold change nothing.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { before, test } from 'node:test';
import { fixtureFiles, pkgDir, requirePkg, tempDir } from './helpers.mjs';
import { BROKEN_STREAMS, gzipCases } from './gzip-cases.mjs';

let core;
let analyzeGzipFile;
before(() => {
  requirePkg();
  const require = createRequire(import.meta.url);
  core = require(path.join(pkgDir, 'node', 'core.cjs'));
  analyzeGzipFile = require(path.join(pkgDir, 'node', 'gunzip-pipe.cjs')).analyzeGzipFile;
});

const gzipFixtures = () => fixtureFiles().filter((f) => fs.readFileSync(f).subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])));

/** The API's answer for `file`: its JSON, or its error's code and message. */
async function answer(file, options) {
  try {
    const analysis = await core.run(file, options);
    try {
      return analysis.json();
    } finally {
      analysis.free();
    }
  } catch (err) {
    return `${err.code}: ${err.message}`;
  }
}

/** analyzeGzipFile alone: the report's JSON, or null when it gave up. */
async function fastWay(file, options = {}) {
  const fd = fs.openSync(file, 'r');
  try {
    const analysis = await analyzeGzipFile(core.wasm, fd, fs.fstatSync(fd).size, options);
    if (analysis === null) return null;
    try {
      return analysis.json();
    } finally {
      analysis.free();
    }
  } finally {
    fs.closeSync(fd);
  }
}

const WASM_ONLY = { gunzipMinBytes: Infinity };
const TWO_THREADS = { gunzipMinBytes: 0 };

test('every gzip fixture: two threads through the ring give the report of the sequential decoder', async () => {
  const files = gzipFixtures();
  assert.ok(files.length >= 5, `${files.length} gzip fixtures`);
  for (const file of files) {
    const expected = await answer(file, WASM_ONLY);
    assert.ok(expected.startsWith('{'), `${path.basename(file)}: ${expected.slice(0, 80)}`);
    assert.equal(await fastWay(file), expected, `${path.basename(file)}: the fast way`);
    assert.equal(await fastWay(file, { ringSize: 4096 }), expected, `${path.basename(file)}: a 4 KiB ring`);
    assert.equal(await answer(file, TWO_THREADS), expected, `${path.basename(file)}: through the API`);
  }
});

test('broken gzip streams: the sequential decoder has the last word', async () => {
  const dir = tempDir('gunzip-');
  const cases = gzipCases(fs.readFileSync(gzipFixtures()[0]));
  const gaveUp = [];
  for (const [name, bytes] of Object.entries(cases)) {
    const file = path.join(dir, `${name.replaceAll(' ', '-')}.tar.gz`);
    fs.writeFileSync(file, bytes);
    const expected = await answer(file, WASM_ONLY);
    if (name === 'a layer with a broken header') assert.match(expected, /"partial": true/);
    assert.equal(await answer(file, TWO_THREADS), expected, name);
    assert.equal(await answer(file, { ...TWO_THREADS, blockSize: 4096 }), expected, `${name}, 4 KiB blocks`);
    if ((await fastWay(file, { ringSize: 4096 })) === null) gaveUp.push(name);
  }
  // Each broken stream is left to the wasm's decoder, and so is a partial
  // report or an archive that is not one; a sound one is not.
  assert.deepEqual(gaveUp.sort(), [...BROKEN_STREAMS, 'a cut tar, whole gzip', 'a layer with a broken header', 'not a tar'].sort());
  assert.ok(Object.keys(cases).filter((c) => c.endsWith('members')).length === 2);
});

test('progress counts the file bytes; an abort stops the analysis and its worker', async () => {
  const file = gzipFixtures().map((f) => [f, fs.statSync(f).size]).sort((a, b) => b[1] - a[1])[0][0];
  const size = fs.statSync(file).size;
  const seen = [];
  await answer(file, { ...TWO_THREADS, onProgress: (p) => seen.push(p) });
  assert.ok(seen.length > 0);
  assert.ok(seen.every((p) => p.totalBytes === size && p.bytesRead <= size));
  assert.equal(seen.at(-1).bytesRead, size);

  const controller = new AbortController();
  await assert.rejects(
    core.run(file, { ...TWO_THREADS, ringSize: 4096, signal: controller.signal, onProgress: () => controller.abort() }),
    { name: 'AbortError' },
  );
});
