// Images named rather than given as files (issue 14), through the Node API
// and the Node CLI: registries (docker://REF and bare references), OCI
// layout directories (oci:DIR[:REF]) and the Docker daemon
// (docker-daemon:REF). Against the archive file of each fixture (same
// facts and verdict) and the native CLI (same JSON, stderr, exit status).
// The services come from services.mjs (scripts/services.sh when it is
// there, else a registry started here); everything is on 127.0.0.1.

import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fixturesDir, nativeCli, pkgDir, requirePkg, runCli, tempDir } from './helpers.mjs';
import { FALLBACK_FIXTURES, imageOf, services } from './services.mjs';
import { tinyRegistry } from './tiny-registry.mjs';

const nodeCli = path.join(pkgDir, 'node', 'cli.cjs');
const T = { timeout: 180000 };

let api;
let env;
let home;
// A clean credential lookup: no auth files but those a test writes.
let cleanEnv;

before(async () => {
  requirePkg();
  assert.ok(fs.existsSync(nativeCli), `no native CLI at ${nativeCli}: run cargo build --release or set NATIVE_CLI`);
  home = tempDir('home');
  for (const k of ['REGISTRY_AUTH_FILE', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'DOCKER_CONFIG']) delete process.env[k];
  process.env.HOME = home;
  cleanEnv = { ...process.env };
  api = await import(pathToFileURL(path.join(pkgDir, 'node', 'index.mjs')));
  env = await services();
});

after(() => fs.rmSync(home, { recursive: true, force: true }));

function run(command, args, extraEnv = {}, options = {}) {
  return runCli(command, args, { env: { ...cleanEnv, ...extraEnv }, timeout: 170000, ...options });
}

/** The native and the Node CLI on the same arguments. */
function both(args, extraEnv, options) {
  return [run(nativeCli, args, extraEnv, options), run(process.execPath, [nodeCli, ...args], extraEnv, options)];
}

function assertSame(args, extraEnv, options) {
  const [native, node] = both(args, extraEnv, options);
  assert.equal(node.stderr, native.stderr, 'stderr');
  assert.equal(node.stdout, native.stdout, 'stdout');
  assert.equal(node.status, native.status, 'exit status');
  return native;
}

/** A CLI run that leaves this process's event loop free (for servers served
 * from this process); bounded in time. */
