// How the image will run (issue 15) on Node: the Node CLI's --run, --compose
// and --k8s against the native CLI's (same stdout, stderr, exit status) on
// every case of tests/runs/cases.json and the files of tests/runs/, and the
// Node API's run specs given as text.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fixturesDir, nativeCli, pkgDir, requirePkg, root, runCli, tempDir } from './helpers.mjs';

const nodeCli = path.join(pkgDir, 'node', 'cli.cjs');
const cases = JSON.parse(fs.readFileSync(path.join(root, 'tests/runs/cases.json'), 'utf8')).cases;
const fixture = (name) => path.join(fixturesDir, name);
const composeFile = 'tests/runs/compose.yml';
const k8sFile = 'tests/runs/manifests.yaml';
// No colour, and no variable of compose.yml from the environment the tests run in.
const env = { ...process.env, NO_COLOR: '1' };
delete env.APP_UID;
delete env.APP_GID;

let api;
before(async () => {
  requirePkg();
  assert.ok(fs.existsSync(nativeCli), `no native CLI at ${nativeCli}: run cargo build --release or set NATIVE_CLI`);
  api = await import(pathToFileURL(path.join(pkgDir, 'node', 'index.mjs')));
});

function assertSame(args, extraEnv = {}, cwd = root) {
  const options = { cwd, env: { ...env, ...extraEnv } };
  const native = runCli(nativeCli, args, options);
  const node = runCli(process.execPath, [nodeCli, ...args], options);
  assert.equal(node.stderr, native.stderr, 'stderr');
  assert.equal(node.stdout, native.stdout, 'stdout');
  assert.equal(node.status, native.status, 'exit status');
  return native;
}

// What a case of cases.json expects of its run.
function check(run, expect, what) {
  assert.equal(run.outcome, expect.outcome, `${what}: outcome (${run.message})`);
  assert.equal(run.verdict, expect.verdict, `${what}: verdict`);
  if ('uid' in expect) assert.equal(run.user.uid, expect.uid, `${what}: uid`);
  if ('gid' in expect) assert.equal(run.user.gid, expect.gid, `${what}: gid`);
  if ('message' in expect) assert.equal(run.message, expect.message, `${what}: message`);
  for (const rule of expect.rules || []) assert.ok(run.findings.some((f) => f.rule === rule), `${what}: no ${rule}`);
}

