// The decompression budget (issue 16) in the npm package: the Node CLI stops
// the 16 GiB bomb fast with E_LIMIT and exit 2, as the native CLI does;
// --max-decompressed / maxDecompressed raise or lift the budget, through
// every way Node reads (a file, its layer workers, stdin, Node's own zlib
// for a file gzipped as a whole).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { nativeCli, pkgDir, requirePkg, runCli, tempDir } from './helpers.mjs';
import { services } from './services.mjs';
import { CHUNK, dockerSave, gzipBest, gzipBomb, header, sha256, zeroLayerParts, zeros } from './bomb.mjs';

const nodeCli = path.join(pkgDir, 'node', 'cli.cjs');
let dir;
let bomb;
let bombLayer;
let bombBlob;
before(() => {
  requirePkg();
  assert.ok(fs.existsSync(nativeCli), `no native CLI at ${nativeCli}: run cargo build --release or set NATIVE_CLI`);
  dir = tempDir('limits');
  const layer = gzipBomb(16 * 2 ** 30);
  bombBlob = layer;
  bombLayer = `${sha256(layer)}/layer.tar`;
  bomb = path.join(dir, 'bomb.tar');
  fs.writeFileSync(bomb, dockerSave([layer]));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function timed(command, args, options) {
  const started = process.hrtime.bigint();
  const r = runCli(command, args, options);
  return { ...r, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

describe('the 16 GiB bomb', () => {
  test('the Node CLI stops it fast: E_LIMIT, exit 2, the native CLI\'s output', () => {
    assert.ok(fs.statSync(bomb).size < 17 << 20);
    const node = timed(process.execPath, [nodeCli, bomb]);
    const native = timed(nativeCli, [bomb]);
    // Whole, it took 20-22 s in the Node CLI (10.5 s for this bomb); 2 GiB
    // of zeros is about 1.7 s here.
    assert.ok(node.seconds < 8, `the Node CLI took ${node.seconds} s`);
    assert.equal(node.status, 2);
    assert.match(node.stderr, /^rootless-check: E_LIMIT: decompressing went past the budget of 2147483648 bytes/m);
    assert.ok(node.stderr.includes(`(entry "${bombLayer}")`), node.stderr);
    assert.equal(node.stdout, native.stdout);
    assert.equal(node.stderr, native.stderr);
    assert.equal(node.status, native.status);
  });

  test('JSON: the error names the layer and the figures; the report is partial', () => {
    const r = runCli(process.execPath, [nodeCli, '--format', 'json', bomb]);
    assert.equal(r.status, 2);
    const report = JSON.parse(r.stdout);
    assert.equal(report.partial, true);
    const [error] = report.errors;
    assert.equal(error.code, 'E_LIMIT');
    assert.equal(error.entry, bombLayer);
    assert.match(error.message, /2147483648 bytes decompressed in all, 2147483648 of them from this layer of \d+ bytes/);
    assert.equal(report.images[0].user.configured, '1000');
    assert.equal(report.images[0].layers[0].partial, true);
  });

  test('through stdin too', () => {
    const r = timed(process.execPath, [nodeCli, '-'], { input: fs.readFileSync(bomb) });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /E_LIMIT/);
    assert.ok(r.seconds < 8, `${r.seconds} s`);
  });
});

// A docker save of an uncompressed layer of `bytes` zeros, gzipped as a
// whole (manifest.json first, so that a stop inside the layer leaves a
// report).
function gzippedSave(bytes) {
  const { head, chunks, tail } = zeroLayerParts(bytes);
  const layerSize = head.length + chunks * CHUNK + tail.length;
  const manifest = Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: ['z:1'], Layers: ['l/layer.tar'] }]));
  const config = Buffer.from(JSON.stringify({ config: { User: '1000' }, rootfs: { diff_ids: [] } }));
  const pad = (n) => Buffer.alloc((512 - (n % 512)) % 512);
  const member = (name, data) => Buffer.concat([header(name, data.length), data, pad(data.length)]);
  return Buffer.concat([
    gzipBest(Buffer.concat([member('c.json', config), member('manifest.json', manifest), header('l/layer.tar', layerSize), head])),
    ...Array(chunks).fill(zeros()),
    gzipBest(Buffer.concat([tail, pad(layerSize), Buffer.alloc(1024)])),
  ]);
}