function runAsync(command, args, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...cleanEnv, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 170000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** assertSame for a registry served by this process. */
async function assertSameAsync(args, extraEnv) {
  const native = await runAsync(nativeCli, args, extraEnv);
  const node = await runAsync(process.execPath, [nodeCli, ...args], extraEnv);
  assert.equal(node.stderr, native.stderr, 'stderr');
  assert.equal(node.stdout, native.stdout, 'stdout');
  assert.equal(node.status, native.status, 'exit status');
  return native;
}

/** What must not depend on where the image came from. */
function facts(report) {
  return report.images.map((i) => ({
    verdict: i.verdict,
    user: i.user,
    setuidFiles: i.setuidFiles,
    capabilities: i.capabilities,
    s6: i.s6,
    rules: i.findings.map((f) => f.rule).sort(),
  }));
}

const archiveFacts = new Map();
async function factsOfArchive(fixture) {
  if (!archiveFacts.has(fixture)) archiveFacts.set(fixture, facts(await api.analyze(path.join(fixturesDir, fixture))));
  return archiveFacts.get(fixture);
}

function basic() {
  return env.registryBasic;
}

/** Skip (with the reason) unless the harness gives `what`. */
function unavailable(t, what) {
  const part = env[what];
  if (!part || part.available === false) {
    t.skip(`${what}: ${(part && part.reason) || 'not provided by the services'}`);
    return true;
  }
  return false;
}

describe('a registry', () => {
  for (const fixture of FALLBACK_FIXTURES) {
    test(`${fixture}: the archive's facts through the API and the CLI; the native CLI's JSON`, T, async (t) => {
      const image = imageOf(env, fixture);
      if (!image) return t.skip(`${fixture} was not pushed`);
      const { host, authfile } = basic();
      const source = `docker://${host}/${image.repo}:${image.tag}`;
      const expected = await factsOfArchive(fixture);
      const report = await api.analyze(source, { tlsVerify: false, authfile });
      assert.deepEqual(facts(report), expected);
      assert.deepEqual(report.input.source, {
        kind: 'registry',
        reference: source,
        resolved: `${host}/${image.repo}:${image.tag}`,
        registry: host,
        repository: image.repo,
        tag: image.tag,
        digest: report.input.source.digest,
        platforms: [],
      });
      assert.match(report.input.source.digest, /^sha256:[0-9a-f]{64}$/);
      if (image.manifestDigest) assert.equal(report.input.source.digest, image.manifestDigest);
      for (const i of report.images) assert.deepEqual(i.tags, [`${host}/${image.repo}:${image.tag}`]);
      if (fixture.includes('zstd')) {
        // Read through the worker and its ring (layer-pipe.cjs), not in steps.
        assert.ok(report.images[0].layers.some((l) => l.compression === 'zstd'), 'a zstd layer');
      }
      const native = assertSame(['--format', 'json', '--tls-verify=false', '--authfile', authfile, source]);
      assert.deepEqual(facts(JSON.parse(native.stdout)), expected);
      assert.deepEqual(JSON.parse(native.stdout), report);
    });
  }

  test('a bare reference (no such file, not a path) is a registry reference', T, async (t) => {
    const image = imageOf(env, FALLBACK_FIXTURES[0]);
    if (!image) return t.skip('not pushed');
    const { host, authfile } = basic();
    const bare = `${host}/${image.repo}:${image.tag}`;
    const native = assertSame(['--format', 'json', '--tls-verify=false', '--authfile', authfile, bare]);
    const report = JSON.parse(native.stdout);
    assert.equal(report.input.source.reference, bare);
    assert.deepEqual(facts(report), await factsOfArchive(FALLBACK_FIXTURES[0]));
  });

  test('text and SARIF outputs, and --ignore, as the native CLI', T, async (t) => {
    const image = imageOf(env, 'built/bb-suid-wh.docker20-save.tar');
    if (!image) return t.skip('not pushed');
    const { host, authfile } = basic();
    const source = `docker://${host}/${image.repo}:${image.tag}`;
    assertSame(['--tls-verify=false', '--authfile', authfile, source]);
    assertSame(['--format', 'sarif', '--ignore', 'setuid-root', '--tls-verify=false', '--authfile', authfile, source]);
  });

  test('no credentials: exit 2, E_AUTH naming where they were looked for', T, async (t) => {
    const image = imageOf(env, FALLBACK_FIXTURES[0]);
    if (!image) return t.skip('not pushed');
    const source = `docker://${basic().host}/${image.repo}:${image.tag}`;
    const native = assertSame(['--tls-verify=false', source]);
    assert.equal(native.status, 2);
    assert.match(native.stderr, /^rootless-check: E_AUTH: .* needs credentials for .* and none were found \(tried: --creds \(not given\);/);
    await assert.rejects(api.analyze(source, { tlsVerify: false }), { code: 'E_AUTH' });
  });

  test('a wrong password, a refused one: E_AUTH; no secret in stdout or stderr', T, async (t) => {
    const image = imageOf(env, FALLBACK_FIXTURES[0]);
    if (!image) return t.skip('not pushed');
    const { host, user, password } = basic();
    const source = `docker://${host}/${image.repo}:${image.tag}`;
    const wrong = 'Wr0ng-s3cret-pw';
    const secrets = [wrong, password, Buffer.from(`${user}:${wrong}`).toString('base64'),
      Buffer.from(`${user}:${password}`).toString('base64')];
    const noSecret = (r) => {
      for (const s of secrets) {
        assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), 'a secret was printed');
      }
    };
    const refused = assertSame(['--tls-verify=false', '--creds', `${user}:${wrong}`, source]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /E_AUTH: .* refused the credentials from --creds for /);
    const [n1, j1] = both(['--tls-verify=false', '--creds', `${user}:${wrong}`, source]);
    noSecret(n1);
    noSecret(j1);
    // An auth file with the wrong password: its path is named, never its content.
    const authfile = path.join(home, 'wrong-auth.json');
    fs.writeFileSync(authfile, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${wrong}`).toString('base64') } } }));
    const fromFile = assertSame(['--tls-verify=false', '--authfile', authfile, source]);
    assert.match(fromFile.stderr, new RegExp(`refused the credentials from ${authfile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} for`));
    for (const r of both(['--tls-verify=false', '--authfile', authfile, source])) noSecret(r);
    // The right password on a failing run (an unknown tag).
    for (const r of both(['--tls-verify=false', '--creds', `${user}:${password}`, `docker://${host}/${image.repo}:no-such-tag`])) {
      assert.equal(r.status, 2);
      noSecret(r);
    }
    const err = await api.analyze(source, { tlsVerify: false, creds: `${user}:${wrong}` }).then(
      () => assert.fail('resolved'),
      (e) => e,
    );
    assert.equal(err.code, 'E_AUTH');
    const dump = `${err.message} ${err.stack} ${JSON.stringify(err)} ${err.cause ?? ''}`;
    for (const s of secrets) assert.ok(!dump.includes(s), 'a secret is in the error');
  });

  test('an unknown tag, an unknown repository: exit 2, E_NOT_FOUND', T, async (t) => {
    const image = imageOf(env, FALLBACK_FIXTURES[0]);
    if (!image) return t.skip('not pushed');
    const { host, authfile } = basic();
    for (const source of [`docker://${host}/${image.repo}:no-such-tag`, `docker://${host}/fixtures/no-such-repo:latest`]) {
      const native = assertSame(['--tls-verify=false', '--authfile', authfile, source]);
      assert.equal(native.status, 2);
      assert.match(native.stderr, /^rootless-check: E_NOT_FOUND: .* has no manifest .*\n$/);
      await assert.rejects(api.analyze(source, { tlsVerify: false, authfile }), { code: 'E_NOT_FOUND' });
    }
  });

  test('a registry without TLS needs --tls-verify=false: E_NETWORK says so', T, async (t) => {
    const image = imageOf(env, FALLBACK_FIXTURES[0]);
    if (!image) return t.skip('not pushed');
    const { host, authfile } = basic();
    const source = `docker://${host}/${image.repo}:${image.tag}`;
    for (const r of both(['--authfile', authfile, source])) {
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^rootless-check: E_NETWORK: cannot reach .*\(a registry without TLS needs --tls-verify=false\)\n$/);
    }
  });

  test('bad references and options: E_USAGE with the usage text, as the native CLI', T, () => {
    for (const args of [['docker://Alpine'], ['docker://a:b:c'], ['docker-daemon:'], ['oci:'], ['oci-archive:'],
      ['--platform', 'linux', 'docker://x'], ['--max-concurrent-downloads', '0', 'docker://x'],
      ['--tls-verify=maybe', 'docker://x']]) {
      const native = assertSame(args);
      assert.equal(native.status, 2);
      assert.match(native.stderr, /^rootless-check: E_USAGE: /);
    }
  });

  test('onProgress: bytes downloaded per blob, up to the total', T, async (t) => {
    const image = imageOf(env, 'built/deb12-hardened.oci-archive.tar') ?? imageOf(env, FALLBACK_FIXTURES[0]);
    if (!image) return t.skip('not pushed');
    const { host, authfile } = basic();
    const seen = [];
    const report = await api.analyze(`docker://${host}/${image.repo}:${image.tag}`, {
      tlsVerify: false,
      authfile,
      onProgress: (p) => seen.push(p),
    });
    assert.ok(seen.length > 1, `${seen.length} events`);
    let last = 0;
    for (const p of seen) {
      assert.ok(p.bytesRead >= last && p.bytesRead <= p.totalBytes, JSON.stringify(p));
      assert.match(p.layer, /^blobs\/sha256\/[0-9a-f]{64}$/);
      last = p.bytesRead;
    }
    assert.equal(seen.at(-1).bytesRead, seen.at(-1).totalBytes);
    assert.equal(report.input.bytesRead, seen.at(-1).bytesRead);
  });

  test('an abort during the download rejects with its reason', T, async (t) => {
    const image = imageOf(env, 'built/deb12-hardened.oci-archive.tar') ?? imageOf(env, FALLBACK_FIXTURES[0]);
    if (!image) return t.skip('not pushed');
    const { host, authfile } = basic();
    const controller = new AbortController();
    const reason = new Error('stop');
    let events = 0;
    await assert.rejects(
      api.analyze(`docker://${host}/${image.repo}:${image.tag}`, {
        tlsVerify: false,
        authfile,
        signal: controller.signal,
        onProgress: () => {
          if (++events === 3) controller.abort(reason);
        },
      }),
      (e) => e === reason,
    );
  });
});

