'use strict';
// Registry credentials, found where podman and skopeo look for them (the
// native CLI's src/source/auth.rs, same order, same messages), and the
// `WWW-Authenticate` challenges that say how to use them.
//
// A secret never leaves this module in text meant for people: errors name
// where credentials came from (`--creds`, a file's path, a helper's name),
// never what they are. Credentials objects hide their fields from
// console.log and JSON.stringify.

const fs = require('node:fs');
const { spawn } = require('node:child_process');
const { codedError, sourceError, ioMessage } = require('./common.cjs');

const DOCKER_HUB = 'docker.io';
// How long a credential helper may take.
const HELPER_TIMEOUT_MS = 30000;

class Credentials {
  #username;
  #password;
  #identityToken;
  /** `identityToken`: an OAuth2 refresh token that `docker login` stored in
   * the place of the password (`identitytoken` in config.json; a helper's
   * `Username` of `<token>`): exchanged at the token service, never sent to
   * the registry itself. */
  constructor(username, password, identityToken = null) {
    this.#username = username;
    this.#password = password;
    this.#identityToken = identityToken;
  }
  get username() {
    return this.#username;
  }
  get password() {
    return this.#password;
  }
  get identityToken() {
    return this.#identityToken;
  }
  /** `Basic base64(user:password)`. */
  basicHeader() {
    return `Basic ${Buffer.from(`${this.#username}:${this.#password}`, 'utf8').toString('base64')}`;
  }
  toJSON() {
    return 'Credentials(<hidden>)';
  }
  [Symbol.for('nodejs.util.inspect.custom')]() {
    return 'Credentials(<hidden>)';
  }
  /** `USER[:PASSWORD]`, as skopeo's `--creds` takes it. */
  static parse(text) {
    const at = text.indexOf(':');
    const username = at === -1 ? text : text.slice(0, at);
    const password = at === -1 ? '' : text.slice(at + 1);
    if (username === '') throw codedError('E_USAGE', '--creds needs USER[:PASSWORD] with a user name');
    return new Credentials(username, password);
  }
}

function env(name) {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

function home() {
  return env('HOME');
}

// Rust's Path::join for display: one '/' between, the parts as given.
function join(dir, rel) {
  return dir.endsWith('/') ? `${dir}${rel}` : `${dir}/${rel}`;
}

/**
 * The files podman and skopeo read, in their order: an explicit auth file
 * alone (`authfile`, else REGISTRY_AUTH_FILE); otherwise
 * $XDG_RUNTIME_DIR/containers/auth.json, $XDG_CONFIG_HOME (or ~/.config)
 * /containers/auth.json, Docker's config.json and the legacy ~/.dockercfg.
 */
function authFiles({ authfile } = {}) {
  if (authfile !== undefined && authfile !== null) return [String(authfile)];
  const explicit = env('REGISTRY_AUTH_FILE');
  if (explicit) return [explicit];
  const files = [];
  const run = env('XDG_RUNTIME_DIR');
  if (run) files.push(join(run, 'containers/auth.json'));
  const config = env('XDG_CONFIG_HOME');
  if (config) files.push(join(config, 'containers/auth.json'));
  else if (home()) files.push(join(home(), '.config/containers/auth.json'));
  const docker = env('DOCKER_CONFIG');
  if (docker) files.push(join(docker, 'config.json'));
  else if (home()) files.push(join(home(), '.docker/config.json'));
  if (home()) files.push(join(home(), '.dockercfg'));
  return files;
}

// `{auths, credHelpers, credsStore}` of an auth file; keys of the top level
// match case-insensitively (Go's encoding/json), a repeated one adds to the
// earlier. Throws a string saying what is wrong.
function parseAuthFile(bytes) {
  let doc;
  try {
    doc = JSON.parse(new TextDecoder('utf-8').decode(bytes));
  } catch (err) {
    throw String(err.message);
  }
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(doc)) throw 'expected a JSON object at the top level';
  const out = { auths: [], credHelpers: [], credsStore: undefined };
  for (const [key, value] of Object.entries(doc)) {
    const k = key.toLowerCase();
    if (k === 'auths') {
      if (value === null) continue;
      if (!isObject(value)) throw '`auths` must be an object';
      for (const [host, entry] of Object.entries(value)) {
        let auth;
        let identityToken;
        if (entry !== null) {
          if (!isObject(entry)) throw `\`auths\` entry ${JSON.stringify(host)} must be an object`;
          if (entry.auth !== undefined && entry.auth !== null) {
            if (typeof entry.auth !== 'string') throw `\`auth\` of ${JSON.stringify(host)} must be a string`;
            auth = entry.auth;
          }
          if (entry.identitytoken !== undefined && entry.identitytoken !== null) {
            if (typeof entry.identitytoken !== 'string') throw `\`identitytoken\` of ${JSON.stringify(host)} must be a string`;
            identityToken = entry.identitytoken || undefined;
          }
        }
        out.auths.push([host, auth, identityToken]);
      }
    } else if (k === 'credhelpers') {
      if (value === null) continue;
      if (!isObject(value)) throw '`credHelpers` must be an object';
      for (const [host, helper] of Object.entries(value)) {
        if (typeof helper !== 'string') throw `\`credHelpers\` entry ${JSON.stringify(host)} must be a string`;
        out.credHelpers.push([host, helper]);
      }
    } else if (k === 'credsstore') {
      if (value === null) continue;
      if (typeof value !== 'string') throw '`credsStore` must be a string';
      out.credsStore = value === '' ? undefined : value;
    }
  }
  return out;
}

/** `https://index.docker.io/v1/` → `docker.io`; `host/ns/repo` stays. */
function normaliseKey(key) {
  let k = key;
  if (k.startsWith('https://')) k = k.slice(8);
  else if (k.startsWith('http://')) k = k.slice(7);
  for (const suffix of ['/v1/', '/v2/', '/v1', '/v2']) {
    if (k.endsWith(suffix)) {
      k = k.slice(0, -suffix.length);
      break;
    }
  }
  k = k.replace(/\/+$/, '');
  if (k === 'index.docker.io' || k === 'registry-1.docker.io') return DOCKER_HUB;
  const slash = k.indexOf('/');
  if (slash !== -1) {
    const first = k.slice(0, slash);
    if (first === 'index.docker.io' || first === 'registry-1.docker.io') return `${DOCKER_HUB}/${k.slice(slash + 1)}`;
  }
  return k;
}

function decodeAuth(auth) {
  const bad = () => codedError('E_AUTH', 'an `auth` entry is not base64 of USER:PASSWORD');
  const text = auth.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw bad();
  let raw;
  try {
    raw = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(text, 'base64'));
  } catch {
    throw bad();
  }
  const at = raw.indexOf(':');
  if (at === -1) throw bad();
  return new Credentials(raw.slice(0, at), raw.slice(at + 1));
}

