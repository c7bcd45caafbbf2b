// Checks the test services themselves (scripts/services.sh), not rootless-check:
// the env file's contract, the auth policies, every fault-proxy mode, the pushed
// images, the two-platform index and dockerd. Run with
//   node --test tests/support/selftest.mjs
// (about 20 s when the services are up; starts them if they are not).
// Not matched by tests/node/*.test.mjs on purpose: it tests the harness.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sha = (buf) => `sha256:${crypto.createHash('sha256').update(buf).digest('hex')}`;
const session = `st${crypto.randomBytes(3).toString('hex')}`; // our own counters in the proxy
const ACCEPT = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

let env;
let basicAuth;

/** One request; resolves with what arrived, also when the server closes early or stalls. */
function req(url, { method = 'GET', headers = {}, body, maxBytes = 64 << 20, idleMs = 10_000, totalMs = 30_000, socketPath } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const chunks = [];
    let bytes = 0;
    let done = false;
    const finish = (res, why) => {
      if (done) return;
      done = true;
      clearTimeout(total);
      r.destroy();
      resolve({ status: res?.statusCode, headers: res?.headers || {}, body: Buffer.concat(chunks), bytes, end: why });
    };
    const r = http.request({ method, headers, socketPath, host: socketPath ? undefined : u.hostname, port: u.port, path: u.pathname + u.search }, (res) => {
      r.setTimeout(idleMs, () => finish(res, 'idle'));
      res.on('data', (c) => {
        bytes += c.length;
        if (chunks.reduce((n, x) => n + x.length, 0) < maxBytes) chunks.push(c);
        if (bytes >= maxBytes) finish(res, 'maxBytes');
      });
      res.on('end', () => finish(res, 'end'));
      res.on('aborted', () => finish(res, 'aborted'));
      res.on('error', () => finish(res, 'error'));
      res.on('close', () => finish(res, res.complete ? 'end' : 'closed'));
    });
    const total = setTimeout(() => r.destroy(new Error(`no response in ${totalMs} ms: ${url}`)), totalMs);
    r.on('error', (e) => {
      clearTimeout(total);
      if (!done) reject(e);
    });
    r.end(body);
  });
}

const json = async (url, opts) => JSON.parse((await req(url, opts)).body.toString('utf8'));
const stats = () => json(env.proxy.statsUrl);

before(() => {
  const out = execFileSync('bash', [path.join(root, 'scripts/services.sh'), 'start'], { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'inherit'] });
  env = JSON.parse(fs.readFileSync(out.trim().split('\n').pop(), 'utf8'));
  basicAuth = `Basic ${Buffer.from(`${env.registryBasic.user}:${env.registryBasic.password}`).toString('base64')}`;
});

describe('the env file', () => {
  test('has the contract keys, absolute paths and loopback hosts only', () => {
    assert.ok(path.isAbsolute(env.dir));
    for (const k of ['host', 'user', 'password', 'authfile']) assert.ok(env.registryBasic[k], `registryBasic.${k}`);
    for (const k of ['host', 'tokenServer', 'user', 'password', 'authfile']) assert.ok(env.registryToken[k], `registryToken.${k}`);
    for (const k of ['base', 'statsUrl', 'resetUrl']) assert.ok(env.proxy[k], `proxy.${k}`);
    for (const h of [env.registryBasic.host, env.registryToken.host, env.proxy.base]) assert.match(h, /^127\.0\.0\.1:\d+$/);
    assert.match(env.registryToken.tokenServer, /^http:\/\/127\.0\.0\.1:\d+\/token$/);
    assert.ok(env.images.length >= 20, `${env.images.length} images`);
    for (const i of env.images) {
      for (const k of ['fixture', 'repo', 'tag', 'layout', 'tokenRepo', 'manifestDigest']) assert.ok(i[k], `${i.fixture}: ${k}`);
      assert.match(i.repo, /^fixtures\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/);
      assert.ok(fs.existsSync(path.join(i.layout, 'index.json')), i.layout);
    }
    assert.ok(env.skipped.some((s) => /expected 1 item, got 2/.test(s.reason)), 'the multi-image archive is recorded as skipped');
    assert.ok(env.privateImages.length >= 1);
    assert.equal(env.multiarch.platforms.length, 2);
    const auths = JSON.parse(fs.readFileSync(env.registryBasic.authfile, 'utf8')).auths;
    assert.ok(auths[env.registryBasic.host] && auths[env.proxy.base], 'auth.json has the registry and the proxy');
    assert.ok(JSON.parse(fs.readFileSync(env.registryToken.authfile, 'utf8')).auths[env.registryToken.host]);
  });

  test('start again: the same services, at once', () => {
    const t = Date.now();
    const out = execFileSync('bash', [path.join(root, 'scripts/services.sh'), 'start'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] });
    assert.ok(Date.now() - t < 5000);
    assert.deepEqual(JSON.parse(fs.readFileSync(out.trim(), 'utf8')).registryBasic, env.registryBasic);
    const e = spawnSync('bash', [path.join(root, 'scripts/services.sh'), 'env'], { encoding: 'utf8' });
    assert.equal(e.status, 0);
    assert.equal(e.stdout.trim(), out.trim());
  });
});

