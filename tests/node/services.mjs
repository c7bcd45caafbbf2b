// The registries, layouts and daemon the source tests (sources.test.mjs)
// talk to, described as tests/support/README.md's env.json describes them:
//
// 1. ROOTLESS_CHECK_SERVICES_ENV: the path of an env.json of services
//    already running (nothing is started or stopped here);
// 2. else scripts/services.sh (ROOTLESS_CHECK_SERVICES_SH names another):
//    `start` (idempotent, shared by every test process; stopped by whoever
//    runs the whole suite, scripts/test.sh);
// 3. else a registry of our own: Debian's docker-registry with htpasswd
//    Basic auth on 127.0.0.1, a few fixtures pushed with skopeo and copied
//    to OCI layouts; killed when this process exits. No token registry,
//    fault proxy or dockerd then: the tests needing them skip.
//
// Every address is 127.0.0.1; every wait is bounded.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { fixturesDir, root, tempDir } from './helpers.mjs';

/** The fixtures a registry of our own holds (the harness pushes them all). */
export const FALLBACK_FIXTURES = [
  'built/bb-filecap.docker-archive.tar',
  'built/bb-filecap.oci-archive.tar',
  'built/bb-suid-wh.docker20-save.tar',
  'built/s6-overlay-v3.docker-archive.tar.gz',
  'built/deb12-hardened.oci-archive.tar',
  'public/wagoodman+dive__test-oci-zstd-image.tar',
];

/** The repository name the harness gives a fixture (tests/support/README.md). */
export function repoName(fixture) {
  let name = path.basename(fixture).toLowerCase();
  let gz = false;
  if (name.endsWith('.tar.gz')) {
    name = name.slice(0, -'.tar.gz'.length);
    gz = true;
  } else if (name.endsWith('.tar')) {
    name = name.slice(0, -'.tar'.length);
  }
  name = name.replace(/[^a-z0-9._-]/g, '-');
  return `fixtures/${name}${gz ? '-gz' : ''}`;
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

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

// GET http://host/v2/ until it answers (any status), at most `ms`.
async function waitForRegistry(host, ms) {
  const until = Date.now() + ms;
  for (let i = 0; Date.now() < until && i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const req = http.get(`http://${host}/v2/`, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.setTimeout(2000, () => req.destroy());
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`the registry at ${host} did not answer within ${ms} ms`);
}

const started = [];
function stopOwn() {
  for (const { child, dir } of started.splice(0)) {
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
process.on('exit', stopOwn);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.once(signal, () => {
    stopOwn();
    process.exit(code);
  });
}

async function ownServices() {
  for (const c of ['docker-registry', 'skopeo', 'htpasswd']) {
    if (!have(c)) return { unavailable: `${c} is not installed (apt-get install docker-registry skopeo apache2-utils)` };
  }
  const dir = tempDir('services');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const user = 'rcuser';
  const password = crypto.randomBytes(12).toString('base64url');
  fs.writeFileSync(path.join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', user, password]));
  fs.writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: ${dir}/data}, delete: {enabled: true}}
http: {addr: "${host}"}
auth: {htpasswd: {realm: basic-realm, path: ${dir}/htpasswd}}
`,
  );
  const log = fs.openSync(path.join(dir, 'registry.log'), 'w');
  const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', log, log] });
  // This process may exit with it running: the exit handler kills it.
  child.unref();
  started.push({ child, dir });
  await waitForRegistry(host, 30000);
  const authfile = path.join(dir, 'auth.json');
  const auth = Buffer.from(`${user}:${password}`).toString('base64');
  fs.writeFileSync(authfile, JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 });
  const images = [];
  fs.mkdirSync(path.join(dir, 'layouts'));
  for (const fixture of FALLBACK_FIXTURES) {
    let file = path.join(fixturesDir, fixture);
    if (!fs.existsSync(file)) continue;
    if (file.endsWith('.gz')) {
      const plain = path.join(dir, path.basename(file, '.gz'));
      fs.writeFileSync(plain, zlib.gunzipSync(fs.readFileSync(file)));
      file = plain;
    }
    // What skopeo reads it as: a docker save has manifest.json (Docker >= 25's too).
    const members = execFileSync('tar', ['-tf', file], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n');
    const transport = members.includes('manifest.json') ? 'docker-archive' : 'oci-archive';
    const repo = repoName(fixture);
    const layout = path.join(dir, 'layouts', repo.slice('fixtures/'.length));
    const copy = (dest, extra) =>
      execFileSync('skopeo', ['copy', '-q', ...extra, `${transport}:${file}`, dest], { stdio: 'pipe', timeout: 120000 });
    copy(`docker://${host}/${repo}:latest`, ['--dest-tls-verify=false', '--dest-creds', `${user}:${password}`]);
    copy(`oci:${layout}:latest`, []);
    images.push({ fixture, repo, tag: 'latest', layout, layoutRef: 'latest', source: transport });
  }
  return {
    own: true,
    dir,
    registryBasic: { host, user, password, authfile },
    registryToken: { available: false, reason: 'the registry started by the tests has no token auth' },
    proxy: { available: false, reason: 'no fault proxy without scripts/services.sh' },
    images,
    multiarch: { available: false, reason: 'no two-platform index without scripts/services.sh' },
    docker: { available: false, reason: 'no dockerd without scripts/services.sh' },
  };
}

let once;
/** The services (see above), started once per process. */
export function services() {
  once ??= (async () => {
    const given = process.env.ROOTLESS_CHECK_SERVICES_ENV;
    if (given) return JSON.parse(fs.readFileSync(given, 'utf8'));
    const script = process.env.ROOTLESS_CHECK_SERVICES_SH || path.join(root, 'scripts', 'services.sh');
    if (fs.existsSync(script)) {
      const r = spawnSync('bash', [script, 'start'], { encoding: 'utf8', timeout: 15 * 60 * 1000, stdio: ['ignore', 'pipe', 'pipe'] });
      if (r.status !== 0) throw new Error(`${script} start failed (${r.status}): ${r.stderr.slice(-2000)}`);
      const envFile = r.stdout.trim().split('\n').pop();
      return JSON.parse(fs.readFileSync(envFile, 'utf8'));
    }
    return ownServices();
  })();
  return once;
}

/** The pushed image of a fixture, or undefined. */
export function imageOf(env, fixture) {
  return (env.images || []).find((i) => i.fixture === fixture);
}