/**
 * `docker-credential-NAME get` with the server on stdin: `{"Username",
 * "Secret"}` on stdout; a failure status ("credentials not found") means none.
 */
function helperGet(name, registry, timeoutMs = HELPER_TIMEOUT_MS) {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    return Promise.reject(sourceError('E_AUTH', `credential helper name '${name}' is not valid`));
  }
  const program = `docker-credential-${name}`;
  const server = registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
  const failed = (why) => sourceError('E_AUTH', `the credential helper ${program} failed: ${why}`);
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'ignore'] });
    } catch (err) {
      reject(failed(ioMessage(err)));
      return;
    }
    const chunks = [];
    let size = 0;
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(failed(`no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(failed(ioMessage(err)));
    });
    child.stdout.on('data', (chunk) => {
      if (size < 1 << 20) chunks.push(chunk.subarray(0, (1 << 20) - size));
      size += chunk.length;
    });
    child.stdin.on('error', () => {});
    child.stdin.end(server);
    child.on('close', (status) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // "credentials not found in native keychain": no credentials, not an error.
      if (status !== 0) {
        resolve(null);
        return;
      }
      let answer;
      try {
        answer = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) throw new Error();
        for (const k of ['Username', 'Secret']) {
          if (answer[k] !== undefined && typeof answer[k] !== 'string') throw new Error();
        }
      } catch {
        reject(failed('its answer is not the JSON it should be'));
        return;
      }
      const { Username: username, Secret: secret } = answer;
      // Docker's convention for a helper holding an identity token.
      if (username === '<token>' && secret) resolve(new Credentials('', '', secret));
      else resolve(typeof username === 'string' && secret ? new Credentials(username, secret) : null);
    });
  });
}

// Credentials for the registry from one parsed file: its credential helper,
// else the most specific `auths` entry (host/ns/repo, host/ns, host), else
// the default store. Resolves with { credentials, helper } or null.
async function lookupInFile(file, registry, repository) {
  const helperEntry = file.credHelpers.find(([k]) => normaliseKey(k) === registry);
  if (helperEntry) {
    const credentials = await helperGet(helperEntry[1], registry);
    return credentials ? { credentials, helper: helperEntry[1] } : null;
  }
  let scope = `${registry}/${repository}`;
  for (;;) {
    const entry = file.auths.find(([k]) => normaliseKey(k) === scope);
    if (entry) {
      if (entry[2]) {
        // `auth` then holds the user name alone (`user:`).
        let username = '';
        try {
          if (entry[1]) username = decodeAuth(entry[1]).username;
        } catch {}
        return { credentials: new Credentials(username, '', entry[2]), helper: undefined };
      }
      if (entry[1]) return { credentials: decodeAuth(entry[1]), helper: undefined };
      // An entry without `auth`: the default store holds it.
      break;
    }
    const slash = scope.lastIndexOf('/');
    if (slash === -1) break;
    scope = scope.slice(0, slash);
  }
  if (file.credsStore) {
    const credentials = await helperGet(file.credsStore, registry);
    return credentials ? { credentials, helper: file.credsStore } : null;
  }
  return null;
}

/**
 * Find credentials for `registry` (and `repository`, for per-repository
 * entries): resolves with { credentials (or null), from, tried }. A file
 * that exists but cannot be read or parsed is an error: silently going
 * anonymous would hide the mistake.
 */
async function findCredentials(registry, repository, { creds, authfile } = {}) {
  const found = { credentials: null, from: undefined, tried: [] };
  if (creds !== undefined && creds !== null) {
    found.credentials = Credentials.parse(String(creds));
    found.from = '--creds';
    return found;
  }
  found.tried.push('--creds (not given)');
  for (const file of authFiles({ authfile })) {
    let bytes;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      if (err.code === 'ENOENT') {
        found.tried.push(`${file} (no such file)`);
        continue;
      }
      throw sourceError('E_AUTH', `cannot read the auth file ${file}: ${ioMessage(err)}`);
    }
    let parsed;
    try {
      parsed = parseAuthFile(bytes);
    } catch (message) {
      throw sourceError('E_AUTH', `the auth file ${file} is not valid: ${message}`);
    }
    const hit = await lookupInFile(parsed, registry, repository);
    if (hit) {
      found.credentials = hit.credentials;
      found.from = hit.helper ? `${file} (through docker-credential-${hit.helper})` : file;
      return found;
    }
    found.tried.push(`${file} (no entry for ${registry})`);
  }
  return found;
}

// Longest header this parser reads.
const MAX_CHALLENGE = 16 << 10;

/**
 * Parse `WWW-Authenticate` (RFC 7235), as auth.rs does: challenges
 * separated by commas, each a scheme and `name=value` or `name="quoted"`
 * parameters. Whatever does not parse ends the list; never throws.
 * Returns [{ scheme (lower case), params: [[name, value]] }].
 */
function parseChallenges(header) {
  const s = Buffer.from(String(header), 'utf8').subarray(0, MAX_CHALLENGE);
  const text = (a, b) => s.subarray(a, b).toString('utf8');
  const isToken = (b) =>
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || "!#$%&'*+-.^_`|~/".includes(String.fromCharCode(b));
  const out = [];
  let i = 0;
  const skipWs = () => {
    while (i < s.length && (s[i] === 0x20 || s[i] === 0x09 || s[i] === 0x2c)) i++;
  };
  for (;;) {
    skipWs();
    const start = i;
    while (i < s.length && isToken(s[i])) i++;
    if (start === i) break;
    const token = text(start, i);
    // `token=` after a comma is a parameter of the current challenge.
    let j = i;
    while (j < s.length && s[j] === 0x20) j++;
    if (j < s.length && s[j] === 0x3d && out.length > 0 && !(j + 1 < s.length && s[j + 1] === 0x3d)) {
      i = j + 1;
      while (i < s.length && s[i] === 0x20) i++;
      let value;
      if (i < s.length && s[i] === 0x22) {
        i++;
        const v = [];
        while (i < s.length && s[i] !== 0x22) {
          if (s[i] === 0x5c && i + 1 < s.length) i++;
          v.push(s[i]);
          i++;
        }
        i++; // the closing quote (or the end)
        value = Buffer.from(v).toString('utf8');
      } else {
        const vs = i;
        while (i < s.length && s[i] !== 0x2c && s[i] !== 0x20) i++;
        value = text(vs, i);
      }
      out[out.length - 1].params.push([token, value]);
      continue;
    }
    out.push({ scheme: token.toLowerCase(), params: [] });
    skipWs();
    if (out.length > 16) break;
  }
  return out;
}

function challengeParam(challenge, name) {
  const hit = challenge.params.find(([k]) => k.toLowerCase() === name.toLowerCase());
  return hit ? hit[1] : undefined;
}

module.exports = {
  Credentials,
  authFiles,
  findCredentials,
  parseAuthFile,
  normaliseKey,
  parseChallenges,
  challengeParam,
  helperGet,
  DOCKER_HUB,
};
