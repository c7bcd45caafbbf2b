// The browser entry (pkg/web) in headless Chromium: a Blob is analysed in
// the package's Web Worker through FileReaderSync and streams, and gives the native
// report. Skipped, saying so, when Chromium (apt: chromium) or playwright-core
// (npm ci) is missing; CHROMIUM overrides the browser's path.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { fixtureFiles, fixturesDir, nativeCli, pkgDir, requirePkg, root, runCli, tempDir } from './helpers.mjs';

import { fileIn, launch, missing, serve } from './chromium.mjs';
import { BROKEN_STREAMS, gzipCases } from './gzip-cases.mjs';

const PAGE = `<!doctype html><meta charset="utf-8"><title>rootless-check</title>
<script type="module">
import { analyze, version } from '/pkg/web/index.js';
window.analyzeUrl = async (url, { blockSize, abortAfterFirstBlock, parallelMinBytes, gunzipMinBytes, maxDecompressed } = {}) => {
  const blob = await (await fetch(url)).blob();
  const controller = new AbortController();
  let blocks = 0;
  const onProgress = () => {
    blocks++;
    if (abortAfterFirstBlock) controller.abort();
  };
  try {
    const report = await analyze(blob, { blockSize, onProgress, signal: controller.signal, parallelMinBytes, gunzipMinBytes, maxDecompressed });
    return { report, blocks, version: version() };
  } catch (e) {
    return { error: { name: e.name, code: e.code, message: e.message, isError: e instanceof Error } };
  }
};
// Several archives held against a run spec (options: k8s, specName, …).
window.analyzeWithSpec = async (urls, options) => {
  const blobs = await Promise.all(urls.map(async (u) => (await fetch(u)).blob()));
  try {
    return { report: await analyze(blobs, options) };
  } catch (e) {
    return { error: { code: e.code, message: e.message, line: e.line, column: e.column, file: e.file } };
  }
};
// The stream build's two halves alone (JSPI): gunzipStream inflates the
// gzip file at \`url\`, analyzeStream walks the tar at \`url\` as a pipe. Every
// other read and write answers with a Promise, so that the wasm both
// suspends and does not.
const stream = () => import('/pkg/web-stream/rootless_check.js').then(async (glue) => {
  await glue.default();
  return glue;
});
const hex = async (bytes) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
const pipe = (bytes, most) => {
  let at = 0;
  let calls = 0;
  return (offset, length, layer, into) => {
    if (offset !== at) throw new Error(\`read at \${offset}, not \${at}\`);
    const n = Math.min(length, most, bytes.length - at);
    const give = () => {
      into.set(bytes.subarray(at, at + n));
      at += n;
      return n;
    };
    return ++calls % 2 === 0 ? give() : new Promise((resolve) => setTimeout(() => resolve(give()), 0));
  };
};
window.inflateUrl = async (url) => {
  const glue = await stream();
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const parts = [];
  let writes = 0;
  const write = (view) => {
    parts.push(view.slice());
    return ++writes % 2 === 0 ? undefined : Promise.resolve();
  };
  try {
    const used = await glue.gunzipStream(pipe(bytes, 100000), write);
    return { used, sha256: await hex(await new Blob(parts).arrayBuffer()) };
  } catch (e) {
    return { error: String(e && (e.message || e)) };
  }
};
window.walkUrl = async (url, gzipSize) => {
  const glue = await stream();
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const analysis = await glue.analyzeStream(pipe(bytes, 70000), 1 << 20, false, gzipSize, undefined);
  try {
    return JSON.parse(analysis.json());
  } finally {
    analysis.free();
  }
};
window.ready = true;
</script>`;

/**
 * `out` (what window.analyzeUrl gave) is the native CLI's answer `native`
 * (runCli's result): its report, or its error line ("rootless-check: CODE: message").
 */
function assertNativeAnswer(out, native, what) {
  if (native.stdout) {
    assert.ok(!out.error, `${what}: ${JSON.stringify(out.error)}`);
    assert.deepEqual(out.report, JSON.parse(native.stdout), what);
  } else {
    assert.ok(out.error, `${what}: no error`);
    assert.equal(`rootless-check: ${out.error.code}: ${out.error.message}`, native.stderr.split('\n')[0], what);
  }
}