describe('every image the services pushed', () => {
  test('from the registry and from its layout: the archive\'s facts through the API; the Node CLI prints what the native CLI prints', T, async (t) => {
    if (!env.images || env.images.length === 0) return t.skip('the services pushed no images');
    const { host, authfile } = basic();
    for (const image of env.images) {
      const expected = await factsOfArchive(image.fixture);
      const registry = `docker://${host}/${image.repo}:${image.tag}`;
      assert.deepEqual(facts(await api.analyze(registry, { tlsVerify: false, authfile })), expected, registry);
      assertSame(['--format', 'json', '--tls-verify=false', '--authfile', authfile, registry]);
      if (image.layout) {
        const layout = `oci:${image.layout}:${image.layoutRef ?? 'latest'}`;
        assert.deepEqual(facts(await api.analyze(layout)), expected, layout);
        assertSame(['--format', 'json', layout]);
      }
    }
  });
});

describe('a registry that misbehaves (a small one served here)', () => {
  let layout;
  let fixture;
  before(() => {
    const image = env.images.find((i) => i.layout && fs.existsSync(i.layout) && i.fixture === 'built/bb-suid-wh.docker20-save.tar') ??
      env.images.find((i) => i.layout && fs.existsSync(i.layout));
    layout = image && image.layout;
    fixture = image && image.fixture;
  });

  async function check(t, options, analyzeOptions = {}) {
    if (!layout) return t.skip('no layout to serve');
    const reg = await tinyRegistry(layout, { user: 'tiny', password: 'tiny-pass', ...options });
    try {
      const report = await api.analyze(`docker://${reg.host}/some/repo:latest`, {
        tlsVerify: false,
        creds: 'tiny:tiny-pass',
        ...analyzeOptions,
      });
      assert.deepEqual(facts(report), await factsOfArchive(fixture));
      return reg.stats;
    } finally {
      await reg.close();
    }
  }

  test('blobs redirected to another port: followed, and Authorization never sent there', T, async (t) => {
    const stats = await check(t, { redirect: true });
    if (!stats) return;
    assert.ok(stats.redirectServed > 0, 'the redirect was followed');
    assert.equal(stats.redirectAuthSeen, 0, 'Authorization went to the redirect target');
    assert.ok(stats.requests.some((r) => r.authorization), 'the registry itself got Authorization');
  });

  test('the Node CLI too, with the native CLI: same JSON, no Authorization after the redirect', T, async (t) => {
    if (!layout) return t.skip('no layout to serve');
    const reg = await tinyRegistry(layout, { user: 'tiny', password: 'tiny-pass', redirect: true });
    try {
      await assertSameAsync(['--format', 'json', '--tls-verify=false', '--creds', 'tiny:tiny-pass', `docker://${reg.host}/r:latest`]);
      assert.ok(reg.stats.redirectServed > 0);
      assert.equal(reg.stats.redirectAuthSeen, 0);
    } finally {
      await reg.close();
    }
  });

  test('a body cut short is resumed with Range', T, async (t) => {
    const stats = await check(t, { cutOnce: true });
    if (!stats) return;
    assert.ok(stats.cut > 0 && stats.ranges > 0, JSON.stringify({ cut: stats.cut, ranges: stats.ranges }));
  });

  test('a body cut short, from a server that ignores Range: the bytes already read are skipped', T, async (t) => {
    const stats = await check(t, { cutOnce: true, ignoreRange: true });
    if (!stats) return;
    assert.ok(stats.cut > 0);
  });

  test('429 with Retry-After is waited for, then retried', T, async (t) => {
    const stats = await check(t, { tooManyOnce: true });
    if (!stats) return;
    assert.ok(stats.tooMany > 0);
  });

  test('HTTPS with a self-signed certificate: refused by default, read with tlsVerify: false', T, async (t) => {
    if (!layout) return t.skip('no layout to serve');
    if (spawnSync('sh', ['-c', 'command -v openssl'], { stdio: 'ignore' }).status !== 0) return t.skip('no openssl');
    const dir = tempDir('tls');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'),
        '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
      const tls = { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) };
      const reg = await tinyRegistry(layout, { user: 'tiny', password: 'tiny-pass', tls });
      try {
        const source = `docker://${reg.host}/r:latest`;
        await assert.rejects(api.analyze(source, { creds: 'tiny:tiny-pass' }), { code: 'E_NETWORK' });
        const report = await api.analyze(source, { creds: 'tiny:tiny-pass', tlsVerify: false });
        assert.deepEqual(facts(report), await factsOfArchive(fixture));
        await assertSameAsync(['--format', 'json', '--tls-verify=false', '--creds', 'tiny:tiny-pass', source]);
        // Verified by default: both refuse the certificate (their TLS stacks word it differently).
        for (const cli of [[nativeCli], [process.execPath, nodeCli]]) {
          const r = await runAsync(cli[0], [...cli.slice(1), '--creds', 'tiny:tiny-pass', source]);
          assert.equal(r.status, 2);
          assert.match(r.stderr, /^rootless-check: E_NETWORK: cannot reach 127\.0\.0\.1:\d+: /);
        }
      } finally {
        await reg.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the fault proxy of scripts/services.sh', () => {
  const image = () => imageOf(env, 'built/bb-suid-wh.docker20-save.tar');
  const tag = `n${process.pid}`;
  for (const mode of ['cut', '429', '503', 'slow', 'redirect']) {
    test(`${mode}: the archive's facts, the native CLI's JSON`, T, async (t) => {
      if (unavailable(t, 'proxy') || !image()) return;
      const source = `docker://${env.proxy.base}/${mode}.${tag}/${image().repo}:latest`;
      const args = ['--format', 'json', '--tls-verify=false', '--authfile', basic().authfile, source];
      const node = run(process.execPath, [nodeCli, ...args]);
      assert.equal(node.stderr, '');
      assert.deepEqual(facts(JSON.parse(node.stdout)), await factsOfArchive(image().fixture));
      const native = run(nativeCli, [...args.slice(0, -1), source.replace(`.${tag}/`, `.${tag}x/`)]);
      assert.equal(node.stdout, native.stdout.replaceAll(`.${tag}x/`, `.${tag}/`));
      if (mode === 'redirect') {
        const stats = await (await fetch(env.proxy.statsUrl)).json();
        const counts = stats.redirects[`redirect.${tag}`];
        assert.ok(counts && counts.served > 0, JSON.stringify(counts));
        assert.equal(counts.authSeen, 0, 'Authorization went to the redirect target');
      }
    });
  }
  for (const [mode, code] of [['hostile-ctype', 'E_REGISTRY'], ['hostile-digest', 'E_DIGEST_MISMATCH'],
    ['hostile-blobdigest', 'E_DIGEST_MISMATCH'], ['hostile-loop', 'E_NETWORK'], ['hostile-bigmanifest', 'E_LIMIT'],
    ['hostile-endless', 'E_LIMIT']]) {
    test(`${mode}: exit 2, ${code}, as the native CLI`, T, async (t) => {
      if (unavailable(t, 'proxy') || !image()) return;
      const source = `docker://${env.proxy.base}/${mode}.${tag}/${image().repo}:latest`;
      const [native, node] = both(['--tls-verify=false', '--authfile', basic().authfile, source]);
      assert.equal(node.status, 2);
      assert.match(node.stderr, new RegExp(`^rootless-check: ${code}: `));
      assert.equal(native.status, 2);
      assert.match(native.stderr, new RegExp(`^rootless-check: ${code}: `));
    });
  }
});

describe('a token-auth registry', () => {
  test('public: anonymous Bearer token; the native CLI\'s JSON', T, async (t) => {
    if (unavailable(t, 'registryToken')) return;
    const image = imageOf(env, 'built/bb-suid-wh.docker20-save.tar');
    if (!image || !image.tokenRepo) return t.skip('not pushed');
    const source = `docker://${env.registryToken.host}/${image.tokenRepo}:latest`;
    const native = assertSame(['--format', 'json', '--tls-verify=false', source]);
    assert.equal(native.status, 1);
    assert.deepEqual(facts(JSON.parse(native.stdout)), await factsOfArchive(image.fixture));
  });

  test('private: E_AUTH without credentials; with them (auth file, token request with Basic) the image', T, async (t) => {
    if (unavailable(t, 'registryToken')) return;
    const priv = (env.privateImages || [])[0];
    if (!priv) return t.skip('no private image');
    const source = `docker://${env.registryToken.host}/${priv.repo}:${priv.tag}`;
    const refused = assertSame(['--tls-verify=false', source]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /E_AUTH/);
    // By default the registry must speak TLS (the TLS stacks word their error differently).
    for (const r of both(['--authfile', env.registryToken.authfile, source])) {
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^rootless-check: E_NETWORK: cannot reach .*\(a registry without TLS needs --tls-verify=false\)\n$/);
    }
    const ok = assertSame(['--format', 'json', '--tls-verify=false', '--authfile', env.registryToken.authfile, source]);
    assert.deepEqual(facts(JSON.parse(ok.stdout)), await factsOfArchive(priv.fixture));
    const report = await api.analyze(source, { tlsVerify: false, authfile: env.registryToken.authfile });
    assert.deepEqual(report, JSON.parse(ok.stdout));
    // REGISTRY_AUTH_FILE, a credential helper: the same lookup as the native CLI.
    assertSame(['--format', 'json', '--tls-verify=false', source], { REGISTRY_AUTH_FILE: env.registryToken.authfile });
  });
});

describe('credential helpers', () => {
  test('credHelpers in ~/.docker/config.json: docker-credential-NAME get, as the native CLI', T, async (t) => {
    const image = imageOf(env, FALLBACK_FIXTURES[0]);
    if (!image) return t.skip('not pushed');
    const { host, user, password } = basic();
    const dir = tempDir('helper');
    try {
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      const answer = JSON.stringify({ ServerURL: host, Username: user, Secret: password });
      fs.writeFileSync(path.join(bin, 'docker-credential-rctest'), `#!/bin/sh\nread server\n[ "$server" = "${host}" ] || exit 1\necho '${answer}'\n`, { mode: 0o755 });
      const helperHome = path.join(dir, 'home');
      fs.mkdirSync(path.join(helperHome, '.docker'), { recursive: true });
      fs.writeFileSync(path.join(helperHome, '.docker', 'config.json'), JSON.stringify({ credHelpers: { [host]: 'rctest' } }));
      const extra = { HOME: helperHome, PATH: `${bin}:${process.env.PATH}` };
      const source = `docker://${host}/${image.repo}:${image.tag}`;
      const native = assertSame(['--format', 'json', '--tls-verify=false', source], extra);
      assert.notEqual(native.status, 2, native.stderr);
      // A helper that fails: no credentials (not an error), so E_AUTH names the file.
      fs.writeFileSync(path.join(helperHome, '.docker', 'config.json'), JSON.stringify({ credHelpers: { [host]: 'missing-helper' } }));
      const failed = assertSame(['--tls-verify=false', source], extra);
      assert.equal(failed.status, 2);
      assert.match(failed.stderr, /E_AUTH: the credential helper docker-credential-missing-helper failed: /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('identity tokens (OAuth2 refresh tokens that docker login stores)', () => {
  test('from an auth file and from a helper answering <token>: exchanged at the token service, as the native CLI', T, async (t) => {
    if (unavailable(t, 'registryToken')) return;
    const priv = (env.privateImages || [])[0];
    if (!priv || !env.registryToken.authfileIdentity) return t.skip('no private image or identity auth file');
    const source = `docker://${env.registryToken.host}/${priv.repo}:${priv.tag}`;
    const ok = assertSame(['--format', 'json', '--tls-verify=false', '--authfile', env.registryToken.authfileIdentity, source]);
    assert.deepEqual(facts(JSON.parse(ok.stdout)), await factsOfArchive(priv.fixture));
    const token = JSON.parse(fs.readFileSync(env.registryToken.authfileIdentity, 'utf8')).auths[env.registryToken.host].identitytoken;
    const dir = tempDir('identity');
    try {
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      const helper = (secret) =>
        fs.writeFileSync(
          path.join(bin, 'docker-credential-rcidentity'),
          `#!/bin/sh\nread server\necho '${JSON.stringify({ Username: '<token>', Secret: secret })}'\n`,
          { mode: 0o755 },
        );
      const home = path.join(dir, 'home');
      fs.mkdirSync(path.join(home, '.docker'), { recursive: true });
      fs.writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify({ credHelpers: { [env.registryToken.host]: 'rcidentity' } }));
      const extra = { HOME: home, PATH: `${bin}:${process.env.PATH}` };
      helper(token);
      const viaHelper = assertSame(['--format', 'json', '--tls-verify=false', source], extra);
      assert.deepEqual(facts(JSON.parse(viaHelper.stdout)), await factsOfArchive(priv.fixture));
      helper('not-the-identity-token');
      const refused = assertSame(['--tls-verify=false', source], extra);
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /E_AUTH/);
      assert.ok(!refused.stderr.includes(token));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an OCI layout directory', () => {
  for (const fixture of FALLBACK_FIXTURES) {
    test(`${fixture}: the archive's facts; the native CLI's JSON`, T, async (t) => {
      const image = imageOf(env, fixture);
      if (!image || !image.layout) return t.skip(`${fixture} has no layout`);
      const source = `oci:${image.layout}:${image.layoutRef ?? 'latest'}`;
      const expected = await factsOfArchive(fixture);
      const report = await api.analyze(source);
      assert.deepEqual(facts(report), expected);
      assert.equal(report.input.source.kind, 'oci-layout');
      assert.equal(report.input.source.resolved, `${image.layout}:${image.layoutRef ?? 'latest'}`);
      const native = assertSame(['--format', 'json', source]);
      assert.deepEqual(JSON.parse(native.stdout), report);
      // Without a name: every image of the layout (here the one).
      assertSame(['--format', 'json', `oci:${image.layout}`]);
    });
  }

  test('the layers of a big layout in worker threads: the same report', T, async (t) => {
    const image = imageOf(env, 'built/deb12-hardened.oci-archive.tar');
    if (!image || !image.layout) return t.skip('no layout');
    const source = `oci:${image.layout}:latest`;
    const seen = [];
    const parallel = await api.analyze(source, { parallelMinBytes: 1, onProgress: (p) => seen.push(p) });
    assert.deepEqual(parallel, await api.analyze(source, { parallelMinBytes: Number.MAX_SAFE_INTEGER }));
    assert.ok(seen.length > 0);
  });

  test('errors: not a layout, an unknown name, an altered blob, as the native CLI', T, async (t) => {
    const image = env.images.find((i) => i.layout && fs.existsSync(i.layout));
    if (!image) return t.skip('no layout');
    const dir = tempDir('layout');
    try {
      const notLayout = assertSame([`oci:${dir}`]);
      assert.match(notLayout.stderr, /^rootless-check: E_NOT_ARCHIVE: .* is not an OCI image layout directory/);
      assert.match(assertSame([`oci:${dir}/nope`]).stderr, /E_NOT_FOUND/);
      const unknown = assertSame([`oci:${image.layout}:no-such-name`]);
      assert.match(unknown.stderr, /^rootless-check: E_NOT_FOUND: .* has no image named \\'no-such-name\\'; it has: /);
      // A copy whose manifest was changed after it was written.
      const copy = path.join(dir, 'copy');
      fs.cpSync(image.layout, copy, { recursive: true });
      const index = JSON.parse(fs.readFileSync(path.join(copy, 'index.json'), 'utf8'));
      const manifest = path.join(copy, 'blobs', ...index.manifests[0].digest.split(':'));
      fs.chmodSync(manifest, 0o644);
      fs.appendFileSync(manifest, ' ');
      const altered = assertSame([`oci:${copy}`]);
      assert.match(altered.stderr, /^rootless-check: E_DIGEST_MISMATCH: .* the layout was altered\n$/);
      await assert.rejects(api.analyze(`oci:${copy}`), { code: 'E_DIGEST_MISMATCH' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a two-platform index', () => {
  for (const args of [[], ['--platform', 'linux/arm64'], ['--platform', 'linux/arm64/v8'], ['--all-platforms'],
    ['--platform', 'linux/s390x']]) {
    test(`registry ${args.join(' ') || '(this machine\'s platform)'}, and the layout: as the native CLI`, T, async (t) => {
      if (unavailable(t, 'multiarch')) return;
      const { repo, tag, layout } = env.multiarch;
      const r = assertSame(['--format', 'json', ...args, '--tls-verify=false', '--authfile', basic().authfile,
        `docker://${basic().host}/${repo}:${tag}`]);
      if (args[1] !== 'linux/s390x') {
        const report = JSON.parse(r.stdout);
        assert.deepEqual(report.input.source.platforms, env.multiarch.platforms.map((p) => p.platform));
        assert.equal(report.images.length, args[0] === '--all-platforms' ? 2 : 1);
      } else {
        assert.match(r.stderr, /E_NOT_FOUND: .* has no image for platform linux\/s390x; it has: /);
      }
      if (layout && args[0] !== '--all-platforms') assertSame(['--format', 'json', ...args, `oci:${layout}`]);
    });
  }
});

describe('the Docker daemon', () => {
  test('docker-daemon:REF: the native CLI\'s JSON; docker save | rootless-check - plus input.source', T, async (t) => {
    if (unavailable(t, 'docker')) return;
    const images = env.docker.images || [];
    if (images.length === 0) return t.skip('no image loaded into dockerd');
    const extra = { DOCKER_HOST: env.docker.host };
    for (const { ref } of images.slice(0, 3)) {
      const native = assertSame(['--format', 'json', `docker-daemon:${ref}`], extra);
      const report = JSON.parse(native.stdout);
      assert.equal(report.input.source.kind, 'docker-daemon');
      assert.equal(report.input.source.resolved, ref);
      const docker = spawnSync('sh', ['-c', 'command -v docker'], { stdio: 'ignore' }).status === 0;
      if (!docker) continue;
      const saved = execFileSync('docker', ['--host', env.docker.host, 'save', ref], { maxBuffer: 1 << 30 });
      const piped = run(process.execPath, [nodeCli, '--format', 'json', '-'], {}, { input: saved });
      const fromPipe = JSON.parse(piped.stdout);
      report.input.source = null;
      assert.deepEqual(report, fromPipe);
    }
    const missing = assertSame(['docker-daemon:fixtures/no-such-image:latest'], extra);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^rootless-check: E_NOT_FOUND: the Docker daemon at /);
    // With a signal the API analyses it in a worker thread (remote.cjs): the same report and errors.
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = env.docker.host;
    try {
      const source = `docker-daemon:${images[0].ref}`;
      const signal = new AbortController().signal;
      assert.deepEqual(await api.analyze(source, { signal }), await api.analyze(source));
      await assert.rejects(api.analyze('docker-daemon:fixtures/no-such-image:latest', { signal }), { code: 'E_NOT_FOUND' });
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  test('no daemon listening: exit 2, E_NETWORK, as the native CLI', T, () => {
    const r = assertSame(['docker-daemon:x'], { DOCKER_HOST: `unix://${path.join(home, 'no.sock')}` });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^rootless-check: E_NETWORK: cannot connect to the Docker daemon at unix:\/\/.*: No such file or directory \(os error 2\)/);
  });
});

describe('sources as the native CLI tells them apart', () => {
  const require = createRequire(import.meta.url);
  test('names, paths and prefixes', () => {
    const { parseSource } = require(path.join(pkgDir, 'node', 'source.cjs'));
    const parse = (s, existing = []) => parseSource(s, { exists: (p) => existing.includes(p) });
    assert.equal(parse('alpine').reference.normalized, 'docker.io/library/alpine:latest');
    assert.equal(parse('alpine').reference.apiHost, 'registry-1.docker.io');
    assert.equal(parse('ghcr.io/org/app:1').reference.normalized, 'ghcr.io/org/app:1');
    assert.equal(parse('docker://alpine', ['alpine']).type, 'registry');
    assert.deepEqual(parse('alpine', ['alpine']), { type: 'archive', path: 'alpine' });
    for (const p of ['image.tar', './alpine', '/tmp/x', 'Bad_Name!', '-', 'x.tar.gz', '~/img']) {
      assert.equal(parse(p).type, 'archive', p);
    }
    assert.deepEqual(parse('docker-archive:a.tar'), { type: 'archive', path: 'a.tar' });
    assert.deepEqual(parse('oci-archive:/x/a.tar'), { type: 'archive', path: '/x/a.tar' });
    assert.deepEqual(parse('oci:/x/dir:v1'), { type: 'oci-layout', dir: '/x/dir', name: 'v1' });
    assert.deepEqual(parse('oci:dir'), { type: 'oci-layout', dir: 'dir', name: null });
    assert.deepEqual(parse('docker-daemon:alpine:3'), { type: 'daemon', name: 'alpine:3' });
    for (const bad of ['docker://Alpine', 'oci:', 'docker-daemon:', 'docker-archive:']) {
      assert.throws(() => parse(bad), { code: 'E_USAGE' }, bad);
    }
  });

  test('a missing file with an archive ending stays a file: E_IO, not a registry lookup', async () => {
    await assert.rejects(api.analyze(path.join(home, 'nope.tar')), { code: 'E_IO' });
    await assert.rejects(api.analyze('docker://x', { platform: 'linux' }), { code: 'E_USAGE' });
    await assert.rejects(api.analyze('docker://x', { concurrency: 0 }), { code: 'E_USAGE' });
  });

  test('browsers refuse references with E_NETWORK (no CORS; a page reads local files)', async () => {
    const web = await import(pathToFileURL(path.join(pkgDir, 'web', 'index.js')));
    await assert.rejects(web.analyze('docker://127.0.0.1:5000/a:b'), (e) => e.code === 'E_NETWORK' && /CORS/.test(e.message));
  });
});
