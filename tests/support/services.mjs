#!/usr/bin/env node
// The test services behind `scripts/services.sh` (start | stop | env | clean):
// two Docker registries (Basic auth; token auth with tests/support/token-server.mjs),
// the fault proxy (tests/support/fault-proxy.mjs), the fixtures pushed into them and
// copied to OCI layout directories, a two-platform index, and a private dockerd with a
// few fixtures loaded. Everything listens on 127.0.0.1 only, on ports picked free.
// The description of it all is STATE/env.json (the contract: tests/support/README.md).
// Progress goes to stderr; `start` and `env` print the env file's path on stdout.
// scripts/services.sh holds a lock around this, so concurrent callers take turns.

import { execFile, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const STATE = path.resolve(root, process.env.ROOTLESS_CHECK_SERVICES_DIR || 'target/services');
const FIXTURES = path.resolve(root, process.env.ROOTLESS_CHECK_FIXTURES || '../shared/fixtures');
const ENV = path.join(STATE, 'env.json');
const PIDS = path.join(STATE, 'pids.json');
const CACHE = path.join(STATE, 'cache.json');
const LOGS = path.join(STATE, 'logs');
const USER = 'rcuser';
const SERVICE = 'test-registry';
const ISSUER = 'test-issuer';
const JOBS = 4;
// Pushed to the token registry under private/ as well as public/.
const PRIVATE = ['built/bb.docker20-save.tar', 'built/s6-overlay-real.docker-archive.tar'];
// Loaded into dockerd: small single-image archives of each kind.
const DOCKER_LOAD = [
  'built/bb.docker20-save.tar',
  'built/bb-alpinelike.docker-archive.tar',
  'built/bb-filecap.docker26-save.tar',
  'built/bb-suid-wh.docker20-save.tar',
  'built/s6-overlay-real.docker-archive.tar',
  'built/s6-overlay-real-root.docker-archive.tar',
  'public/google+go-containerregistry__whiteout_image.tar',
];
// The two-platform index: linux/amd64 as built, linux/arm64 from a copy whose config says arm64.
const MULTIARCH = { amd64: 'built/bb.docker20-save.tar', arm64: 'built/bb-alpinelike.docker-archive.tar' };
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
const log = (msg) => process.stderr.write(`services [${secs()}s] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const readJson = (f, fallback) => {
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch {
    return fallback;
  }
};
function writeJson(f, obj) {
  fs.writeFileSync(`${f}.tmp`, `${JSON.stringify(obj, null, 2)}\n`);
  fs.renameSync(`${f}.tmp`, f);
}
const sha256 = (buf) => `sha256:${crypto.createHash('sha256').update(buf).digest('hex')}`;
const basic = (user, pass) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** Runs a command; never throws: {code, stdout, stderr}. Bounded by `timeout`. */
function run(cmd, args, { timeout = 300_000, env } = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, maxBuffer: 64 << 20, env: env ? { ...process.env, ...env } : process.env }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : err.signal || err.code || 1) : 0, stdout, stderr });
    });
  });
}
const lastMessage = (stderr) => {
  const lines = String(stderr).trim().split('\n').filter(Boolean);
  const l = lines[lines.length - 1] || '';
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(l);
  return (m ? m[1].replace(/\\"/g, '"') : l).slice(0, 600);
};

async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---- processes -------------------------------------------------------------
// pids.json: {name: {pid, match}}; `match` must occur in /proc/PID/cmdline, so a
// recycled pid is never signalled.
function alive(entry) {
  if (!entry || !entry.pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${entry.pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) [ZX]/s.test(stat)) return false;
    const cmdline = fs.readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return cmdline.includes(entry.match);
  } catch {
    return false;
  }
}
function recordPid(name, pid, match) {
  const pids = readJson(PIDS, {});
  pids[name] = { pid, match };
  writeJson(PIDS, pids);
}

/** Starts a daemon detached (its own session), output to logs/NAME.log. */
function daemon(name, cmd, args, { env, match } = {}) {
  const file = path.join(LOGS, `${name}.log`);
  if (fs.existsSync(file)) fs.renameSync(file, `${file}.1`); // this start's log, and the previous one
  const fd = fs.openSync(file, 'a');
  fs.writeSync(fd, `\n==== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    cwd: STATE,
    env: { ...process.env, ...env },
  });
  fs.closeSync(fd);
  const state = { exited: null };
  child.on('exit', (code, sig) => {
    state.exited = `exited with ${code ?? sig}`;
  });
  child.on('error', (e) => {
    state.exited = `failed to start: ${e.message}`;
  });
  child.unref();
  if (child.pid) recordPid(name, child.pid, match || cmd);
  return { name, pid: child.pid, state, child };
}

