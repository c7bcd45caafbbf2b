// The packed package, installed into fresh CommonJS and ES module projects:
// analyze() on fixtures gives the native CLI's report, errors are real
// Error objects with a stable `code`, and the exports map resolves.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixtureFiles, installedProject, nativeCli, packPkg, root, runCli, tempDir } from './helpers.mjs';

// A few fixtures of different kinds: docker save, gzip around it, OCI with zstd layers.
const SAMPLE = [
  'built/bb-filecap.docker-archive.tar',
  'built/bb-alpinelike.docker-archive.tar.gz',
  'public/wagoodman+dive__test-oci-zstd-image.tar',
];

// What the consumer script does, in both module systems.
const BODY = `
const files = JSON.parse(process.argv[2]);
const out = { version: version(), reports: [], bytes: [], errors: [] };
for (const f of files) {
  out.reports.push(await analyze(f));
  out.bytes.push(await analyze(fs.readFileSync(f)));
}
const junk = path.join(os.tmpdir(), 'rootless-check-junk-' + process.pid);
fs.writeFileSync(junk, 'PK\\x03\\x04 this is not a tar');
for (const source of [junk, junk + '.missing', new Uint8Array(0), 42]) {
  try {
    await analyze(source);
    out.errors.push('resolved');
  } catch (e) {
    out.errors.push({ isError: e instanceof Error, code: e.code, message: e.message });
  }
}
fs.rmSync(junk);
process.stdout.write(JSON.stringify(out));
`;

const CONSUMERS = {
  commonjs: `const fs = require('node:fs'); const os = require('node:os'); const path = require('node:path');
const { analyze, version } = require('rootless-check');
(async () => {${BODY}})().catch((e) => { console.error(e); process.exit(1); });`,
  module: `import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import { analyze, version } from 'rootless-check';
${BODY}`,
};

// Compiles only if the declarations describe the report (not `any`).
const TYPES_CHECK = `import { analyze, analyzeWithOutputs, version, type Report, type RootlessCheckError } from 'rootless-check';
const pending: Promise<Report> = analyze('image.tar', { onProgress: (p) => p.bytesRead, ignore: ['setuid-root'] });
pending.then((report) => {
  const image = report.images[0];
  const verdict: 'root' | 'pseudo-rootless' | 'rootless' | 'unknown' = image.verdict;
  const uid: number | null = image.user.uid;
  const modes: string[] = image.setuidFiles.map((f) => f.mode);
  const code: string = report.errors[0].code;
  // @ts-expect-error: no such field
  image.noSuchField;
  return [verdict, uid, modes, code];
});
pending.catch((e: RootlessCheckError) => e.code === 'E_TRUNCATED');
const v: string = version();
analyzeWithOutputs(new Uint8Array(0), { onProgress: (p) => p.layer?.length }).then(({ report, json, sarif }) => {
  const texts: string[] = [json, sarif];
  return [report.schemaVersion, texts];
});
`;

let tarball;
before(() => {
  tarball = packPkg();
});
after(() => fs.rmSync(path.dirname(tarball), { recursive: true, force: true }));

test('the tarball holds the three targets, the page\'s run specs and stream wasms, types, README, LICENSE and the CLI', () => {
  const r = runCli('tar', ['-tzf', tarball]);
  const files = new Set(r.stdout.trim().split('\n'));
  for (const f of [
    'package/package.json', 'package/README.md', 'package/LICENSE',
    'package/index.d.cts', 'package/index.d.mts',
    'package/node/index.cjs', 'package/node/index.mjs', 'package/node/cli.cjs',
    'package/node/rootless_check_bg.wasm',
    'package/web/index.js', 'package/web/worker.js', 'package/web/rootless_check_bg.wasm',
    'package/bundler/index.js', 'package/bundler/worker.js', 'package/bundler/rootless_check_bg.wasm',
    // Fetched by the browser worker only for a run spec.
    'package/web-specs/rootless_check.js', 'package/web-specs/rootless_check_bg.wasm', 'package/web-specs/package.json',
    // Fetched by the browser worker only for a big gzip file, where it has JSPI.
    'package/web-stream/rootless_check.js', 'package/web-stream/rootless_check_bg.wasm', 'package/web-stream/package.json',
  ]) {
    assert.ok(files.has(f), `${f} missing from the tarball`);
  }
});

for (const [type, source] of Object.entries(CONSUMERS)) {
  describe(`installed in a fresh ${type} project`, () => {
    let dir;
    before(() => {
      dir = installedProject(tarball, type);
      fs.writeFileSync(path.join(dir, 'check.js'), source);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('analyze() gives the native report, from a path and from bytes; errors carry codes', () => {
      const all = fixtureFiles();
      const files = SAMPLE.map((s) => all.find((f) => f.endsWith(s)));
      assert.ok(files.every(Boolean), 'sample fixtures are listed in EXPECTED.json');
      const r = runCli(process.execPath, ['check.js', JSON.stringify(files)], { cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.match(out.version, /^\d+\.\d+\.\d+/);
      files.forEach((f, i) => {
        const native = runCli(nativeCli, ['--format', 'json', f]);
        assert.deepEqual(out.reports[i], JSON.parse(native.stdout), f);
        assert.deepEqual(out.bytes[i], out.reports[i], `${f} as bytes`);
      });
      const [junk, missing, empty, wrong] = out.errors;
      assert.deepEqual([junk.isError, junk.code], [true, 'E_NOT_ARCHIVE']);
      assert.match(junk.message, /zip/);
      assert.deepEqual([missing.isError, missing.code], [true, 'E_IO']);
      assert.equal(empty.code, 'E_NOT_ARCHIVE');
      assert.equal(wrong.code, 'E_USAGE');
    });

    test('the types compile against the report, under node16 resolution', (t) => {
      const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      if (!fs.existsSync(tsc)) return t.skip('typescript is not installed (npm ci)');
      fs.writeFileSync(path.join(dir, 'check-types.ts'), TYPES_CHECK);
      const r = runCli(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution',
        'node16', '--target', 'es2022', '--lib', 'es2022,dom', 'check-types.ts'], { cwd: dir });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    test('the rootless-check bin is installed', () => {
      const r = runCli(path.join(dir, 'node_modules', '.bin', 'rootless-check'), ['--version']);
      assert.equal(r.status, 0);
      assert.equal(r.stdout, runCli(nativeCli, ['--version']).stdout);
    });
  });
}

test('exports: every branch has types, and each file exists', () => {
  const dir = tempDir('exports');
  try {
    runCli('tar', ['-xzf', tarball, '-C', dir]);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package', 'package.json'), 'utf8'));
    const leaves = [];
    const walk = (node, trail) => {
      if (typeof node === 'string') return;
      if ('default' in node && typeof node.default === 'string') {
        assert.ok(node.types, `${trail} has no types`);
        leaves.push(node.types, node.default);
        return;
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${trail}.${k}`);
    };
    walk(pkg.exports['.'], 'exports');
    assert.ok(leaves.length >= 8);
    for (const f of leaves) assert.ok(fs.existsSync(path.join(dir, 'package', f)), f);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