describe('registry-basic', () => {
  test('refuses without credentials, serves with them', async () => {
    const img = env.images[0];
    const anon = await req(`http://${env.registryBasic.host}/v2/${img.repo}/manifests/latest`, { headers: { accept: ACCEPT } });
    assert.equal(anon.status, 401);
    assert.match(anon.headers['www-authenticate'], /^Basic /);
    const bad = await req(`http://${env.registryBasic.host}/v2/`, { headers: { authorization: `Basic ${Buffer.from('rcuser:wrong').toString('base64')}` } });
    assert.equal(bad.status, 401);
    for (const i of env.images) {
      const r = await req(`http://${env.registryBasic.host}/v2/${i.repo}/manifests/latest`, { method: 'HEAD', headers: { accept: ACCEPT, authorization: basicAuth } });
      assert.equal(r.status, 200, i.repo);
      assert.equal(r.headers['docker-content-digest'], i.manifestDigest, i.repo);
    }
  });
});

describe('registry-token and the token server', () => {
  const ts = () => env.registryToken.tokenServer;
  const q = (scope) => `${ts()}?service=test-registry&scope=${encodeURIComponent(scope)}`;
  const userAuth = () => `Basic ${Buffer.from(`rcuser:${env.registryToken.password}`).toString('base64')}`;

  test('policy: public pull anonymous; private pull and any push need credentials; wrong ones fail', async () => {
    const pub = env.images[0].tokenRepo;
    const priv = env.privateImages[0].repo;
    assert.equal((await req(q(`repository:${pub}:pull`))).status, 200);
    assert.equal((await req(q(`repository:${priv}:pull`))).status, 401);
    assert.equal((await req(q(`repository:${pub}:pull,push`))).status, 401);
    assert.equal((await req(q(`repository:${priv}:pull`), { headers: { authorization: userAuth() } })).status, 200);
    assert.equal((await req(q(`repository:${pub}:pull,push`), { headers: { authorization: userAuth() } })).status, 200);
    const wrong = `Basic ${Buffer.from('rcuser:wrong').toString('base64')}`;
    assert.equal((await req(q(`repository:${pub}:pull`), { headers: { authorization: wrong } })).status, 401);
  });

  test('the token is an RS256 JWT with x5c, and the registry takes it', async () => {
    const img = env.images[0];
    const ch = await req(`http://${env.registryToken.host}/v2/${img.tokenRepo}/manifests/latest`, { headers: { accept: ACCEPT } });
    assert.equal(ch.status, 401);
    const wa = ch.headers['www-authenticate'];
    assert.match(wa, /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="test-registry",scope="repository:[^"]+:pull"/);
    const body = await json(q(`repository:${img.tokenRepo}:pull`));
    assert.equal(body.expires_in, 300);
    assert.equal(body.token, body.access_token);
    assert.ok(body.issued_at);
    const header = JSON.parse(Buffer.from(body.token.split('.')[0], 'base64url'));
    assert.equal(header.alg, 'RS256');
    assert.equal(header.x5c.length, 1);
    const r = await req(`http://${env.registryToken.host}/v2/${img.tokenRepo}/manifests/latest`, { method: 'HEAD', headers: { accept: ACCEPT, authorization: `Bearer ${body.token}` } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['docker-content-digest'], img.manifestDigest);
    // a token for one repository does not open another
    const other = env.privateImages[0].repo;
    const r2 = await req(`http://${env.registryToken.host}/v2/${other}/manifests/latest`, { method: 'HEAD', headers: { accept: ACCEPT, authorization: `Bearer ${body.token}` } });
    assert.equal(r2.status, 401);
  });

  test('skopeo: anonymous public pull works, private needs --creds', () => {
    const host = env.registryToken.host;
    const skopeo = (...a) => spawnSync('skopeo', ['inspect', '--tls-verify=false', ...a], { encoding: 'utf8', timeout: 60_000 });
    const pub = skopeo(`docker://${host}/${env.images[0].tokenRepo}:latest`);
    assert.equal(pub.status, 0, pub.stderr);
    assert.equal(JSON.parse(pub.stdout).Digest, env.images[0].manifestDigest);
    const priv = env.privateImages[0];
    const anon = skopeo(`docker://${host}/${priv.repo}:latest`);
    assert.notEqual(anon.status, 0);
    assert.match(anon.stderr, /unauthorized|credentials/);
    const withCreds = skopeo('--creds', `rcuser:${env.registryToken.password}`, `docker://${host}/${priv.repo}:latest`);
    assert.equal(withCreds.status, 0, withCreds.stderr);
    const withAuthfile = skopeo('--authfile', env.registryToken.authfile, `docker://${host}/${priv.repo}:latest`);
    assert.equal(withAuthfile.status, 0, withAuthfile.stderr);
  });
});

describe('the two-platform index', () => {
  test('is an OCI index with linux/amd64 and linux/arm64 manifests', async () => {
    const r = await req(`http://${env.registryBasic.host}/v2/${env.multiarch.repo}/manifests/latest`, { headers: { accept: ACCEPT, authorization: basicAuth } });
    assert.equal(r.status, 200);
    assert.equal(sha(r.body), env.multiarch.indexDigest);
    const index = JSON.parse(r.body);
    assert.deepEqual(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`), ['linux/amd64', 'linux/arm64']);
    for (const m of index.manifests) {
      const mr = await req(`http://${env.registryBasic.host}/v2/${env.multiarch.repo}/manifests/${m.digest}`, { headers: { accept: ACCEPT, authorization: basicAuth } });
      assert.equal(mr.status, 200);
      const cfg = JSON.parse(mr.body).config;
      const cr = await req(`http://${env.registryBasic.host}/v2/${env.multiarch.repo}/blobs/${cfg.digest}`, { headers: { authorization: basicAuth } });
      assert.equal(JSON.parse(cr.body).architecture, m.platform.architecture);
    }
  });
});

describe('the fault proxy', () => {
  const img = () => env.images.find((i) => i.fixture === 'built/bb.docker20-save.tar') || env.images[0];
  let manifest;
  let blob; // {digest, size}
  let blobBytes;
  const P = () => env.proxy.base;
  const A = (mode, p) => `http://${P()}/${mode}.${session}/v2${p}`; // spelling A
  const B = (mode, p) => `http://${P()}/v2/${mode}.${session}/${p.slice(1)}`; // spelling B
  const auth = (h = {}) => ({ authorization: basicAuth, ...h });

  before(async () => {
    const r = await req(`http://${env.registryBasic.host}/v2/${img().repo}/manifests/latest`, { headers: auth({ accept: ACCEPT }) });
    manifest = JSON.parse(r.body);
    blob = manifest.layers.reduce((a, b) => (b.size > a.size ? b : a));
    blobBytes = (await req(`http://${env.registryBasic.host}/v2/${img().repo}/blobs/${blob.digest}`, { headers: auth() })).body;
    assert.equal(sha(blobBytes), blob.digest);
  });
  const blobPath = () => `/${img().repo}/blobs/${blob.digest}`;
  const manifestPath = () => `/${img().repo}/manifests/latest`;

  test('ok: both spellings pass through; no credentials, the upstream 401', async () => {
    for (const u of [A('ok', blobPath()), B('ok', blobPath())]) {
      const r = await req(u, { headers: auth() });
      assert.equal(r.status, 200);
      assert.equal(sha(r.body), blob.digest);
    }
    const anon = await req(B('ok', manifestPath()));
    assert.equal(anon.status, 401);
    assert.match(anon.headers['www-authenticate'], /^Basic realm=/);
  });

  test('ok: a push through the proxy; Location stays on the proxy and the mode', async () => {
    const data = Buffer.from(`selftest ${session}\n`);
    for (const [spell, url] of [['A', A], ['B', B]]) {
      const start = await req(url('ok', '/fixtures/selftest/blobs/uploads/'), { method: 'POST', headers: auth({ 'content-length': 0 }) });
      assert.equal(start.status, 202, spell);
      const loc = new URL(start.headers.location);
      assert.equal(loc.host, P(), spell);
      assert.ok(spell === 'A' ? loc.pathname.startsWith(`/ok.${session}/v2/fixtures/selftest/blobs/uploads/`) : loc.pathname.startsWith(`/v2/ok.${session}/fixtures/selftest/blobs/uploads/`), loc.pathname);
      loc.searchParams.set('digest', sha(data));
      const put = await req(loc.href, { method: 'PUT', headers: auth({ 'content-length': data.length, 'content-type': 'application/octet-stream' }), body: data });
      assert.equal(put.status, 201, `${spell}: ${put.body}`);
      assert.equal(new URL(put.headers.location).host, P());
    }
  });

  test('cut: half the body then a close; a Range request resumes', async () => {
    const r = await req(A('cut', blobPath()), { headers: auth() });
    assert.equal(r.status, 200);
    assert.equal(Number(r.headers['content-length']), blob.size);
    assert.notEqual(r.end, 'end');
    assert.equal(r.bytes, Math.floor(blob.size / 2));
    const rest = await req(A('cut', blobPath()), { headers: auth({ range: `bytes=${r.bytes}-` }) });
    assert.equal(rest.status, 206);
    assert.equal(sha(Buffer.concat([r.body, rest.body])), blob.digest);
    assert.ok((await stats()).faults[`cut.${session}`] >= 1);
  });

  test('429: once per blob, with Retry-After: 1', async () => {
    const r1 = await req(B('429', blobPath()), { headers: auth() });
    assert.equal(r1.status, 429);
    assert.equal(r1.headers['retry-after'], '1');
    const r2 = await req(B('429', blobPath()), { headers: auth() });
    assert.equal(r2.status, 200);
    assert.equal(sha(r2.body), blob.digest);
    assert.equal((await req(B('429', manifestPath()), { headers: auth({ accept: ACCEPT }) })).status, 200, 'manifests are not 429ed');
  });

  test('503: once per manifest and per blob', async () => {
    for (const p of [manifestPath(), blobPath()]) {
      assert.equal((await req(A('503', p), { headers: auth({ accept: ACCEPT }) })).status, 503, p);
      assert.equal((await req(A('503', p), { headers: auth({ accept: ACCEPT }) })).status, 200, p);
    }
  });

  test('slow: the whole body, 64 KiB every 50 ms', async () => {
    const t = Date.now();
    const r = await req(A('slow', blobPath()), { headers: auth() });
    assert.equal(sha(r.body), blob.digest);
    assert.ok(Date.now() - t >= (Math.ceil(blob.size / 65536) - 1) * 50 * 0.9, `${Date.now() - t} ms`);
  });

  test('redirect: 307 to another port, which counts requests that carry Authorization', async () => {
    const r = await req(A('redirect', blobPath()), { headers: auth() });
    assert.equal(r.status, 307);
    const loc = new URL(r.headers.location);
    assert.equal(loc.hostname, '127.0.0.1');
    assert.notEqual(loc.port, P().split(':')[1]);
    const before1 = await stats();
    const key = `redirect.${session}`;
    const good = await req(loc.href); // a client that drops Authorization
    assert.equal(sha(good.body), blob.digest);
    const ranged = await req(loc.href, { headers: { range: 'bytes=10-19' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.body.length, 10);
    let s = await stats();
    assert.equal(s.redirectAuthSeen, before1.redirectAuthSeen);
    assert.equal(s.redirects[key].authSeen, 0);
    await req(loc.href, { headers: auth() }); // a client that leaks it
    s = await stats();
    assert.equal(s.redirects[key].authSeen, 1);
    assert.equal(s.redirectAuthSeen, before1.redirectAuthSeen + 1);
    assert.equal((await req(A('redirect', blobPath()))).status, 401, 'no credentials: the upstream 401, no redirect');
  });

  test('hostile-endless: 200, no length, keeps sending', async () => {
    const r = await req(A('hostile-endless', manifestPath()), { headers: auth({ accept: ACCEPT }), maxBytes: 8 << 20 });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], undefined);
    assert.equal(r.end, 'maxBytes');
  });

  test('hostile-bigmanifest: Content-Length 1 GB, 4 MiB, then nothing', async () => {
    const r = await req(A('hostile-bigmanifest', manifestPath()), { headers: auth({ accept: ACCEPT }), idleMs: 1500 });
    assert.equal(r.headers['content-length'], '1000000000');
    assert.equal(r.end, 'idle');
    assert.ok(r.bytes >= 4 << 20 && r.bytes < 5 << 20, String(r.bytes));
  });

  test('hostile-loop: a redirect to the same path, forever', async () => {
    let url = A('hostile-loop', manifestPath());
    for (let i = 1; i <= 5; i++) {
      const r = await req(url, { headers: auth({ accept: ACCEPT }) });
      assert.equal(r.status, 307);
      const loc = new URL(r.headers.location);
      assert.equal(loc.pathname, new URL(url).pathname);
      assert.equal(loc.searchParams.get('loop'), String(i));
      url = loc.href;
    }
  });

  test('hostile-drip: one byte a second', async () => {
    const r = await req(A('hostile-drip', manifestPath()), { headers: auth({ accept: ACCEPT }), totalMs: 60_000, idleMs: 3000, maxBytes: 3 });
    assert.equal(r.status, 200);
    assert.ok(r.bytes <= 3);
    assert.ok(Number(r.headers['content-length']) > 100);
  });

  test('hostile-ctype: the manifest says text/html', async () => {
    const r = await req(A('hostile-ctype', manifestPath()), { headers: auth({ accept: ACCEPT }) });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/html/);
    JSON.parse(r.body);
  });

  test('hostile-digest: a changed byte, the original Docker-Content-Digest', async () => {
    const r = await req(A('hostile-digest', manifestPath()), { headers: auth({ accept: ACCEPT }) });
    assert.equal(r.status, 200);
    assert.equal(r.headers['docker-content-digest'], img().manifestDigest);
    assert.notEqual(sha(r.body), img().manifestDigest);
    assert.equal(Number(r.headers['content-length']), r.body.length);
    JSON.parse(r.body); // still JSON: only a digest's hex digit changed
  });

  test('hostile-blobdigest: a blob with one byte changed', async () => {
    const r = await req(B('hostile-blobdigest', blobPath()), { headers: auth() });
    assert.equal(r.status, 200);
    assert.equal(r.body.length, blob.size);
    assert.notEqual(sha(r.body), blob.digest);
  });

  test('_reset?mode= clears one mode key', async () => {
    assert.ok((await stats()).requests[`503.${session}`] > 0);
    await req(`${env.proxy.resetUrl}?mode=503.${session}`);
    const s = await stats();
    assert.equal(s.requests[`503.${session}`], undefined);
    assert.equal((await req(A('503', blobPath()), { headers: auth() })).status, 503, 'first again after the reset');
  });
});

describe('dockerd', () => {
  test('answers and lists the loaded fixtures', async (t) => {
    if (!env.docker.available) return t.skip(`docker unavailable: ${env.docker.reason}`);
    const socketPath = env.docker.host.replace(/^unix:\/\//, '');
    assert.equal((await req('http://docker/_ping', { socketPath })).body.toString(), 'OK');
    const images = JSON.parse((await req('http://docker/images/json', { socketPath })).body);
    const tags = new Set(images.flatMap((i) => i.RepoTags || []));
    assert.ok(env.docker.images.length >= 3);
    for (const i of env.docker.images) assert.ok(tags.has(i.ref), i.ref);
    return undefined;
  });
});