describe('in headless Chromium', { skip: missing || false }, () => {
  let server;
  let base;
  let context;
  let page;
  let profile;
  const served = new Map();
  // The paths the page asked for, in order.
  const requests = [];

  before(async () => {
    requirePkg();
    ({ base, server } = await serve((pathname) => {
      requests.push(pathname);
      if (pathname === '/') return { body: PAGE, type: 'text/html' };
      if (pathname.startsWith('/pkg/')) return fileIn(pkgDir, pathname.slice(4));
      if (pathname.startsWith('/fixture/')) return served.get(pathname.slice(9)) || null;
      return null;
    }));
    profile = tempDir('chromium');
    context = await launch(profile);
    page = await context.newPage();
    await page.goto(`${base}/`);
    await page.waitForFunction(() => window.ready === true);
  });

  after(async () => {
    if (context) await context.close();
    if (server) server.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  const fixtureUrl = (file) => {
    const name = path.basename(file);
    served.set(name, file);
    return `/fixture/${name}`;
  };

  for (const suffix of ['bb-filecap.docker-archive.tar', 'bb-alpinelike.docker-archive.tar.gz',
    'wagoodman+dive__test-oci-zstd-image.tar']) {
    test(`${suffix}: the worker's report is the native one`, async () => {
      const file = fixtureFiles().find((f) => f.endsWith(suffix));
      const out = await page.evaluate(([url]) => window.analyzeUrl(url, { blockSize: 1 << 20 }), [fixtureUrl(file)]);
      assert.ok(!out.error, JSON.stringify(out.error));
      const native = JSON.parse(runCli(nativeCli, ['--format', 'json', file]).stdout);
      assert.deepEqual(out.report, native);
      assert.ok(out.blocks >= 1);
      assert.equal(out.version, native.tool.version);
    });
  }

  test('layer workers (forced on small archives) give the native report', async (t) => {
    const cpus = await page.evaluate(() => navigator.hardwareConcurrency);
    if (cpus < 2) return t.skip(`Chromium reports ${cpus} CPU: no layer workers`);
    const files = fixtureFiles().filter((f) => !f.endsWith('.gz')).slice(0, 6);
    for (const file of files) {
      const out = await page.evaluate(([url]) => window.analyzeUrl(url, { blockSize: 1 << 20, parallelMinBytes: 0 }),
        [fixtureUrl(file)]);
      assert.ok(!out.error, `${path.basename(file)}: ${JSON.stringify(out.error)}`);
      const native = JSON.parse(runCli(nativeCli, ['--format', 'json', file]).stdout);
      assert.deepEqual(out.report, native, path.basename(file));
    }
  });

  test('a Kubernetes spec over several archives, layer workers on the spec build too: the native report', async () => {
    const spec = path.join(root, 'tests/runs/manifests.yaml');
    const names = ['bb.docker20-save.tar', 'bb-suid-wh.docker20-save.tar'];
    const files = names.map((n) => path.join(fixturesDir, 'built', n));
    const k8s = fs.readFileSync(spec, 'utf8');
    const native = JSON.parse(runCli(nativeCli, ['--k8s', 'tests/runs/manifests.yaml', '--format', 'json', ...files], { cwd: root }).stdout);
    // Blobs have no name: the native CLI's warning names the second source by its path.
    native.warnings = native.warnings.map((w) => w.replace(files[1], 'source 2'));
    for (const parallelMinBytes of [undefined, 0]) {
      const out = await page.evaluate(([urls, text, p]) => window.analyzeWithSpec(urls, { k8s: text, specName: 'tests/runs/manifests.yaml', parallelMinBytes: p }),
        [files.map(fixtureUrl), k8s, parallelMinBytes]);
      assert.ok(!out.error, JSON.stringify(out.error));
      assert.deepEqual(out.report, native, `parallelMinBytes ${parallelMinBytes}`);
    }
    const bad = await page.evaluate(([urls]) => window.analyzeWithSpec(urls, { compose: 'services:\n  a:\n    user: x\n    user: y\n', specName: 'c.yml' }),
      [files.slice(0, 1).map(fixtureUrl)]);
    assert.deepEqual(bad.error && [bad.error.code, bad.error.file, bad.error.line, bad.error.column], ['E_BAD_SPEC', 'c.yml', 4, 5]);
  });

  // Uncompressed and gzip layers are read through streams, a window at a
  // time (at most blockSize, and never under 64 KiB): with the smallest
  // window, the walk stops and goes on many times per layer, skips big files
  // by starting new streams (gunzips on, in a gzip layer), and meets the end
  // of the file inside a layer when cut.
  test('layers read through streams in small windows give the native report, whole and cut', async (t) => {
    const dir = tempDir('cut');
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const files = fixtureFiles().filter((f) => !f.endsWith('.gz'));
    let cuts = 0;
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      const cut = path.join(dir, path.basename(file));
      fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.8)));
      for (const input of [file, cut]) {
        const native = runCli(nativeCli, ['--format', 'json', input]);
        if (input !== file) cuts += native.stdout ? 1 : 0;
        for (const parallelMinBytes of [undefined, 0]) {
          const out = await page.evaluate(([url, p]) => window.analyzeUrl(url, { blockSize: 65536, parallelMinBytes: p }),
            [fixtureUrl(input), parallelMinBytes]);
          assertNativeAnswer(out, native, `${path.basename(input)}, parallelMinBytes ${parallelMinBytes}`);
        }
      }
    }
    assert.ok(cuts > 0, 'no cut archive gave a (partial) report');
  });

  // A file gzipped as a whole is read through with FileReaderSync in the
  // worker's default blocks (8 MiB: the 28 MB archive takes four): whole,
  // cut, or with bytes flipped mid-stream, the native report or error line.
  test('files gzipped as a whole, whole, cut or corrupt, in default blocks: the native report or error', async (t) => {
    const dir = tempDir('gz');
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const files = fixtureFiles().filter((f) => f.endsWith('.gz'));
    assert.ok(files.some((f) => fs.statSync(f).size > 16 << 20), 'no gzip fixture of several blocks');
    let errors = 0;
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      const cut = path.join(dir, `cut-${path.basename(file)}`);
      fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const corrupt = path.join(dir, `corrupt-${path.basename(file)}`);
      const flipped = Buffer.from(bytes);
      const at = Math.floor(bytes.length / 2);
      for (let i = at; i < at + 64; i++) flipped[i] ^= 0xff;
      fs.writeFileSync(corrupt, flipped);
      for (const input of [file, cut, corrupt]) {
        const native = runCli(nativeCli, ['--format', 'json', input]);
        const out = await page.evaluate(([url]) => window.analyzeUrl(url), [fixtureUrl(input)]);
        assertNativeAnswer(out, native, path.basename(input));
        errors += out.error || out.report.errors.length > 0 ? 1 : 0;
      }
    }
    assert.ok(errors >= files.length, 'the cut and corrupt files gave too few errors');
  });

  // A gzip file inflated by a worker of its own while the analysis walks it
  // (gunzipMinBytes: 0 takes that way for small files too), where Chromium
  // has JSPI: the native report or error on every gzip fixture and on
  // streams broken every way, which the sequential decoder judges again.
  test('gzip files on two workers: the native report or error, whole or broken', async (t) => {
    if (!(await page.evaluate(() => typeof WebAssembly.Suspending === 'function'))) return t.skip('no JSPI in this Chromium');
    const dir = tempDir('gz2');
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const inputs = fixtureFiles().filter((f) => f.endsWith('.gz'));
    for (const [name, bytes] of Object.entries(gzipCases(fs.readFileSync(inputs[0])))) {
      inputs.push(path.join(dir, `${name.replaceAll(' ', '-')}.tar.gz`));
      fs.writeFileSync(inputs.at(-1), bytes);
    }
    const before = requests.length;
    for (const input of inputs) {
      const native = runCli(nativeCli, ['--format', 'json', input]);
      for (const blockSize of [undefined, 4096]) {
        const out = await page.evaluate(([url, b]) => window.analyzeUrl(url, { gunzipMinBytes: 0, blockSize: b }), [fixtureUrl(input), blockSize]);
        assertNativeAnswer(out, native, `${path.basename(input)}, blockSize ${blockSize}`);
      }
    }
    assert.ok(requests.slice(before).includes('/pkg/web-stream/rootless_check_bg.wasm'), 'the stream build was not fetched');
  });

  // The two halves of that way, alone: gunzipStream gives the bytes of
  // every sound stream and gives up on every broken one (its CRC and size
  // checked); analyzeStream's report of the decoded tar is the native one.
  test('the stream build: gunzipStream takes sound streams only; analyzeStream walks a pipe that waits', async (t) => {
    if (!(await page.evaluate(() => typeof WebAssembly.Suspending === 'function'))) return t.skip('no JSPI in this Chromium');
    const dir = tempDir('gz-halves');
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const good = fixtureFiles().find((f) => f.endsWith('.docker-archive.tar.gz'));
    const cases = { whole: fs.readFileSync(good), ...gzipCases(fs.readFileSync(good)) };
    const gaveUp = [];
    for (const [name, bytes] of Object.entries(cases)) {
      const file = path.join(dir, `${name.replaceAll(' ', '-')}.gz`);
      fs.writeFileSync(file, bytes);
      const out = await page.evaluate(([url]) => window.inflateUrl(url), [fixtureUrl(file)]);
      if (out.error || out.used !== bytes.length) {
        gaveUp.push(name);
        continue;
      }
      // Every member's bytes, in order: what zlib makes of the whole stream.
      assert.equal(out.sha256, crypto.createHash('sha256').update(zlib.gunzipSync(bytes)).digest('hex'), name);
    }
    assert.deepEqual(gaveUp.sort(), [...BROKEN_STREAMS].sort());

    const tarFile = path.join(dir, 'decoded.tar');
    fs.writeFileSync(tarFile, zlib.gunzipSync(cases.whole));
    const report = await page.evaluate(([url, size]) => window.walkUrl(url, size), [fixtureUrl(tarFile), cases.whole.length]);
    assert.deepEqual(report, JSON.parse(runCli(nativeCli, ['--format', 'json', good]).stdout));
  });

  test('maxDecompressed: the budget stops the decoders of the worker and its layer workers', async () => {
    // Two gzip layers, 6.1 MB decoded.
    const file = fixtureFiles().find((f) => f.endsWith('bb-filecap.oci-archive.tar'));
    const native = JSON.parse(runCli(nativeCli, ['--format', 'json', file]).stdout);
    const run = (options) => page.evaluate(([url, o]) => window.analyzeUrl(url, o), [fixtureUrl(file), options]);
    for (const parallelMinBytes of [undefined, 0]) {
      const limited = await run({ parallelMinBytes, maxDecompressed: 1 << 20 });
      assert.ok(!limited.error, JSON.stringify(limited.error));
      assert.equal(limited.report.partial, true);
      assert.equal(limited.report.errors[0].code, 'E_LIMIT');
      assert.match(limited.report.errors[0].message, /budget of 1048576 bytes/);
      assert.deepEqual((await run({ parallelMinBytes, maxDecompressed: 'none' })).report, native);
      assert.deepEqual((await run({ parallelMinBytes, maxDecompressed: 8 << 20 })).report, native);
    }
    assert.equal((await run({ maxDecompressed: 'lots' })).error.code, 'E_USAGE');
  });

  // Cut at the header of their manifest.json / index.json: the images put
  // together from their configs (the kaniko archive's gzip layers digested
  // by the layer workers to place them).
  test('archives cut before their manifest give the native partial report', async (t) => {
    const dir = tempDir('cut-manifest');
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    for (const suffix of ['bb-suid-wh.docker20-save.tar', 'wagoodman+dive__test-kaniko-image.tar',
      'bb-filecap.oci-archive.tar', 'bb-opaque.docker26-save.tar']) {
      const bytes = fs.readFileSync(fixtureFiles().find((f) => f.endsWith(suffix)));
      let at = 0;
      while (!['manifest.json', 'index.json'].includes(bytes.subarray(at, at + 100).toString('latin1').replace(/\0.*$/s, ''))) {
        at += 512 + Math.ceil(parseInt(bytes.subarray(at + 124, at + 136).toString('latin1'), 8) / 512) * 512;
      }
      const cut = path.join(dir, suffix);
      fs.writeFileSync(cut, bytes.subarray(0, at));
      const native = JSON.parse(runCli(nativeCli, ['--format', 'json', cut]).stdout);
      assert.equal(native.partial, true);
      for (const parallelMinBytes of [undefined, 0]) {
        const out = await page.evaluate(([url, p]) => window.analyzeUrl(url, { blockSize: 65536, parallelMinBytes: p }),
          [fixtureUrl(cut), parallelMinBytes]);
        assert.ok(!out.error, `${suffix}: ${JSON.stringify(out.error)}`);
        assert.deepEqual(out.report, native, `${suffix}, parallelMinBytes ${parallelMinBytes}`);
      }
    }
  });

  test('errors cross from the worker as Error objects with the code', async () => {
    const dir = tempDir('junk');
    try {
      const junk = path.join(dir, 'junk.bin');
      fs.writeFileSync(junk, 'PK\x03\x04 not a tar');
      const out = await page.evaluate(([url]) => window.analyzeUrl(url), [fixtureUrl(junk)]);
      assert.deepEqual([out.error.isError, out.error.code], [true, 'E_NOT_ARCHIVE']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('aborting terminates the worker and rejects with AbortError', async () => {
    const file = fixtureFiles().find((f) => f.endsWith('deb12-hardened.oci-archive.tar'));
    const out = await page.evaluate(([url]) => window.analyzeUrl(url, { blockSize: 1 << 20, abortAfterFirstBlock: true }),
      [fixtureUrl(file)]);
    assert.equal(out.error && out.error.name, 'AbortError');
  });
});