describe('an AbortSignal stops the bomb mid-layer', () => {
  test('the API rejects with the AbortError promptly', async (t) => {
    const { analyze } = await import(path.join(pkgDir, 'node', 'index.mjs'));
    const controller = new AbortController();
    let abortedAt;
    // Abort a second after the layer's first bytes were read (by the
    // planning, then its worker, which starts in well under that): the
    // budget lifted, decoding it whole takes 10 s and more.
    const onProgress = (p) => {
      if (p.layer === bombLayer && abortedAt === undefined) {
        // Timed from when the abort is due: a thread kept busy would run the timer late.
        abortedAt = performance.now() + 1000;
        setTimeout(() => controller.abort(), 1000);
      }
    };
    const started = performance.now();
    await assert.rejects(
      analyze(bomb, { maxDecompressed: 'none', signal: controller.signal, onProgress }),
      (err) => err.name === 'AbortError',
    );
    assert.ok(abortedAt, 'the layer was never read');
    const latency = performance.now() - abortedAt;
    t.diagnostic(`rejected ${latency.toFixed(1)} ms after abort() was due, ${(performance.now() - started).toFixed(0)} ms in all`);
    // Measured at 1 to 2 ms; generous for a loaded machine.
    assert.ok(latency < 2000, `${latency} ms`);
  });

  test('gzipped as a whole, decoded on two threads or on one, and bytes in memory: in a worker, stopped as promptly', async (t) => {
    const { analyze } = await import(path.join(pkgDir, 'node', 'index.mjs'));
    // 16 GiB of zeros in the layer, about 16 MB in all.
    const whole = path.join(dir, 'bomb.tar.gz');
    fs.writeFileSync(whole, gzippedSave(16 * 2 ** 30));
    for (const [what, source, extra] of [
      ['two threads', whole, { gunzipMinBytes: 0 }],
      ['one thread', whole, { gunzipMinBytes: Infinity }],
      ['bytes', fs.readFileSync(whole), {}],
    ]) {
      const controller = new AbortController();
      let abortedAt;
      const onProgress = (p) => {
        if (p.layer === 'l/layer.tar' && abortedAt === undefined) {
          abortedAt = performance.now() + 1000;
          setTimeout(() => controller.abort(), 1000);
        }
      };
      const options = { ...extra, maxDecompressed: 'none', signal: controller.signal, onProgress };
      await assert.rejects(analyze(source, options), (err) => err.name === 'AbortError', what);
      assert.ok(abortedAt, `${what}: the layer was never read`);
      const latency = performance.now() - abortedAt;
      t.diagnostic(`${what}: rejected ${latency.toFixed(1)} ms after abort() was due`);
      assert.ok(latency < 2000, `${what}: ${latency} ms`);
    }
    // Without a signal, the same file on this thread, and a report (the default budget).
    const report = await analyze(whole, { maxDecompressed: 64 << 20, onProgress: () => {} });
    assert.equal(report.errors[0].code, 'E_LIMIT');
    // With one that never aborts: the report of the worker, the same.
    const remote = await analyze(whole, { maxDecompressed: 64 << 20, signal: new AbortController().signal });
    assert.deepEqual(remote, report);
    // Every method of the analysis, through the worker: check()'s outputs.
    const { check } = await import(path.join(pkgDir, 'node', 'index.mjs'));
    const checked = { maxDecompressed: 64 << 20, ignore: ['setuid-root'], format: 'markdown', failOn: 'low' };
    assert.deepEqual(await check(whole, { ...checked, signal: new AbortController().signal }), await check(whole, checked));
    await assert.rejects(check(whole, { ...checked, format: 'nope', signal: new AbortController().signal }), { code: 'E_USAGE' });
  });
});

