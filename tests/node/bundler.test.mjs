// The packed package used as a web app would: installed into a fresh
// project, imported by a small app that analyses the File chosen in an
// <input type=file>, bundled, and loaded in headless Chromium from the
// bundler's output folder alone. By webpack 5 (through its Node API), once per
// branch of the package's exports: `browser` (what webpack picks for target
// web) and `default` (wasm-bindgen's bundler glue, with asyncWebAssembly); by
// esbuild and by Rollup (with @rollup/plugin-node-resolve), which take the
// `browser` branch and, as pkg-template/README.md says, need the worker, its
// glue and the .wasm copied beside the bundle (they do not emit the files
// named by `new URL(..., import.meta.url)`); and by Vite, which needs no
// configuration. The verdicts and findings the page shows are the native
// CLI's; the page requests nothing outside the output folder and logs no
// error. Each bundler is skipped, saying so, when it is missing (npm ci),
// and all when Chromium or playwright-core is (apt: chromium).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { fixtureFiles, installedProject, nativeCli, packPkg, root, runCli, tempDir } from './helpers.mjs';

import { fileIn, launch, missing as noChromium, serve } from './chromium.mjs';

const require = createRequire(path.join(root, 'package.json'));
/** A devDependency, or null when it is not installed (reported as the skip reason). */
async function optional(name) {
  try {
    return await import(pathToFileURL(require.resolve(name)));
  } catch {
    return null;
  }
}
const webpack = (await optional('webpack'))?.default;
const esbuild = await optional('esbuild');
const rollup = await optional('rollup');
const nodeResolve = (await optional('@rollup/plugin-node-resolve'))?.default;
const vite = await optional('vite');
const notInstalled = (name) => `${name} is not installed (npm ci)`;

// The user's app. `?parallelMinBytes=0` and `?gunzipMinBytes=0` (the test's
// knobs) start the layer workers, or the two gzip workers, on small archives
// too, as a big archive would.
const APP = `import { analyze } from 'rootless-check';

const input = document.querySelector('#image');
const list = document.querySelector('#images');
const knobs = new URLSearchParams(location.search);

input.addEventListener('change', async () => {
  document.body.dataset.state = 'busy';
  list.replaceChildren();
  try {
    const options = {};
    for (const knob of ['parallelMinBytes', 'gunzipMinBytes']) {
      if (knobs.has(knob)) options[knob] = Number(knobs.get(knob));
    }
    const report = await analyze(input.files[0], options);
    for (const image of report.images) {
      const item = document.createElement('li');
      item.className = 'image';
      const verdict = document.createElement('strong');
      verdict.className = 'verdict';
      verdict.textContent = image.verdict;
      const findings = document.createElement('ul');
      for (const f of image.findings) {
        const finding = document.createElement('li');
        finding.className = 'finding';
        finding.dataset.rule = f.rule;
        finding.textContent = f.path || f.title;
        findings.append(finding);
      }
      item.append(verdict, findings);
      list.append(item);
    }
    document.body.dataset.state = 'done';
  } catch (e) {
    document.querySelector('#error').textContent = \`\${e.code}: \${e.message}\`;
    document.body.dataset.state = 'error';
  }
});
`;

// The page; `type` is "module" for an ES module bundle.
const page = (type, src = 'main.js') => `<!doctype html><meta charset="utf-8"><title>rootless-check, bundled</title>
<link rel="icon" href="data:,">
<input type="file" id="image"><ul id="images"></ul><p id="error"></p>
<script${type ? ` type="${type}"` : ''} src="${src}"></script>
`;

// docker save, gzip around a docker save, a rootless image, two images in one archive.
const SAMPLE = [
  'built/bb-filecap.docker-archive.tar',
  'built/bb-alpinelike.docker-archive.tar.gz',
  'public/goodwithtech+dockle__scratch.tar',
  'public/google+go-containerregistry__test_link.tar',
];

