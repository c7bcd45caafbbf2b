// The Node package under Bun and Deno: the CLI (`node/cli.cjs`, a file and
// standard input) writes what the native CLI writes and exits as it does,
// and the Node API, required (CJS) or imported (ESM), gives Node's report,
// with the worker-thread paths (gzip decoded in a worker, layers summarised
// in workers) forced on small fixtures too. Bun and Deno are devDependencies
// (the npm packages `bun` and `deno`, whose binaries come from the registry
// as @oven/bun-linux-x64 and @deno/linux-x64-glibc); each runtime is skipped,
// saying so, when its binary is missing or does not run.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fixturesDir, nativeCli, pkgDir, requirePkg, root, runCli, tempDir } from './helpers.mjs';

const bin = (name) => path.join(root, 'node_modules', '.bin', name);

// Deno needs read access (the package, the archive) and the environment
// (the CLI reads NO_COLOR, ROOTLESS_CHECK_* …); registries would need --allow-net.
const RUNTIMES = {
  Bun: [bin('bun')],
  Deno: [bin('deno'), 'run', '--allow-read', '--allow-env'],
};

/** Why `command` cannot be used here, or null. */
function unusable([command]) {
  if (!fs.existsSync(command)) return `${path.relative(root, command)} is missing (npm ci)`;
  const r = runCli(command, ['--version']);
  return r.status === 0 ? null : `${command} --version failed: ${r.stderr.trim()}`;
}

const FIXTURES = [
  'built/bb-filecap.docker-archive.tar', // docker save, setuid and a file capability: exit 1
  'built/deb12-minbase.docker20-save.tar.gz', // gzip as a whole, 28 MB: Node's zlib in a worker when forced
  'public/google+go-containerregistry__test_link.tar', // two images
  'built/bb-suid-wh.docker20-save.tar', // whiteouts, several layers: layer workers when forced
].map((f) => path.join(fixturesDir, f));
const UNCOMPRESSED = FIXTURES[3];
const FORCED = { gunzipMinBytes: 0, parallelMinBytes: 0 };

const API_CJS = `const { analyze } = require(process.argv[2]);
analyze(process.argv[3], JSON.parse(process.argv[4])).then(
  (report) => process.stdout.write(JSON.stringify(report)),
  (err) => { console.error(\`\${err.code}: \${err.message}\`); process.exit(3); });
`;
const API_MJS = `import process from 'node:process';
const { analyze } = await import(process.argv[2]);
process.stdout.write(JSON.stringify(await analyze(process.argv[3], JSON.parse(process.argv[4]))));
`;

describe('Bun and Deno', () => {
  let dir;
  let api;
  const nodeReports = new Map();

  before(async () => {
    requirePkg();
    assert.ok(fs.existsSync(nativeCli), `no native CLI at ${nativeCli}: cargo build --release`);
    dir = tempDir('runtimes');
    fs.writeFileSync(path.join(dir, 'api.cjs'), API_CJS);
    fs.writeFileSync(path.join(dir, 'api.mjs'), API_MJS);
    api = await import(pathToFileURL(path.join(pkgDir, 'node', 'index.mjs')));
    for (const file of FIXTURES) nodeReports.set(file, JSON.parse(JSON.stringify(await api.analyze(file))));
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, command] of Object.entries(RUNTIMES)) {
    describe(name, { skip: unusable(command) || false }, () => {
      const [exe, ...pre] = command;
      const cli = path.join(pkgDir, 'node', 'cli.cjs');

      for (const file of FIXTURES) {
        test(`the CLI on ${path.basename(file)}: the native CLI's text and JSON, and its exit status`, () => {
          for (const args of [[file], ['--format', 'json', file]]) {
            const native = runCli(nativeCli, args);
            const got = runCli(exe, [...pre, cli, ...args]);
            assert.equal(got.stderr, native.stderr, args.join(' '));
            assert.equal(got.stdout, native.stdout, args.join(' '));
            assert.equal(got.status, native.status, args.join(' '));
          }
        });
      }

      test('the CLI reads standard input (`-`)', () => {
        const file = FIXTURES[0];
        const native = runCli(nativeCli, ['--format', 'json', file]);
        const got = runCli(exe, [...pre, cli, '--format', 'json', '-'], { input: fs.readFileSync(file) });
        assert.equal(got.stdout, native.stdout);
        assert.equal(got.status, native.status);
      });

      for (const [kind, script, entry] of [['required (CJS)', 'api.cjs', path.join(pkgDir, 'node', 'index.cjs')],
        ['imported (ESM)', 'api.mjs', pathToFileURL(path.join(pkgDir, 'node', 'index.mjs')).href]]) {
        test(`the API, ${kind}: Node's report of each fixture`, () => {
          for (const file of FIXTURES) {
            const r = runCli(exe, [...pre, path.join(dir, script), entry, file, '{}']);
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(JSON.parse(r.stdout), nodeReports.get(file), path.basename(file));
          }
        });
      }

      // (Deno's worker threads do not share the main thread's file
      // descriptors: under Deno, layer-pool.cjs summarises the layers on the
      // calling thread. Its layer workers had failed with "E_IO: cannot read
      // the input: EBADF: bad file descriptor, read".)
      for (const file of [FIXTURES[1], UNCOMPRESSED]) {
        test(`the API with its worker threads forced on ${path.basename(file)}: Node's report`, () => {
          const r = runCli(exe, [...pre, path.join(dir, 'api.cjs'), path.join(pkgDir, 'node', 'index.cjs'), file,
            JSON.stringify(FORCED)]);
          assert.equal(r.status, 0, r.stderr);
          assert.deepEqual(JSON.parse(r.stdout), nodeReports.get(file), path.basename(file));
        });
      }
    });
  }
});