describe('raising or lifting the budget', () => {
  let small;
  let gzipped;
  before(() => {
    // 256 MiB of zeros in a gzip layer, and a second layer (two layers:
    // the layer workers share the budget).
    small = path.join(dir, 'small.tar');
    fs.writeFileSync(small, dockerSave([gzipBomb(256 << 20), gzipBomb(128 << 20)]));
    // Below gunzipMinBytes: decoded on one thread, as natively.
    gzipped = path.join(dir, 'whole.tar.gz');
    fs.writeFileSync(gzipped, gzippedSave(256 << 20));
  });

  // [options, exit status on small.tar (384 MiB decoded), on whole.tar.gz (256 MiB)]
  for (const [args, smallStatus, gzippedStatus] of [
    [[], 1, 1],
    [['--max-decompressed', '100M'], 2, 2],
    [['--max-decompressed=300M'], 2, 1],
    [['--max-decompressed', '1G'], 1, 1],
    [['--max-decompressed', 'none'], 1, 1],
  ]) {
    test(`rootless-check ${args.join(' ')}: exit ${smallStatus} and ${gzippedStatus}, as the native CLI`, () => {
      for (const [file, status] of [[small, smallStatus], [gzipped, gzippedStatus]]) {
        const node = runCli(process.execPath, [nodeCli, ...args, '--format', 'json', file]);
        const native = runCli(nativeCli, [...args, '--format', 'json', file]);
        assert.equal(node.status, status, `${file}: ${node.stderr}`);
        assert.equal(native.status, status, `${file}: ${native.stderr}`);
        for (const r of [node, native]) {
          assert.equal(JSON.parse(r.stdout).errors[0]?.code, status === 2 ? 'E_LIMIT' : undefined, file);
        }
        // The same report, unless the budget stopped layers decompressed at
        // once (the native CLI's threads): which of them it stops then
        // depends on their pace. Stopped, the bytes read of a file gzipped
        // as a whole depend on how the reader buffers it.
        if (status !== 2) {
          assert.equal(node.stdout, native.stdout);
          assert.equal(node.stderr, native.stderr);
        } else if (file === gzipped) {
          const [a, b] = [JSON.parse(node.stdout), JSON.parse(native.stdout)];
          delete a.input.bytesRead;
          delete b.input.bytesRead;
          assert.deepEqual(a, b);
          assert.equal(node.stderr, native.stderr);
        }
      }
    });
  }

  test('a bad size is a usage error', () => {
    for (const cli of [[process.execPath, nodeCli], [nativeCli]]) {
      const r = runCli(cli[0], [...cli.slice(1), '--max-decompressed', 'lots', small]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^rootless-check: E_USAGE: invalid size "lots"/);
    }
  });

  test('the API: maxDecompressed in bytes or none, with and without layer workers, and bytes in memory', async () => {
    const { analyze } = await import(path.join(pkgDir, 'node', 'index.mjs'));
    for (const parallelMinBytes of [0, 2 ** 40]) {
      const limited = await analyze(small, { maxDecompressed: 300 * 2 ** 20, parallelMinBytes });
      assert.equal(limited.partial, true);
      assert.equal(limited.errors[0].code, 'E_LIMIT');
      assert.match(limited.errors[0].message, /the budget of 314572800 bytes \(--max-decompressed\)/);
      const whole = await analyze(small, { maxDecompressed: 'none', parallelMinBytes });
      assert.equal(whole.partial, false);
    }
    const bytes = fs.readFileSync(small);
    assert.equal((await analyze(bytes, { maxDecompressed: 2 ** 20 })).errors[0].code, 'E_LIMIT');
    assert.equal((await analyze(bytes)).partial, false);
    // Node's zlib reading the gzipped archive (gunzipMinBytes 0): stopped the same.
    const piped = await analyze(gzipped, { maxDecompressed: 100 * 2 ** 20, gunzipMinBytes: 0 });
    assert.equal(piped.errors[0].code, 'E_LIMIT');
    assert.match(piped.errors[0].message, /^decompressing the archive went past the budget of 104857600 bytes/);
    await assert.rejects(analyze(small, { maxDecompressed: 'lots' }), { code: 'E_USAGE' });
    await assert.rejects(analyze(small, { maxDecompressed: -1 }), { code: 'E_USAGE' });
  });

  test("decoded on two threads, stopped at the budget: its report is kept, the sequential decoder does not decode it all again", async () => {
    const require = createRequire(import.meta.url);
    const core = require(path.join(pkgDir, 'node', 'core.cjs'));
    const { analyzeGzipFile } = require(path.join(pkgDir, 'node', 'gunzip-pipe.cjs'));
    const max = 100 * 2 ** 20;
    const fd = fs.openSync(gzipped, 'r');
    let piped;
    try {
      const analysis = await analyzeGzipFile(core.wasm, fd, fs.fstatSync(fd).size, { blockSize: 1 << 20, maxDecompressed: max });
      assert.ok(analysis, 'analyzeGzipFile gave up: the file would be decoded again');
      piped = JSON.parse(analysis.json());
      analysis.free();
    } finally {
      fs.closeSync(fd);
    }
    // The wasm's own decoder: the same error, figures and report.
    const wasmOnly = JSON.parse((await core.analyzeWithOutputs(gzipped, { maxDecompressed: max, gunzipMinBytes: Infinity })).json);
    assert.equal(piped.errors[0].code, 'E_LIMIT');
    assert.equal(
      piped.errors[0].message,
      `decompressing the archive went past the budget of ${max} bytes (--max-decompressed): ${max} bytes decompressed; --max-decompressed raises the budget or lifts it (none)`,
    );
    delete piped.input.bytesRead;
    delete wasmOnly.input.bytesRead;
    assert.deepEqual(piped, wasmOnly);
  });
});

