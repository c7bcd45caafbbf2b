// analyze() behaviour that the packaging test does not cover: progress,
// abort, the error object's fields, and the web and bundler glue loading the
// optimised .wasm of their folders.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fixtureFiles, nativeCli, pkgDir, requirePkg, runCli, tempDir } from './helpers.mjs';

let api;
before(async () => {
  requirePkg();
  api = await import(pathToFileURL(path.join(pkgDir, 'node', 'index.mjs')));
});

const largest = () =>
  fixtureFiles()
    .map((f) => [f, fs.statSync(f).size])
    .sort((a, b) => b[1] - a[1])[0][0];

test('onProgress reports big blocks, up to the size; skipped contents are not read', async () => {
  const file = fixtureFiles().find((f) => f.endsWith('deb12-hardened.oci-archive.tar'));
  const size = fs.statSync(file).size;
  const seen = [];
  const report = await api.analyze(file, { onProgress: (p) => seen.push(p) });
  // Blocks of 1 MiB (core.cjs's DEFAULT_BLOCK), and a smaller fetch after
  // each skip: a few dozen reads for the 30 MB file, never one an entry.
  assert.ok(seen.length > 0 && seen.length < 2 * Math.ceil(size / (1 << 20)), `${seen.length} reads`);
  for (const p of seen) assert.equal(p.totalBytes, size);
  assert.ok(seen.at(-1).bytesRead <= size);
  assert.ok(report.input.bytesRead > 0);
});

test('an aborted signal rejects with its reason, before and during the analysis', async () => {
  const file = largest();
  const before = new AbortController();
  before.abort();
  await assert.rejects(api.analyze(file, { signal: before.signal }), { name: 'AbortError' });

  const during = new AbortController();
  const reason = new Error('stop');
  await assert.rejects(
    api.analyze(file, { signal: during.signal, blockSize: 1 << 20, onProgress: () => during.abort(reason) }),
    (e) => e === reason,
  );
  // The wasm is still usable afterwards.
  const report = await api.analyze(file);
  assert.equal(report.schemaVersion, 1);
});

test('errors are Error objects with the code, and the message of the native CLI line', async () => {
  const dir = tempDir('api');
  try {
    const junk = path.join(dir, 'junk.zip');
    fs.writeFileSync(junk, 'PK\x03\x04 not a tar');
    const err = await api.analyze(junk).then(
      () => assert.fail('resolved'),
      (e) => e,
    );
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'E_NOT_ARCHIVE');
    // The native CLI prints exactly `rootless-check: CODE: message`.
    const native = runCli(nativeCli, [junk]);
    assert.equal(native.stderr, `rootless-check: ${err.code}: ${err.message}\n`);
    await assert.rejects(api.analyze(junk, { ignore: ['no-such-rule'] }), { code: 'E_NOT_ARCHIVE' });
    const file = fixtureFiles().find((f) => f.endsWith('bb-filecap.docker-archive.tar'));
    await assert.rejects(api.analyze(file, { ignore: ['no-such-rule'] }), { code: 'E_USAGE' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ignore moves findings to suppressed', async () => {
  const file = fixtureFiles().find((f) => f.endsWith('bb-filecap.docker-archive.tar'));
  const plain = await api.analyze(file);
  const finding = plain.images[0].findings[0];
  assert.ok(finding, 'the fixture has a finding');
  const ignored = await api.analyze(file, { ignore: [finding.rule] });
  assert.ok(ignored.images[0].suppressed.some((f) => f.rule === finding.rule));
  assert.ok(!ignored.images[0].findings.some((f) => f.rule === finding.rule));
});

test('the web glue and its .wasm load (initSync), and give the same report', async () => {
  const web = await import(pathToFileURL(path.join(pkgDir, 'web', 'rootless_check.js')));
  web.initSync({ module: fs.readFileSync(path.join(pkgDir, 'web', 'rootless_check_bg.wasm')) });
  const file = fixtureFiles().find((f) => f.endsWith('bb-filecap.oci-archive.tar'));
  const bytes = fs.readFileSync(file);
  assert.deepEqual(JSON.parse(web.analyzeBytes(bytes).json()), await api.analyze(file));
  assert.equal(web.version(), api.version());
});

test('the bundler glue and its .wasm load as ES modules (node --experimental-wasm-modules)', () => {
  const file = fixtureFiles().find((f) => f.endsWith('bb-filecap.oci-archive.tar'));
  const script = `import * as m from ${JSON.stringify(pathToFileURL(path.join(pkgDir, 'bundler', 'rootless_check.js')).href)};
import fs from 'node:fs';
process.stdout.write(m.analyzeBytes(fs.readFileSync(process.argv[1])).json());`;
  const r = runCli(process.execPath, ['--experimental-wasm-modules', '--input-type=module', '-e', script, file]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).schemaVersion, 1);
});

test('analyzeWithOutputs gives the report with its JSON and SARIF texts, as the native CLI writes them', async () => {
  const file = fixtureFiles().find((f) => f.endsWith('bb-filecap.docker-archive.tar'));
  const seen = [];
  const out = await api.analyzeWithOutputs(file, { blockSize: 1 << 20, onProgress: (p) => seen.push(p) });
  assert.deepEqual(Object.keys(out).sort(), ['json', 'report', 'sarif']);
  assert.equal(out.json, runCli(nativeCli, ['--format', 'json', file]).stdout);
  assert.deepEqual(JSON.parse(out.sarif), JSON.parse(runCli(nativeCli, ['--format', 'sarif', file]).stdout));
  assert.deepEqual(out.report, await api.analyze(file));
  // `layer`, when given, is a member name of the archive.
  assert.ok(seen.length > 0);
  for (const p of seen) assert.ok(p.layer === undefined || typeof p.layer === 'string', JSON.stringify(p));
  // Ignores apply to all three.
  const rule = out.report.images[0].findings[0].rule;
  const ignored = await api.analyzeWithOutputs(file, { ignore: [rule] });
  assert.ok(ignored.report.images[0].suppressed.some((f) => f.rule === rule));
  assert.deepEqual(JSON.parse(ignored.json), ignored.report);
  await assert.rejects(api.analyzeWithOutputs('/nonexistent/image.tar'), { code: 'E_IO' });
});