describe('the Node CLI as the native one', () => {
  const runCases = cases.filter((c) => 'run' in c);
  test('cases.json has run and compose cases', () => {
    assert.ok(runCases.length >= 20);
    assert.ok(cases.some((c) => 'compose' in c));
  });
  for (const c of runCases) {
    test(`--run ${JSON.stringify(c.run)} ${c.fixture}`, () => {
      const native = assertSame(['--run', c.run, '--format', 'json', '--fail-on', 'none', fixture(c.fixture)]);
      const report = JSON.parse(native.stdout);
      assert.equal(report.runs.length, 1);
      check(report.runs[0], c.expect, c.run);
    });
  }

  test('--run: text, SARIF and the exit status at the default --fail-on', () => {
    const bb = fixture('built/bb.docker20-save.tar');
    assert.equal(assertSame(['--run', '--privileged', bb]).status, 1);
    assertSame(['--run', '--user 7000:7000 --cap-drop ALL', '--format', 'sarif', bb]);
  });

  // Every fixture a compose case pairs with, given together.
  const composeFixtures = [...new Set(cases.filter((c) => 'compose' in c).map((c) => fixture(c.fixture)))];
  test(`--compose ${composeFile}: every compose case`, () => {
    const native = assertSame(['--compose', composeFile, '--format', 'json', '--fail-on', 'none', ...composeFixtures]);
    const report = JSON.parse(native.stdout);
    for (const c of cases.filter((x) => 'compose' in x)) {
      check(report.runs.find((r) => r.name === c.compose), c.expect, c.compose);
    }
    assertSame(['--compose', composeFile, ...composeFixtures]);
  });

  test('--compose: interpolated from the environment, and from .env beside the file', () => {
    const native = assertSame(['--compose', composeFile, '-f', 'json', ...composeFixtures], { APP_UID: '0' });
    assert.equal(JSON.parse(native.stdout).runs.find((r) => r.name === 'web').user.uid, 0);
    const dir = tempDir('dotenv');
    try {
      fs.writeFileSync(path.join(dir, '.env'), 'U=4242\n');
      fs.writeFileSync(path.join(dir, 'ok.yml'), 'services:\n  a:\n    user: "${U}"\n');
      // Relative to the working directory, as given.
      const out = assertSame(['--compose', 'ok.yml', '-f', 'json', fixture('built/bb.docker20-save.tar')], {}, dir);
      assert.equal(JSON.parse(out.stdout).runs[0].user.uid, 4242);
      // The environment wins over .env.
      const env = assertSame(['--compose', path.join(dir, 'ok.yml'), '-f', 'json', fixture('built/bb.docker20-save.tar')], { U: '7' });
      assert.equal(JSON.parse(env.stdout).runs[0].user.uid, 7);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`--k8s ${k8sFile}`, () => {
    const images = [fixture('built/bb.docker20-save.tar'), fixture('built/bb-suid-wh.docker20-save.tar')];
    const native = assertSame(['--k8s', k8sFile, '--format', 'json', ...images]);
    const report = JSON.parse(native.stdout);
    assert.ok(report.runs.length >= 5);
    assert.ok(report.runs.every((r) => r.kind === 'kubernetes' && r.outcome !== 'not-checked'));
    assertSame(['--k8s', k8sFile, '--format', 'sarif', ...images]);
    assertSame(['--k8s', k8sFile, ...images]);
  });

  test('a spec that does not read, and usage mistakes', () => {
    const dir = tempDir('bad-spec');
    try {
      const bad = path.join(dir, 'c.yml');
      fs.writeFileSync(bad, 'services:\n  a:\n    user: x\n    user: y\n');
      const native = assertSame(['--compose', bad, fixture('built/bb.docker20-save.tar')]);
      assert.equal(native.status, 2);
      assert.match(native.stderr, /^rootless-check: E_BAD_SPEC: .*c\.yml:4:5: mapping key/);
      const k8s = path.join(dir, 'k.yaml');
      fs.writeFileSync(k8s, 'kind: Pod\napiVersion: v1\nspec:\n  containers:\n    - name: a\n      securityContext: {privileged: "true"}\n');
      assert.equal(assertSame(['--k8s', k8s, fixture('built/bb.docker20-save.tar')]).status, 2);
      assertSame(['--run', '-Z', fixture('built/bb.docker20-save.tar')]);
      assertSame(['--run', '-u 1', 'a.tar', 'b.tar']);
      assertSame(['--run', '-u 1', '--compose', bad, 'a.tar']);
      assertSame(['--compose', bad]);
      // A spec file that cannot be read: E_IO in the native CLI's words.
      assert.match(assertSame(['--k8s', path.join(dir, 'none.yaml'), 'a.tar']).stderr, /E_IO: cannot read .*none\.yaml: No such file or directory \(os error 2\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an image no source holds, that cannot be pulled: not checked, with why', async () => {
    // A registry on a closed port of 127.0.0.1 (one just freed): refused at once, no network.
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    await new Promise((resolve) => server.close(resolve));
    const dir = tempDir('unpulled');
    try {
      const file = path.join(dir, 'c.yml');
      fs.writeFileSync(file, `services:\n  a:\n    image: fixture/bb:1\n  b:\n    image: 127.0.0.1:${port}/none:1\n`);
      // The same report but for the system's words after "cannot reach
      // HOST:" (the native HTTP client adds "io: ").
      const reason = /^(E_NETWORK: cannot reach 127\.0\.0\.1:\d+: ).*Connection refused.*$/;
      const args = ['--compose', file, '-f', 'json', '--tls-verify=false', fixture('built/bb.docker20-save.tar')];
      const native = runCli(nativeCli, args, { cwd: root, env });
      const node = runCli(process.execPath, [nodeCli, ...args], { cwd: root, env });
      assert.equal(node.status, native.status);
      const [a, b] = [native, node].map((r) => JSON.parse(r.stdout));
      for (const report of [a, b]) {
        assert.equal(report.runs[0].outcome, 'starts');
        assert.equal(report.runs[1].outcome, 'not-checked');
        assert.match(report.runs[1].message, reason);
        report.runs[1].message = report.runs[1].message.replace(reason, '$1');
      }
      assert.deepEqual(b, a);
      // And with no source at all: nothing to hold the runs against, exit 2.
      const only = path.join(dir, 'only.yml');
      fs.writeFileSync(only, `services:\n  b:\n    image: 127.0.0.1:${port}/none:1\n`);
      for (const [cmd, ...pre] of [[nativeCli], [process.execPath, nodeCli]]) {
        const r = runCli(cmd, [...pre, '--compose', only, '--tls-verify=false'], { cwd: root, env });
        assert.equal(r.status, 2);
        assert.match(r.stderr, /^rootless-check: no image to hold the runs against: E_NETWORK: cannot reach 127\.0\.0\.1:\d+: .*Connection refused.*\n$/);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('images the spec names that no source holds, pulled from a registry', () => {
  const T = { timeout: 240000 };
  let services;
  before(async () => {
    services = await (await import('./services.mjs')).services();
  }, T);

  test('both CLIs pull them and hold the runs alike; the API too', T, async (t) => {
    const { imageOf } = await import('./services.mjs');
    const image = imageOf(services, 'built/bb-suid-wh.docker20-save.tar');
    const basic = services.registryBasic;
    if (!image || !basic || basic.available === false) return t.skip('no registry with the fixture pushed');
    const reference = `${basic.host}/${image.repo}:${image.tag}`;
    const dir = tempDir('pulled');
    try {
      const file = path.join(dir, 'c.yml');
      fs.writeFileSync(file, `services:\n  local:\n    image: fixture/bb:1\n  pulled:\n    image: ${reference}\n    user: "0"\n`);
      const registry = ['--tls-verify=false', '--authfile', basic.authfile];
      // One source: the other image is pulled.
      const native = assertSame(['--compose', file, '-f', 'json', '--fail-on', 'none', ...registry, fixture('built/bb.docker20-save.tar')]);
      const report = JSON.parse(native.stdout);
      assert.equal(report.images.length, 2);
      const pulled = report.runs.find((r) => r.name === 'pulled');
      assert.equal(pulled.imageIndex, 1);
      assert.equal(pulled.user.uid, 0);
      assert.equal(pulled.verdict, 'root');
      assert.deepEqual(report.images[1].tags, [reference]);
      // No source: every image named is pulled; fixture/bb:1 cannot be (not on this registry).
      const only = path.join(dir, 'only.yml');
      fs.writeFileSync(only, `services:\n  pulled:\n    image: ${reference}\n`);
      const alone = JSON.parse(assertSame(['--compose', only, '-f', 'json', ...registry]).stdout);
      assert.equal(alone.runs[0].outcome, 'starts');
      assert.equal(alone.input.source.reference, reference);
      const api = await import(pathToFileURL(path.join(pkgDir, 'node', 'index.mjs')));
      const fromApi = await api.analyze(null, { compose: fs.readFileSync(only, 'utf8'), specName: only, tlsVerify: false, authfile: basic.authfile });
      assert.deepEqual(fromApi, alone);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the Node API', () => {
  const compose = fs.readFileSync(path.join(root, composeFile), 'utf8');

  test('analyze(sources, { compose: text }) is the CLI report', async () => {
    const report = await api.analyze(composeFixtures(), { compose, specName: composeFile, env: {} });
    const native = runCli(nativeCli, ['--compose', composeFile, '--format', 'json', '--fail-on', 'none', ...composeFixtures()], { cwd: root, env });
    assert.deepEqual(report, JSON.parse(native.stdout));
    const s6 = report.runs.find((r) => r.name === 's6');
    assert.equal(s6.outcome, 'fails');
    assert.deepEqual(s6.source, { file: composeFile, line: 28 });
  });

  test('env and dotenv interpolate; the environment first', async () => {
    const text = 'services:\n  a:\n    user: "${U}:${G:-5}"\n';
    const bb = fixture('built/bb.docker20-save.tar');
    const user = async (options) => (await api.analyze(bb, { compose: text, ...options })).runs[0].user;
    assert.deepEqual(await user({ env: { U: '11' } }), { uid: 11, gid: 5, name: null });
    assert.deepEqual(await user({ env: {}, dotenv: 'U=12\nG=13\n' }), { uid: 12, gid: 13, name: null });
    assert.deepEqual(await user({ env: { U: '14' }, dotenv: 'U=12\n' }), { uid: 14, gid: 5, name: null });
  });

  test('run and k8s text; composeFile and k8sFile read the files', async () => {
    const bb = fixture('built/bb.docker20-save.tar');
    const run = await api.analyze(bb, { run: '--user ghost' });
    assert.equal(run.runs[0].outcome, 'refused');
    assert.equal(run.runs[0].message, 'unable to find user ghost: no matching entries in passwd file');
    const images = [bb, fixture('built/bb-suid-wh.docker20-save.tar')];
    const fromText = await api.analyze(images, { k8s: fs.readFileSync(path.join(root, k8sFile), 'utf8'), specName: k8sFile });
    const fromFile = await api.analyze(images, { k8sFile: path.join(root, k8sFile), specName: k8sFile });
    assert.deepEqual(fromText, fromFile);
    assert.ok(fromFile.runs.length >= 5);
    const composed = await api.analyze(composeFixtures(), { composeFile: path.join(root, composeFile), env: {} });
    assert.equal(composed.runs.find((r) => r.name === 's6').source.file, path.join(root, composeFile));
  });

  test('E_BAD_SPEC with file, line and column; E_USAGE for misuse', async () => {
    const bb = fixture('built/bb.docker20-save.tar');
    await assert.rejects(api.analyze(bb, { compose: 'services:\n  a:\n    user: x\n    user: y\n', specName: 'c.yml' }), (err) => {
      assert.equal(err.code, 'E_BAD_SPEC');
      assert.match(err.message, /^c\.yml:4:5: mapping key/);
      assert.deepEqual([err.file, err.line, err.column], ['c.yml', 4, 5]);
      return true;
    });
    await assert.rejects(api.analyze(bb, { run: '-Z' }), { code: 'E_BAD_SPEC', message: /^--run: unknown shorthand flag/ });
    await assert.rejects(api.analyze(bb, { run: '-u 1', compose: 'services: {}' }), { code: 'E_USAGE' });
    await assert.rejects(api.analyze(bb, { compose: 42 }), { code: 'E_USAGE' });
    await assert.rejects(api.analyze(bb, { composeFile: '/no/such/compose.yml' }), { code: 'E_IO' });
    // Hostile YAML is an error, never a crash.
    await assert.rejects(api.analyze(bb, { k8s: `${'['.repeat(100000)}` }), { code: 'E_BAD_SPEC' });
  });

  test('check() renders the runs as the CLI does', async () => {
    const bb = fixture('built/bb.docker20-save.tar');
    const result = await api.check(bb, { run: '--privileged', format: 'json' });
    const native = runCli(nativeCli, ['--run', '--privileged', '--format', 'json', bb], { cwd: root, env });
    assert.equal(result.output, native.stdout);
    assert.equal(result.status, native.status);
  });
});

function composeFixtures() {
  return [...new Set(cases.filter((c) => 'compose' in c).map((c) => fixture(c.fixture)))];
}