// An OCI image of gzip layer blobs (`layer`, then `more`): its config and
// manifest, each as { digest, bytes } (the layers: { digest, bytes, size };
// `layer` is the first).
function ociImage(layer, ...more) {
  const blob = (bytes) => ({ digest: `sha256:${sha256(bytes)}`, bytes, size: bytes.length });
  const config = blob(Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { User: '1000' },
    rootfs: { type: 'layers', diff_ids: [] },
  })));
  const layers = [layer, ...more].map(blob);
  const manifest = blob(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
  })));
  return { config, layer: layers[0], layers, manifest };
}

// Push `image` (ociImage's) to the registry at `host` as `repo:tag` with the
// Distribution API (a monolithic upload per blob), Basic auth.
async function push(host, user, password, repo, tag, image) {
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  for (const b of [image.config, ...image.layers]) {
    const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { authorization: auth } });
    assert.equal(start.status, 202, `upload start: ${start.status}`);
    const location = new URL(start.headers.get('location'), `http://${host}`);
    location.searchParams.set('digest', b.digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { authorization: auth, 'content-type': 'application/octet-stream' },
      body: b.bytes,
    });
    assert.equal(put.status, 201, `blob put: ${put.status}`);
  }
  const put = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { authorization: auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: image.manifest.bytes,
  });
  assert.equal(put.status, 201, `manifest put: ${put.status}`);
}

// The same image as an OCI layout directory.
function writeLayout(at, image) {
  fs.mkdirSync(path.join(at, 'blobs', 'sha256'), { recursive: true });
  fs.writeFileSync(path.join(at, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  for (const b of [image.config, image.layer, image.manifest]) {
    fs.writeFileSync(path.join(at, 'blobs', 'sha256', b.digest.slice('sha256:'.length)), b.bytes);
  }
  const m = image.manifest;
  fs.writeFileSync(path.join(at, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: m.digest, size: m.size }],
  }));
}