// What the browser branch needs beside a bundle made by a bundler that does
// not emit the files named by `new URL(..., import.meta.url)` (pkg-template/README.md).
const WEB_ASSETS = ['worker.js', 'rootless_check.js', 'rootless_check_bg.wasm'];
const copyWebAssets = (installed, dist) =>
  WEB_ASSETS.forEach((name) => fs.copyFileSync(path.join(installed, 'web', name), path.join(dist, name)));

function webpackBuild(config) {
  return async (project, dist) => {
    const stats = await new Promise((resolve, reject) => {
      webpack({
        context: project,
        mode: 'production',
        target: 'web',
        entry: './src/index.js',
        output: { path: dist, clean: true },
        performance: { hints: false },
        ...config,
      }, (err, result) => (err ? reject(err) : resolve(result)));
    });
    const info = stats.toJson({ all: false, errors: true, warnings: true });
    assert.deepEqual(info.errors.map((e) => e.message), [], 'webpack errors');
    assert.deepEqual(info.warnings.map((e) => e.message), [], 'webpack warnings');
    return [...stats.compilation.fileDependencies];
  };
}

// Each build: why it is skipped (its bundler is missing), the package's
// file it must have read (the branch of the exports it took), the page's
// script type, and the build itself, which resolves with the files read.
const BUILDS = {
  // webpack's own conditions for target web include `browser`: pkg/web.
  'webpack, the `browser` branch': {
    missing: webpack ? null : notInstalled('webpack'),
    entryFile: 'web/index.js',
    type: '',
    build: webpackBuild({}),
  },
  // Without `browser`, the exports' `default` branch: pkg/bundler, whose
  // glue imports the .wasm as a module.
  'webpack, the `default` branch': {
    missing: webpack ? null : notInstalled('webpack'),
    entryFile: 'bundler/index.js',
    type: '',
    build: webpackBuild({
      resolve: { conditionNames: ['webpack', 'production', 'import', 'module'] },
      experiments: { asyncWebAssembly: true },
    }),
  },
  // esbuild's platform `browser` (its default) takes the `browser` branch;
  // format `esm` keeps import.meta.url.
  esbuild: {
    missing: esbuild ? null : notInstalled('esbuild'),
    entryFile: 'web/index.js',
    type: 'module',
    copied: true,
    build: async (project, dist) => {
      const result = await esbuild.build({
        absWorkingDir: project,
        entryPoints: { main: 'src/index.js' },
        bundle: true,
        format: 'esm',
        minify: true,
        outdir: dist,
        metafile: true,
        logLevel: 'silent',
      });
      assert.deepEqual(result.errors, [], 'esbuild errors');
      assert.deepEqual(result.warnings.map((w) => w.text), [], 'esbuild warnings');
      copyWebAssets(path.join(project, 'node_modules', 'rootless-check'), dist);
      return Object.keys(result.metafile.inputs).map((f) => path.join(project, f));
    },
  },
  // @rollup/plugin-node-resolve with `browser: true` takes the `browser` branch.
  'Rollup with @rollup/plugin-node-resolve': {
    missing: rollup && nodeResolve ? null : notInstalled(rollup ? '@rollup/plugin-node-resolve' : 'rollup'),
    entryFile: 'web/index.js',
    type: 'module',
    copied: true,
    build: async (project, dist) => {
      const warnings = [];
      const bundle = await rollup.rollup({
        input: path.join(project, 'src', 'index.js'),
        plugins: [nodeResolve({ browser: true })],
        onwarn: (warning) => warnings.push(warning.message),
      });
      await bundle.write({ dir: dist, format: 'es', entryFileNames: 'main.js' });
      const files = bundle.watchFiles;
      await bundle.close();
      assert.deepEqual(warnings, [], 'rollup warnings');
      copyWebAssets(path.join(project, 'node_modules', 'rootless-check'), dist);
      return files;
    },
  },
  // Vite builds from the project's index.html, which it rewrites into the
  // output; it emits the worker (as its own bundle, the glue and the layer
  // workers' `new URL(import.meta.url)` included) and the .wasm by itself.
  Vite: {
    missing: vite ? null : notInstalled('vite'),
    entryFile: 'web/index.js',
    type: 'module',
    build: async (project, dist) => {
      fs.writeFileSync(path.join(project, 'index.html'), page('module', '/src/index.js'));
      const result = await vite.build({
        root: project,
        configFile: false,
        logLevel: 'silent',
        build: { outDir: dist, emptyOutDir: true },
      });
      return [result].flat().flatMap((r) => r.output).filter((c) => c.type === 'chunk').flatMap((c) => c.moduleIds);
    },
  },
};