function logTail(name, n = 15) {
  try {
    return fs.readFileSync(path.join(LOGS, `${name}.log`), 'utf8').trim().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** Calls check() until it returns truthy; bounded; fails early if the daemon exits. */
async function waitFor(what, check, { timeoutMs = 30_000, proc } = {}) {
  const until = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < until && i < 2000; i++) {
    if (proc?.state.exited) throw new Error(`${what}: ${proc.state.exited}\n${logTail(proc.name)}`);
    try {
      const v = await check();
      if (v) return v;
    } catch {
      /* not yet */
    }
    await sleep(Math.min(50 * (i + 1), 300));
  }
  throw new Error(`${what}: not ready after ${timeoutMs / 1000} s${proc ? `\n${logTail(proc.name)}` : ''}`);
}

/** One HTTP request, 5 s at most: {status, headers, body}. */
function request(url, { method = 'GET', headers = {}, socketPath, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      { method, headers, socketPath, host: socketPath ? undefined : u.hostname, port: u.port, path: u.pathname + u.search },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

async function stopAll() {
  const pids = readJson(PIDS, {});
  const names = Object.keys(pids);
  const live = names.filter((n) => alive(pids[n]));
  for (const n of live) {
    try {
      process.kill(pids[n].pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const until = Date.now() + 20_000;
  while (Date.now() < until && live.some((n) => alive(pids[n]))) await sleep(100);
  for (const n of live.filter((x) => alive(pids[x]))) {
    log(`${n} (pid ${pids[n].pid}) did not stop on SIGTERM; SIGKILL`);
    try {
      process.kill(pids[n].pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const f of [ENV, PIDS]) fs.rmSync(f, { force: true });
  if (live.length) log(`stopped ${live.map((n) => `${n} (${pids[n].pid})`).join(', ')}`);
}

/** Are the services of this env file up? (pids alive, ports answering) */
async function healthy(env) {
  if (!env) return false;
  const pids = readJson(PIDS, {});
  const need = ['token-server', 'registry-basic', 'registry-token', 'fault-proxy'];
  if (env.docker?.available) need.push('dockerd');
  if (!need.every((n) => alive(pids[n]))) return false;
  try {
    const checks = await Promise.all([
      request(`http://${env.registryBasic.host}/v2/`),
      request(`http://${env.registryToken.host}/v2/`),
      request(env.registryToken.tokenServer.replace(/\/token$/, '/_health')),
      request(`http://${env.proxy.base}/_health`),
      env.docker?.available ? request('http://docker/_ping', { socketPath: env.docker.host.replace(/^unix:\/\//, '') }) : { status: 200 },
    ]);
    return checks[0].status === 401 && checks[1].status === 401 && checks[2].status === 200 && checks[3].status === 200 && checks[4].status === 200;
  } catch {
    return false;
  }
}

// ---- registry helpers ----------------------------------------------------------
async function bearer(tokenServer, repo, auth) {
  const r = await request(`${tokenServer}?service=${SERVICE}&scope=${encodeURIComponent(`repository:${repo}:pull`)}`, { headers: auth ? { authorization: auth } : {} });
  if (r.status !== 200) throw new Error(`token server: ${r.status} ${r.body}`);
  return `Bearer ${JSON.parse(r.body).token}`;
}
/** HEAD a manifest: {digest, mediaType} or null. */
async function manifestHead(host, repo, ref, auth) {
  const r = await request(`http://${host}/v2/${repo}/manifests/${ref}`, { method: 'HEAD', headers: { authorization: auth, accept: ACCEPT } });
  if (r.status !== 200) return null;
  return { digest: r.headers['docker-content-digest'], mediaType: r.headers['content-type'] };
}

// ---- fixtures -----------------------------------------------------------------
/** A fixture's file name as a repository path component: lowercased, [a-z0-9._-] only, no
 * archive extension (".tar" dropped; ".tar.gz" dropped and "-gz" added, so that the gzipped
 * copy of an archive gets its own repository). */
function repoName(rel) {
  let base = path.basename(rel).toLowerCase();
  let suffix = '';
  if (base.endsWith('.tar.gz')) [base, suffix] = [base.slice(0, -7), '-gz'];
  else if (base.endsWith('.tgz')) [base, suffix] = [base.slice(0, -4), '-gz'];
  else if (base.endsWith('.tar')) base = base.slice(0, -4);
  let s = base.replace(/[^a-z0-9._-]/g, '-') + suffix;
  // separators allowed between alphanumerics: ".", "_", "__" or a run of "-"
  s = s.replace(/[._-]+/g, (sep) => (/^(\.|_|__|-+)$/.test(sep) ? sep : '-'));
  s = s.replace(/^[._-]+|[._-]+$/g, '');
  return s || 'fixture';
}

function fixtureList() {
  const expected = readJson(path.join(FIXTURES, 'EXPECTED.json'), null);
  if (!Array.isArray(expected)) throw new Error(`no fixtures: ${path.join(FIXTURES, 'EXPECTED.json')} is missing (set ROOTLESS_CHECK_FIXTURES)`);
  const used = new Set();
  return expected.map((e) => {
    let name = repoName(e.file);
    for (let i = 2; used.has(name); i++) name = `${repoName(e.file)}-${i}`;
    used.add(name);
    const file = path.join(FIXTURES, e.file);
    const st = fs.statSync(file);
    return { rel: e.file, file, name, size: st.size, mtimeMs: st.mtimeMs };
  });
}

async function listTar(file) {
  const r = await run('tar', ['-tf', file], { timeout: 60_000 });
  if (r.code !== 0) throw new Error(`tar -tf ${file}: ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter(Boolean);
}
function skopeo(args, timeout = 300_000) {
  return run('skopeo', args, { timeout, env: { TMPDIR: path.join(STATE, 'tmp') } });
}

// ---- start -------------------------------------------------------------------------
async function start() {
  fs.mkdirSync(LOGS, { recursive: true });
  const previous = readJson(ENV, null);
  if (await healthy(previous)) {
    log('already running');
    process.stdout.write(`${ENV}\n`);
    return;
  }
  await stopAll(); // leftovers of a start that failed or of a crash
  for (const d of ['tmp', 'layouts', 'secrets', 'registry-basic', 'registry-token', 'docker']) fs.mkdirSync(path.join(STATE, d), { recursive: true });
  fs.rmSync(path.join(STATE, 'tmp'), { recursive: true, force: true });
  fs.mkdirSync(path.join(STATE, 'tmp'));

  // secrets: a password and a token-signing certificate, new on every start
  const password = crypto.randomBytes(18).toString('base64url');
  // What `docker login` stores as `identitytoken` when the token service
  // hands out OAuth2 refresh tokens.
  const identityToken = crypto.randomBytes(24).toString('base64url');
  const sec = path.join(STATE, 'secrets');
  const ht = spawnSync('htpasswd', ['-niB', USER], { input: `${password}\n`, encoding: 'utf8' });
  if (ht.status !== 0) throw new Error(`htpasswd: ${ht.stderr || ht.error}`);
  fs.writeFileSync(path.join(sec, 'htpasswd'), ht.stdout.trim() + '\n', { mode: 0o600 });
  const key = path.join(sec, 'token-key.pem');
  const cert = path.join(sec, 'token-cert.pem');
  const ssl = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '7', '-subj', '/CN=rootless-check test token issuer'], { timeout: 60_000 });
  if (ssl.code !== 0) throw new Error(`openssl: ${ssl.stderr}`);

  const docker = startDockerd();

  const [basicPort, tokenPort, tokenServerPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const tokenServer = `http://127.0.0.1:${tokenServerPort}/token`;
  const ts = daemon('token-server', process.execPath, [path.join(here, 'token-server.mjs'), '--key', key, '--cert', cert, '--user', USER, '--issuer', ISSUER, '--service', SERVICE, '--port', String(tokenServerPort)], {
    env: { TOKEN_SERVER_PASSWORD: password, TOKEN_SERVER_REFRESH_TOKEN: identityToken },
    match: key,
  });
  const reg = (name, port, auth) => {
    const dir = path.join(STATE, name);
    const config = path.join(dir, 'config.yml');
    // Only http.addr listens: no debug server, no notifications.
    fs.writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: info',
        `  fields: {service: ${name}}`,
        'storage:',
        `  filesystem: {rootdirectory: ${JSON.stringify(path.join(dir, 'data'))}}`,
        '  delete: {enabled: true}',
        '  maintenance: {uploadpurging: {enabled: false}}',
        'http:',
        `  addr: "127.0.0.1:${port}"`,
        `  secret: ${JSON.stringify(crypto.randomBytes(16).toString('hex'))}`,
        '  headers: {X-Content-Type-Options: [nosniff]}',
        'auth:',
        ...auth,
        '',
      ].join('\n'),
    );
    return daemon(name, 'docker-registry', ['serve', config], { match: config });
  };
  const rb = reg('registry-basic', basicPort, [`  htpasswd: {realm: basic-realm, path: ${JSON.stringify(path.join(sec, 'htpasswd'))}}`]);
  const rt = reg('registry-token', tokenPort, [
    '  token:',
    `    realm: ${JSON.stringify(tokenServer)}`,
    `    service: ${SERVICE}`,
    `    issuer: ${ISSUER}`,
    `    rootcertbundle: ${JSON.stringify(cert)}`,
  ]);
  const portFile = path.join(STATE, 'fault-proxy.port.json');
  fs.rmSync(portFile, { force: true });
  const fp = daemon('fault-proxy', process.execPath, [path.join(here, 'fault-proxy.mjs'), '--upstream', `127.0.0.1:${basicPort}`, '--user', USER, '--port-file', portFile], {
    env: { FAULT_PROXY_PASSWORD: password },
    match: portFile,
  });
  await Promise.all([
    waitFor('registry-basic', async () => (await request(`http://127.0.0.1:${basicPort}/v2/`)).status === 401, { proc: rb }),
    waitFor('registry-token', async () => (await request(`http://127.0.0.1:${tokenPort}/v2/`)).status === 401, { proc: rt }),
    waitFor('token-server', async () => (await request(`http://127.0.0.1:${tokenServerPort}/_health`)).status === 200, { proc: ts }),
    waitFor('fault-proxy', async () => fs.existsSync(portFile), { proc: fp }),
  ]);
  const { port: proxyPort, redirectPort } = readJson(portFile);
  await waitFor('fault-proxy', async () => (await request(`http://127.0.0.1:${proxyPort}/_health`)).status === 200, { proc: fp });
  log(`registries up: basic 127.0.0.1:${basicPort}, token 127.0.0.1:${tokenPort} (token server :${tokenServerPort}), proxy :${proxyPort} (redirect target :${redirectPort})`);

  const basicHost = `127.0.0.1:${basicPort}`;
  const tokenHost = `127.0.0.1:${tokenPort}`;
  const proxyHost = `127.0.0.1:${proxyPort}`;
  const auth = Buffer.from(`${USER}:${password}`).toString('base64');
  const authfile = path.join(STATE, 'auth.json');
  const authfileToken = path.join(STATE, 'auth-token.json');
  writeJson(authfile, { auths: { [basicHost]: { auth }, [proxyHost]: { auth } } });
  writeJson(authfileToken, { auths: { [tokenHost]: { auth } } });
  // As Docker writes it after a login that returned an identity token:
  // `auth` holds the user name alone.
  const authfileIdentity = path.join(STATE, 'auth-identity.json');
  writeJson(authfileIdentity, {
    auths: { [tokenHost]: { auth: Buffer.from(`${USER}:`).toString('base64'), identitytoken: identityToken } },
  });
  fs.chmodSync(authfile, 0o600);
  fs.chmodSync(authfileToken, 0o600);
  fs.chmodSync(authfileIdentity, 0o600);

  const ctx = { password, basicHost, tokenHost, tokenServer, creds: `${USER}:${password}` };
  const fixtures = fixtureList();
  const cache = readJson(CACHE, {});
  const dockerDone = docker.then((d) => (d.available ? loadIntoDocker(d, fixtures) : d));
  const results = await pushAll(ctx, fixtures, cache);
  const images = results.filter((r) => r.image).map((r) => r.image);
  const skipped = results.filter((r) => r.skipped).map((r) => r.skipped);
  const multiarch = await buildMultiarch(ctx, images, cache);
  writeJson(CACHE, cache);
  const dockerInfo = await dockerDone;

  const env = {
    dir: STATE,
    registryBasic: { host: basicHost, user: USER, password, authfile },
    registryToken: {
      host: tokenHost,
      tokenServer,
      service: SERVICE,
      issuer: ISSUER,
      user: USER,
      password,
      authfile: authfileToken,
      authfileIdentity,
      statsUrl: `http://127.0.0.1:${tokenServerPort}/_stats`,
      resetUrl: `http://127.0.0.1:${tokenServerPort}/_reset`,
    },
    proxy: {
      base: proxyHost,
      upstream: basicHost,
      statsUrl: `http://${proxyHost}/_stats`,
      resetUrl: `http://${proxyHost}/_reset`,
      redirectTarget: `127.0.0.1:${redirectPort}`,
      modes: ['ok', 'cut', '429', '503', 'slow', 'redirect', 'hostile-endless', 'hostile-bigmanifest', 'hostile-loop', 'hostile-drip', 'hostile-ctype', 'hostile-digest', 'hostile-blobdigest'],
    },
    images,
    privateImages: images.filter((i) => i.privateRepo).map((i) => ({ fixture: i.fixture, repo: i.privateRepo, tag: 'latest', manifestDigest: i.manifestDigest })),
    skipped,
    multiarch,
    docker: dockerInfo,
    startSeconds: Number(secs()),
    startedAt: new Date().toISOString(),
  };
  writeJson(ENV, env);
  fs.chmodSync(ENV, 0o600);
  log(`ready: ${images.length} images (${results.filter((r) => r.cached).length} of ${results.length} fixtures from the cache), ${skipped.length} skipped, docker ${dockerInfo.available ? `up, ${dockerInfo.images.length} images` : `unavailable (${dockerInfo.reason.split('\n')[0]})`}`);
  process.stdout.write(`${ENV}\n`);
}

async function pushAll(ctx, fixtures, cache) {
  // biggest first, so that the pool's last job is a short one
  const order = fixtures.map((f, i) => i).sort((a, b) => fixtures[b].size - fixtures[a].size);
  const out = new Array(fixtures.length);
  await pool(order, JOBS, async (i) => {
    const f = fixtures[i];
    const t = Date.now();
    try {
      out[i] = await pushFixture(ctx, f, cache);
    } catch (e) {
      out[i] = { skipped: { fixture: f.rel, reason: `error: ${e.message}` } };
    }
    if (!out[i].cached) log(`${f.rel}: ${out[i].image ? `pushed ${out[i].image.manifestDigest}` : `skipped: ${out[i].skipped.reason}`} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  });
  return out;
}

async function cachedStillThere(ctx, c) {
  if (c.skipped) return true;
  const img = c.image;
  const b = await manifestHead(ctx.basicHost, img.repo, img.tag, basic(USER, ctx.password));
  if (!b || b.digest !== img.manifestDigest) return false;
  for (const repo of [img.tokenRepo, img.privateRepo].filter(Boolean)) {
    const t = await manifestHead(ctx.tokenHost, repo, img.tag, await bearer(ctx.tokenServer, repo, basic(USER, ctx.password)));
    if (!t || t.digest !== img.manifestDigest) return false;
  }
  const index = readJson(path.join(img.layout, 'index.json'), null);
  return Boolean(index && index.manifests?.[0]?.digest === img.layoutDigest);
}

async function pushFixture(ctx, f, cache) {
  const c = cache[f.rel];
  if (c && c.size === f.size && c.mtimeMs === f.mtimeMs && c.name === f.name && (await cachedStillThere(ctx, c).catch(() => false))) {
    return { ...c, cached: true };
  }
  const remember = (r) => {
    cache[f.rel] = { size: f.size, mtimeMs: f.mtimeMs, name: f.name, ...r };
    return r;
  };
  let src = f.file;
  let tmp = null;
  try {
    const head = Buffer.alloc(2);
    const fd = fs.openSync(f.file, 'r');
    fs.readSync(fd, head, 0, 2, 0);
    fs.closeSync(fd);
    if (head[0] === 0x1f && head[1] === 0x8b) {
      tmp = path.join(STATE, 'tmp', `${f.name}.tar`);
      await pipeline(fs.createReadStream(f.file), zlib.createGunzip(), fs.createWriteStream(tmp));
      src = tmp;
    }
    const entries = new Set((await listTar(src)).map((e) => e.replace(/^\.\//, '')));
    const transports = [];
    if (entries.has('manifest.json')) transports.push('docker-archive');
    if (entries.has('index.json') && entries.has('oci-layout')) transports.push('oci-archive');
    if (!transports.length) {
      return remember({ skipped: { fixture: f.rel, reason: 'not an image archive for skopeo: no manifest.json or OCI index.json (a raw layer / flattened filesystem tar)' } });
    }
    const repo = `fixtures/${f.name}`;
    const dest = `docker://${ctx.basicHost}/${repo}:latest`;
    let transport = null;
    const errors = [];
    for (const t of transports) {
      const r = await skopeo(['copy', '-q', '--dest-tls-verify=false', '--dest-creds', ctx.creds, `${t}:${src}`, dest]);
      if (r.code === 0) {
        transport = t;
        break;
      }
      errors.push(`skopeo copy ${t}: ${lastMessage(r.stderr)}`);
    }
    if (!transport) return remember({ skipped: { fixture: f.rel, reason: errors.join('; ') } });

    const layout = path.join(STATE, 'layouts', f.name);
    fs.rmSync(layout, { recursive: true, force: true });
    const tokenRepo = `public/${f.name}`;
    const privateRepo = PRIVATE.includes(f.rel) ? `private/${f.name}` : undefined;
    const copyToToken = (r) => skopeo(['copy', '-q', '--preserve-digests', '--src-tls-verify=false', '--src-creds', ctx.creds, '--dest-tls-verify=false', '--dest-creds', ctx.creds, dest, `docker://${ctx.tokenHost}/${r}:latest`]);
    const steps = await Promise.all([
      skopeo(['copy', '-q', `${transport}:${src}`, `oci:${layout}:latest`]),
      copyToToken(tokenRepo),
      privateRepo ? copyToToken(privateRepo) : { code: 0 },
    ]);
    const failed = steps.find((s) => s.code !== 0);
    if (failed) throw new Error(lastMessage(failed.stderr));
    const head2 = await manifestHead(ctx.basicHost, repo, 'latest', basic(USER, ctx.password));
    if (!head2) throw new Error(`${repo}:latest is not in the registry after the push`);
    const index = readJson(path.join(layout, 'index.json'), {});
    return remember({
      image: {
        fixture: f.rel,
        repo,
        tag: 'latest',
        layout,
        layoutRef: 'latest',
        tokenRepo,
        ...(privateRepo ? { privateRepo } : {}),
        manifestDigest: head2.digest,
        mediaType: head2.mediaType,
        layoutDigest: index.manifests?.[0]?.digest,
        source: transport,
        pushedWith: `skopeo copy ${transport}:FIXTURE docker://REGISTRY-BASIC/${repo}:latest; skopeo copy --preserve-digests that to REGISTRY-TOKEN/${tokenRepo}${privateRepo ? ` and /${privateRepo}` : ''}; skopeo copy ${transport}:FIXTURE oci:LAYOUT:latest`,
      },
    });
  } finally {
    if (tmp) fs.rmSync(tmp, { force: true });
  }
}

// ---- the two-platform index -------------------------------------------------------
async function buildMultiarch(ctx, images, cache) {
  const byFixture = new Map(images.map((i) => [i.fixture, i]));
  const a = byFixture.get(MULTIARCH.amd64);
  const b = byFixture.get(MULTIARCH.arm64);
  if (!a || !b) return { available: false, reason: `needs the layouts of ${MULTIARCH.amd64} and ${MULTIARCH.arm64}` };
  const key = `${a.layoutDigest} ${b.layoutDigest}`;
  const c = cache['<multiarch>'];
  if (c && c.key === key) {
    try {
      const h1 = await manifestHead(ctx.basicHost, c.info.repo, 'latest', basic(USER, ctx.password));
      const h2 = await manifestHead(ctx.tokenHost, c.info.tokenRepo, 'latest', await bearer(ctx.tokenServer, c.info.tokenRepo));
      if (h1?.digest === c.info.indexDigest && h2?.digest === c.info.indexDigest && fs.existsSync(path.join(c.info.layout, 'index.json'))) return c.info;
    } catch {
      /* push again */
    }
  }
  const dir = path.join(STATE, 'layouts', 'multiarch');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const blobPath = (layout, digest) => path.join(layout, 'blobs', ...digest.split(':'));
  const put = (buf) => {
    const d = sha256(buf);
    fs.writeFileSync(blobPath(dir, d), buf);
    return { digest: d, size: buf.length };
  };
  const copyImage = (img) => {
    const desc = readJson(path.join(img.layout, 'index.json')).manifests[0];
    const manifest = JSON.parse(fs.readFileSync(blobPath(img.layout, desc.digest)));
    for (const d of [desc.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
      if (!fs.existsSync(blobPath(dir, d))) fs.copyFileSync(blobPath(img.layout, d), blobPath(dir, d));
    }
    return { desc, manifest, config: JSON.parse(fs.readFileSync(blobPath(img.layout, manifest.config.digest))) };
  };
  const A = copyImage(a);
  const B = copyImage(b);
  // the arm64 copy: its config says arm64/v8, so the manifest and digests change
  const cfg = { ...B.config, architecture: 'arm64', variant: 'v8', os: 'linux' };
  const cfgDesc = put(Buffer.from(JSON.stringify(cfg)));
  const armManifest = { ...B.manifest, config: { ...B.manifest.config, ...cfgDesc } };
  const armDesc = put(Buffer.from(JSON.stringify(armManifest)));
  const mt = 'application/vnd.oci.image.manifest.v1+json';
  const amdPlatform = { architecture: A.config.architecture || 'amd64', os: A.config.os || 'linux' };
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { mediaType: A.desc.mediaType || mt, digest: A.desc.digest, size: A.desc.size, platform: amdPlatform },
      { mediaType: mt, ...armDesc, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    ],
  };
  const indexDesc = put(Buffer.from(JSON.stringify(index)));
  writeJson(path.join(dir, 'index.json'), {
    schemaVersion: 2,
    manifests: [{ mediaType: index.mediaType, ...indexDesc, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
  });
  const repo = 'fixtures/multiarch';
  const tokenRepo = 'public/multiarch';
  const pushes = await Promise.all([
    skopeo(['copy', '-q', '--all', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', ctx.creds, `oci:${dir}:latest`, `docker://${ctx.basicHost}/${repo}:latest`]),
    skopeo(['copy', '-q', '--all', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', ctx.creds, `oci:${dir}:latest`, `docker://${ctx.tokenHost}/${tokenRepo}:latest`]),
  ]);
  const bad = pushes.find((p) => p.code !== 0);
  if (bad) return { available: false, reason: `skopeo copy --all: ${lastMessage(bad.stderr)}` };
  const info = {
    repo,
    tag: 'latest',
    tokenRepo,
    layout: dir,
    indexDigest: indexDesc.digest,
    platforms: [
      { platform: `${amdPlatform.os}/${amdPlatform.architecture}`, fixture: a.fixture, manifestDigest: A.desc.digest, note: 'the fixture as pushed to its layout' },
      { platform: 'linux/arm64/v8', fixture: b.fixture, manifestDigest: armDesc.digest, note: 'a copy whose config was rewritten to arm64/v8 (layers unchanged, still amd64 binaries)' },
    ],
  };
  const h = await manifestHead(ctx.basicHost, repo, 'latest', basic(USER, ctx.password));
  if (h?.digest !== info.indexDigest) return { available: false, reason: `registry has ${h?.digest} for ${repo}:latest, expected ${info.indexDigest}` };
  cache['<multiarch>'] = { key, info };
  log(`multiarch index ${info.indexDigest} pushed`);
  return info;
}

// ---- dockerd ---------------------------------------------------------------------------
function dockerPaths() {
  const d = path.join(STATE, 'docker');
  // unix sockets live under the exec root; keep their paths short (108-byte limit)
  let exec = path.join(d, 'exec');
  if (exec.length > 60) exec = path.join('/tmp', `rootless-check-dockerd-${crypto.createHash('sha256').update(STATE).digest('hex').slice(0, 10)}`);
  return { d, root: path.join(d, 'root'), exec, pidfile: path.join(d, 'dockerd.pid'), sock: path.join(d, 'docker.sock'), config: path.join(d, 'daemon.json') };
}

async function startDockerd() {
  const p = dockerPaths();
  const host = `unix://${p.sock}`;
  if (process.env.ROOTLESS_CHECK_NO_DOCKER) return { available: false, reason: 'ROOTLESS_CHECK_NO_DOCKER is set', host, images: [] };
  const which = spawnSync('sh', ['-c', 'command -v dockerd'], { encoding: 'utf8' });
  if (which.status !== 0) return { available: false, reason: 'dockerd is not installed (scripts/setup-services.sh installs docker.io)', host, images: [] };
  if (p.sock.length > 100) return { available: false, reason: `socket path too long: ${p.sock}`, host, images: [] };
  fs.mkdirSync(p.root, { recursive: true });
  fs.mkdirSync(p.exec, { recursive: true });
  fs.writeFileSync(p.config, '{}\n'); // not the machine's /etc/docker/daemon.json
  for (const f of [p.pidfile, p.sock]) fs.rmSync(f, { force: true });
  const proc = daemon(
    'dockerd',
    'dockerd',
    ['--config-file', p.config, '--data-root', p.root, '--exec-root', p.exec, '--pidfile', p.pidfile, '-H', host,
      '--storage-driver', 'vfs', '--iptables=false', '--ip-masq=false', '--bridge=none', '--ip-forward=false'],
    { match: p.pidfile },
  );
  try {
    await waitFor('dockerd', async () => (await request('http://docker/_ping', { socketPath: p.sock, timeoutMs: 2000 })).status === 200, { timeoutMs: 30_000, proc });
  } catch (e) {
    // our own child, not yet reaped: its pid cannot have been reused
    if (!proc.state.exited) proc.child.kill('SIGKILL');
    log(`dockerd unavailable: ${e.message.split('\n')[0]}`);
    return { available: false, reason: e.message, host, images: [] };
  }
  // dockerd's own containerd: recorded so that `stop` can end it if dockerd does not
  const cpid = Number(readJson(path.join(p.exec, 'containerd', 'containerd.pid'), 0));
  if (cpid) recordPid('dockerd-containerd', cpid, p.exec);
  log('dockerd up');
  return { available: true, host, dataRoot: p.root, execRoot: p.exec, images: [] };
}

async function loadIntoDocker(info, fixtures) {
  const host = info.host;
  const docker = (args, timeout = 60_000) => run('docker', ['--host', host, ...args], { timeout });
  const images = [];
  const failed = [];
  for (const rel of DOCKER_LOAD) {
    const f = fixtures.find((x) => x.rel === rel);
    if (!f) continue;
    const ref = `fixtures/${f.name}:latest`;
    const have = await docker(['image', 'inspect', '--format', '{{.Id}}', ref]);
    if (have.code === 0) {
      images.push({ fixture: f.rel, ref, id: have.stdout.trim(), cached: true });
      continue;
    }
    const r = await docker(['load', '-i', f.file]);
    const loaded = [...r.stdout.matchAll(/^Loaded image: (\S+)$/gm)].map((m) => m[1]);
    const ids = [...r.stdout.matchAll(/^Loaded image ID: (\S+)$/gm)].map((m) => m[1]);
    const what = loaded[0] || ids[0];
    if (r.code !== 0 || !what) {
      failed.push({ fixture: f.rel, reason: lastMessage(r.stderr || r.stdout) });
      continue;
    }
    const tag = await docker(['tag', what, ref]);
    if (tag.code !== 0) {
      failed.push({ fixture: f.rel, reason: `docker tag: ${lastMessage(tag.stderr)}` });
      continue;
    }
    const id = (await docker(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();
    images.push({ fixture: f.rel, ref, id, loadedTags: loaded.length ? loaded : ids });
  }
  log(`dockerd: ${images.length} images (${images.filter((i) => i.cached).length} already there)${failed.length ? `, ${failed.length} failed` : ''}`);
  return { ...info, images, failed };
}

// ---- main ---------------------------------------------------------------------------------
const cmd = process.argv[2];
try {
  if (cmd === 'start') {
    await start();
  } else if (cmd === 'stop') {
    await stopAll();
  } else if (cmd === 'clean') {
    await stopAll();
    fs.rmSync(STATE, { recursive: true, force: true });
    const p = dockerPaths();
    if (!p.exec.startsWith(STATE)) fs.rmSync(p.exec, { recursive: true, force: true });
    log(`removed ${STATE}`);
  } else if (cmd === 'env') {
    const env = readJson(ENV, null);
    if (!(await healthy(env))) {
      log('not running (scripts/services.sh start)');
      process.exitCode = 1;
    } else process.stdout.write(`${ENV}\n`);
  } else {
    process.stderr.write('usage: services.mjs start|stop|env|clean\n');
    process.exitCode = 2;
  }
} catch (e) {
  log(`failed: ${e.stack || e.message}`);
  if (cmd === 'start') {
    log('stopping what was started');
    await stopAll();
  }
  process.exitCode = 1;
}