describe('registry and layout layers are under the budget too', () => {
  // A 3 GiB layer of zeros, about 3 MB gzipped: past the default budget
  // (2 GiB: 100 times 3 MB is less).
  let image;
  let layout;
  let registry;
  before(async () => {
    image = ociImage(gzipBomb(3 * 2 ** 30));
    layout = path.join(dir, 'layout');
    writeLayout(layout, image);
    const env = await services();
    const { host, user, password, authfile } = env.registryBasic;
    await push(host, user, password, 'limits/bomb', 'latest', image);
    await push(host, user, password, 'limits/bomb16', 'latest', ociImage(bombBlob));
    const three = ociImage(gzipBomb(64 << 20), gzipBomb(128 << 20), gzipBomb(192 << 20));
    await push(host, user, password, 'limits/three', 'latest', three);
    registry = { source: `docker://${host}/limits/bomb:latest`, args: ['--tls-verify=false', '--authfile', authfile], authfile };
  });

  const layerName = () => `blobs/sha256/${image.layer.digest.slice('sha256:'.length)}`;

  for (const kind of ['registry', 'layout']) {
    test(`${kind}: the Node CLI stops the bomb with E_LIMIT naming the layer, as the native CLI`, () => {
      const args = kind === 'registry' ? [...registry.args, registry.source] : [`oci:${layout}`];
      const node = timed(process.execPath, [nodeCli, '--format', 'json', ...args]);
      const native = runCli(nativeCli, ['--format', 'json', ...args]);
      assert.equal(node.status, 2, node.stderr);
      const report = JSON.parse(node.stdout);
      assert.equal(report.partial, true);
      const [error] = report.errors;
      assert.equal(error.code, 'E_LIMIT');
      assert.equal(error.entry, layerName());
      assert.equal(
        error.message,
        `decompressing went past the budget of 2147483648 bytes (the larger of 2147483648 bytes and 100 times the ${image.layer.size} bytes of the input): 2147483648 bytes decompressed in all, 2147483648 of them from this layer of ${image.layer.size} bytes; --max-decompressed raises the budget or lifts it (none)`,
      );
      assert.equal(node.stderr, native.stderr);
      assert.deepEqual(report, JSON.parse(native.stdout));
      // Decoding 2 GiB of zeros takes about 2 s here; the whole 3 GiB would be 3.
      assert.ok(node.seconds < 8, `${node.seconds} s`);
    });
  }

  test('registry layers decoded at once share the budget: together they never pass it, as natively', async () => {
    // Three layers of 64, 128 and 192 MiB against 256 MiB: each fits alone, not together.
    const source = registry.source.replace('/limits/bomb:', '/limits/three:');
    const { analyze } = await import(path.join(pkgDir, 'node', 'index.mjs'));
    const report = await analyze(source, { tlsVerify: false, authfile: registry.authfile, maxDecompressed: 256 * 2 ** 20 });
    const native = JSON.parse(runCli(nativeCli, ['--format', 'json', '--max-decompressed', '256M', ...registry.args, source]).stdout);
    for (const r of [report, native]) {
      assert.equal(r.partial, true);
      assert.equal(r.errors[0].code, 'E_LIMIT');
      assert.match(r.errors[0].message, /^decompressing went past the budget of 268435456 bytes \(--max-decompressed\): 268435456 bytes decompressed in all, \d+ of them from this layer/);
    }
  });

  test('the API: maxDecompressed for a registry and a layout (and checked for the daemon)', async () => {
    const { analyze } = await import(path.join(pkgDir, 'node', 'index.mjs'));
    const options = { tlsVerify: false, authfile: registry.authfile };
    for (const source of [registry.source, `oci:${layout}`]) {
      const limited = await analyze(source, { ...options, maxDecompressed: 64 * 2 ** 20 });
      assert.equal(limited.errors[0].code, 'E_LIMIT', source);
      assert.match(limited.errors[0].message, /^decompressing went past the budget of 67108864 bytes \(--max-decompressed\): 67108864 bytes decompressed in all/);
      assert.equal(limited.images[0].user.configured, '1000');
      await assert.rejects(analyze(source, { ...options, maxDecompressed: 'lots' }), { code: 'E_USAGE' });
    }
    // Before any connection: it was ignored there.
    await assert.rejects(analyze('docker-daemon:x:1', { maxDecompressed: 'lots' }), { code: 'E_USAGE' });
  });

  test('an AbortSignal stops a registry layer being decoded promptly (the 16 GiB one, budget lifted)', async (t) => {
    const { analyze } = await import(path.join(pkgDir, 'node', 'index.mjs'));
    const source = registry.source.replace('/limits/bomb:', '/limits/bomb16:');
    const controller = new AbortController();
    let abortedAt;
    // A second after its first bytes came: the worker is decoding it by then.
    const onProgress = (p) => {
      if (p.layer && p.layer.startsWith('blobs/') && abortedAt === undefined) {
        // Timed from when the abort is due: a thread kept busy would run the timer late.
        abortedAt = performance.now() + 1000;
        setTimeout(() => controller.abort(), 1000);
      }
    };
    const options = { tlsVerify: false, authfile: registry.authfile, maxDecompressed: 'none', signal: controller.signal, onProgress };
    await assert.rejects(analyze(source, options), (err) => err.name === 'AbortError');
    assert.ok(abortedAt, 'the layer was never read');
    const latency = performance.now() - abortedAt;
    t.diagnostic(`rejected ${latency.toFixed(1)} ms after abort() was due`);
    assert.ok(latency < 2000, `${latency} ms`);
  });
});