/** What the page shows, from the native CLI's report. */
function nativeView(file) {
  const r = runCli(nativeCli, ['--format', 'json', '--fail-on', 'none', file]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).images.map((image) => ({
    verdict: image.verdict,
    findings: image.findings.map((f) => ({ rule: f.rule, text: f.path || f.title })),
  }));
}

describe('bundled, in headless Chromium', { skip: noChromium || false }, () => {
  let tarball;
  let project;
  let context;
  let profile;
  const native = new Map();

  before(async () => {
    tarball = packPkg();
    project = installedProject(tarball, 'module');
    fs.mkdirSync(path.join(project, 'src'));
    fs.writeFileSync(path.join(project, 'src', 'index.js'), APP);
    profile = tempDir('chromium');
    context = await launch(profile);
    const all = fixtureFiles();
    for (const s of SAMPLE) {
      const file = all.find((f) => f.endsWith(s));
      assert.ok(file, `${s} is listed in EXPECTED.json`);
      native.set(s, { file, view: nativeView(file) });
    }
  });

  after(async () => {
    if (context) await context.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    if (project) fs.rmSync(project, { recursive: true, force: true });
    if (tarball) fs.rmSync(path.dirname(tarball), { recursive: true, force: true });
  });

  for (const [name, { missing, entryFile, type, copied, build }] of Object.entries(BUILDS)) {
    describe(name, { skip: missing || false }, () => {
      let dist;
      let server;
      let base;

      before(async () => {
        dist = path.join(project, `dist-${name.replace(/[^a-z]+/gi, '-')}`);
        fs.rmSync(dist, { recursive: true, force: true });
        fs.mkdirSync(dist);
        const files = await build(project, dist);
        // The branch this build took: the files the bundler read.
        const installed = path.join(project, 'node_modules', 'rootless-check');
        assert.ok(files.includes(path.join(installed, entryFile)), `the bundler did not read ${entryFile}`);
        const other = entryFile.startsWith('web/') ? 'bundler/' : 'web/';
        assert.ok(!files.some((f) => f.startsWith(path.join(installed, other))), `the bundler read files of ${other}`);
        // Vite writes its own, from the project's.
        if (!fs.existsSync(path.join(dist, 'index.html'))) fs.writeFileSync(path.join(dist, 'index.html'), page(type));
        ({ base, server } = await serve((pathname) => fileIn(dist, pathname)));
      });

      after(() => {
        if (server) server.close();
      });

      // Loads the page, chooses `file` and returns what the page shows, with
      // the requests, console errors and workers seen meanwhile.
      async function choose(file, query = '') {
        const page = await context.newPage();
        const requests = [];
        const failures = [];
        const errors = new Set();
        const workers = [];
        const onRequest = (request) => requests.push(request.url());
        const onResponse = (response) => {
          if (response.status() !== 200) failures.push(`${response.status()} ${response.url()}`);
        };
        const onFailed = (request) => failures.push(`${request.failure()?.errorText} ${request.url()}`);
        context.on('request', onRequest);
        context.on('response', onResponse);
        context.on('requestfailed', onFailed);
        const onConsole = (message) => {
          if (message.type() === 'error') errors.add(message.text());
        };
        page.on('console', onConsole);
        page.on('pageerror', (e) => errors.add(`uncaught: ${e.message}`));
        page.on('worker', (worker) => {
          workers.push(worker.url());
          worker.on('console', onConsole);
        });
        try {
          await page.goto(`${base}/${query}`);
          await page.setInputFiles('#image', file);
          await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null,
            { timeout: 60_000 }).catch(() => {
            throw new Error(`no result in 60 s; workers: ${JSON.stringify(workers)}, ` +
              `console errors: ${JSON.stringify([...errors])}, failed requests: ${JSON.stringify(failures)}`);
          });
          const shown = await page.evaluate(() => ({
            state: document.body.dataset.state,
            error: document.querySelector('#error').textContent,
            images: [...document.querySelectorAll('#images > li.image')].map((item) => ({
              verdict: item.querySelector('.verdict').textContent,
              findings: [...item.querySelectorAll('li.finding')].map((f) => ({ rule: f.dataset.rule, text: f.textContent })),
            })),
          }));
          return { shown, requests, failures, errors: [...errors], workers };
        } finally {
          context.off('request', onRequest);
          context.off('response', onResponse);
          context.off('requestfailed', onFailed);
          await page.close();
        }
      }

      function checkLoads({ requests, failures, errors }) {
        assert.deepEqual(failures, [], 'failed requests');
        assert.deepEqual(errors, [], 'console errors');
        checkOrigins(requests);
      }

      function checkOrigins(requests) {
        for (const url of requests) {
          const { origin, pathname } = new URL(url);
          assert.equal(origin, base, `a request outside the served folder: ${url}`);
          const file = fileIn(dist, decodeURIComponent(pathname));
          assert.ok(file && fs.existsSync(file), `${url} is not a file of the bundler's output`);
        }
        assert.ok(requests.some((u) => u.endsWith('.wasm')), `no .wasm was loaded: ${requests.join(', ')}`);
      }

      for (const sample of SAMPLE) {
        test(`${path.basename(sample)}: the page shows the native verdicts and findings`, async () => {
          const { file, view } = native.get(sample);
          const out = await choose(file);
          assert.equal(out.shown.error, '');
          assert.equal(out.shown.state, 'done');
          assert.deepEqual(out.shown.images, view);
          assert.ok(out.shown.images.length >= 1);
          checkLoads(out);
          assert.equal(out.workers.length, 1, `one analysis worker: ${out.workers.join(', ')}`);
        });
      }

      test('layer workers (forced on a small archive) load from the output too', async (t) => {
        const page = await context.newPage();
        const cpus = await page.evaluate(() => navigator.hardwareConcurrency);
        await page.close();
        if (cpus < 2) return t.skip(`Chromium reports ${cpus} CPU: no layer workers`);
        const { file, view } = native.get('built/bb-filecap.docker-archive.tar');
        const out = await choose(file, '?parallelMinBytes=0');
        assert.equal(out.shown.error, '');
        assert.deepEqual(out.shown.images, view);
        checkLoads(out);
        assert.ok(out.workers.length >= 3, `the analysis worker and layer workers: ${out.workers.join(', ')}`);
      });

      // Where the bundler emitted web-stream/, the inflating worker runs from
      // it; where only the README's three files were copied, its absence
      // costs nothing but the second worker.
      test('a whole-file gzip (two workers forced on a small archive)', async (t) => {
        const page = await context.newPage();
        const { cpus, jspi } = await page.evaluate(() =>
          ({ cpus: navigator.hardwareConcurrency, jspi: typeof WebAssembly.Suspending === 'function' }));
        await page.close();
        if (cpus < 2 || !jspi) return t.skip(`Chromium reports ${cpus} CPU, JSPI ${jspi}: one worker`);
        const { file, view } = native.get('built/bb-alpinelike.docker-archive.tar.gz');
        const out = await choose(file, '?gunzipMinBytes=0');
        assert.equal(out.shown.error, '');
        assert.deepEqual(out.shown.images, view);
        if (copied) {
          assert.equal(out.workers.length, 1, `the analysis worker alone: ${out.workers.join(', ')}`);
          assert.ok(out.failures.length >= 1 && out.failures.every((f) => f.includes('/web-stream/')),
            `only web-stream/ is missing: ${out.failures.join(', ')}`);
          checkOrigins(out.requests.filter((u) => !u.includes('/web-stream/')));
        } else {
          checkLoads(out);
          assert.equal(out.workers.length, 2, `the analysis and inflating workers: ${out.workers.join(', ')}`);
        }
      });
    });
  }
});
