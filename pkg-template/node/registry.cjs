'use strict';
// A registry client that behaves like the native CLI's (src/source/registry.rs,
// itself modelled on `docker pull` and skopeo): manifests and indexes,
// Bearer-token and Basic auth, retries, and blobs streamed through their
// digest check into the same layer summaries as archive layers. It uses
// Node's own fetch (undici), with redirects followed here, never by fetch,
// so that `Authorization` is never sent after one.
//
// Layers are never held whole, and never written to disk. An uncompressed or
// gzip layer is walked in steps on this thread (wasm.LayerScan stops where
// the bytes received so far end and says where to go on, as the browser
// worker's streams do); a zstd layer, whose decoder cannot wait, is decoded
// by a worker thread reading the bytes from a shared ring (layer-pipe.cjs),
// and so is every layer when the caller gave a signal: a step of a gzip
// layer may decode a bomb for seconds, during which this thread could not
// hear an abort; a worker is terminated at once.

const crypto = require('node:crypto');
const os = require('node:os');
const wasm = require('./rootless_check.js');
const { codedError, sourceError, withEntry, ioMessage, sleep, abortReason, budgetOption, newLayerScan } =
  require('./common.cjs');
const { findCredentials, parseChallenges, challengeParam } = require('./auth.cjs');
const { scanPiped } = require('./layer-pipe.cjs');
const { proxyDispatcher } = require('./proxy.cjs');

/** What a manifest is asked as, most wanted first (schema 1 left out, so
 * that a registry converts when it can). */
const MANIFEST_ACCEPT =
  'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json';
/** Distribution refuses manifests over 4 MiB; so do we. */
const MAX_MANIFEST = 4 << 20;
/** Attempts of one request (connection errors, 429, 5xx) and resumes of one blob. */
const MAX_ATTEMPTS = 5;
/** The longest Retry-After honoured, and the longest backoff. */
const MAX_WAIT_MS = 30000;
/** An answer, or a read of its body, that takes longer: the connection is dropped (then a retry). */
const READ_TIMEOUT_MS = 60000;
const MAX_REDIRECTS = 10;
/** The analysis' limit on one JSON document (a config). */
const MAX_JSON_BYTES = 16 << 20;
/** The window of a layer walked in steps. */
const WINDOW = 4 << 20;
const MAX_WINDOW = 256 << 20;

const USER_AGENT = `rootless-check/${wasm.version()}`;

class Timeout extends Error {}

function backoff(attempt) {
  return Math.min(250 * 2 ** Math.min(attempt, 6), MAX_WAIT_MS);
}

/** `Retry-After: SECONDS` (an HTTP date is taken as one second), capped. */
function retryAfter(headers) {
  const v = headers.get('retry-after');
  if (v === null) return undefined;
  const t = v.trim();
  const secs = /^\+?\d+$/.test(t) ? Number(t) : 1;
  return Math.min(secs * 1000, MAX_WAIT_MS);
}

// Connection errors worth another attempt (the native client's `transient`).
const TRANSIENT = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function causeOf(err) {
  return err && err.cause && typeof err.cause === 'object' ? err.cause : err;
}

function transient(err) {
  if (err instanceof Timeout) return true;
  const cause = causeOf(err);
  return Boolean(cause && TRANSIENT.has(cause.code));
}

/** What went wrong with a connection, in a few words (never a header). */
function describe(err) {
  if (err instanceof Timeout) return err.message;
  const cause = causeOf(err);
  if (cause && typeof cause.errno === 'number') return ioMessage(cause);
  // OpenSSL's errors: their reason ("wrong version number"), not the dump.
  if (cause && typeof cause.reason === 'string' && cause.reason) return cause.reason;
  const text = String((cause && cause.message) || err);
  return text.split('\n')[0].slice(0, 300);
}

/** `host[:port]` of a URL, for messages. */
function hostOf(url) {
  const at = url.indexOf('://');
  const rest = at === -1 ? url : url.slice(at + 3);
  return Array.from(rest.split(/[/?]/)[0]).slice(0, 100).join('');
}

/** Percent-encoding for a query value. */
function encode(s) {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function sha256Digest(bytes) {
  return `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
}

/** `blobs/<alg>/<hex>` for a digest, or null when it is malformed (config.rs's blob_path). */
function blobPath(digest) {
  if (typeof digest !== 'string') return null;
  const at = digest.indexOf(':');
  if (at === -1) return null;
  const alg = digest.slice(0, at);
  const hex = digest.slice(at + 1);
  const algOk = alg.split(/[+._-]/).every((c) => /^[a-z0-9]+$/.test(c));
  if (!algOk || !/^[A-Za-z0-9=_-]+$/.test(hex)) return null;
  return `blobs/${alg}/${hex}`;
}

function checkedDigest(digest) {
  if (blobPath(digest) === null) throw sourceError('E_BAD_JSON', 'a descriptor has a malformed digest', String(digest));
  return digest;
}

function schema1() {
  return codedError(
    'E_UNSUPPORTED_FORMAT',
    'the registry serves this image only as a Docker schema 1 manifest, which this tool does not read (push it again with a current docker or skopeo)',
  );
}

/** A manifest or index as the analysis decodes it (wasm.parseManifest), schema 1 refused. */
function parseDocument(bytes, entry) {
  const doc = JSON.parse(wasm.parseManifest(bytes, entry));
  if (doc.schemaVersion === 1) throw schema1();
  return doc;
}

/** `os/arch[/variant]`, `unknown` for what is absent. */
function platformString(p) {
  let s = `${p.os ?? 'unknown'}/${p.architecture ?? 'unknown'}`;
  if (p.variant) s += `/${p.variant}`;
  return s;
}

/** `linux/<arch>` of this machine, in Go's names (what docker pull picks). */
function hostPlatform() {
  const arch =
    {
      x64: 'amd64',
      arm64: 'arm64',
      ia32: '386',
      arm: 'arm/v7',
      ppc64: os.endianness() === 'LE' ? 'ppc64le' : 'ppc64',
      s390x: 's390x',
      riscv64: 'riscv64',
    }[process.arch] ?? process.arch;
  return `linux/${arch}`;
}

/** Whether a descriptor's platform is the one asked for: os and
 * architecture equal, and the variant too when asked (arm64's absent
 * variant is v8, as containerd takes it). */
function platformMatches(have, wanted) {
  const [os_, arch, variant] = wanted.split('/');
  const norm = (v, a) => (a === 'arm64' && (v === undefined || v === null || v === '') ? 'v8' : v || undefined);
  return (
    (have.os ?? undefined) === os_ &&
    (have.architecture ?? undefined) === arch &&
    (variant === undefined || norm(have.variant, arch) === norm(variant, arch))
  );
}

function isAttestation(d) {
  return (
    (d.annotations !== null && d.annotations['vnd.docker.reference.type'] === 'attestation-manifest') ||
    (d.platform !== null && d.platform.os === 'unknown')
  );
}

/** The images an index names, attestations left out. */
function indexImages(doc) {
  return (doc.manifests ?? []).filter((d) => !isAttestation(d));
}

/** Annotations as addImage takes them: [key, value, key, value…]. */
function annotationPairs(annotations) {
  return annotations === null ? undefined : Object.entries(annotations).flat();
}

/** Hand an image to the plan: its manifest's digest, platform and annotations. */
function addImage(pending, d) {
  const p = d.platform;
  pending.addImage(
    d.digest,
    p ? p.os ?? undefined : undefined,
    p ? p.architecture ?? undefined : undefined,
    p ? p.variant ?? undefined : undefined,
    annotationPairs(d.annotations ?? null),
  );
}

// fetch cannot skip TLS verification unless it is given an undici Agent
// that does not verify; Node bundles undici but does not export it. Its
// global dispatcher is one, though: its constructor makes another (with
// `options`: this one, or a proxy's, proxy.cjs). When that is not so
// (another Node, a dispatcher of the user's), null.
async function makeAgent(options) {
  try {
    await fetch('data:,'); // makes fetch create its global dispatcher
    const global = globalThis[Symbol.for('undici.globalDispatcher.1')];
    if (global && global.constructor && global.constructor.name === 'Agent') {
      const agent = new global.constructor(options);
      if (typeof agent.dispatch === 'function') return agent;
    }
  } catch {
    // no Agent to be had
  }
  return null;
}
let insecureAgent;
async function insecureDispatcher() {
  if (insecureAgent === undefined) insecureAgent = await makeAgent({ connect: { rejectUnauthorized: false } });
  return insecureAgent;
}

/** One answer: status, headers and its body, read a chunk at a time. */
class Answer {
  constructor(response, controller, release) {
    this.status = response.status;
    this.headers = response.headers;
    this.response = response;
    this.controller = controller;
    this.release = release;
    this.reader = null;
  }

  /** The next chunk of the body, or null at its end; a read that takes
   * longer than the timeout drops the connection (Timeout). */
  async read() {
    if (!this.response.body) return null;
    if (!this.reader) this.reader = this.response.body.getReader();
    const timer = setTimeout(
      () => this.controller.abort(new Timeout(`no bytes for ${READ_TIMEOUT_MS / 1000} s`)),
      READ_TIMEOUT_MS,
    );
    try {
      const { done, value } = await this.reader.read();
      if (done) {
        this.close();
        return null;
      }
      return value;
    } catch (err) {
      this.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drop the rest of the body and the connection. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.release();
    if (this.reader) this.reader.cancel().catch(() => {});
    else if (this.response.body) this.response.body.cancel().catch(() => {});
  }
}

class Client {
  /**
   * reference: wasm.parseReference's; options: { tlsVerify, creds,
   * authfile, signal }.
   */
  constructor(reference, { tlsVerify = true, creds, authfile, signal } = {}) {
    this.reference = reference;
    this.tlsVerify = tlsVerify !== false;
    this.lookup = { creds, authfile };
    this.signal = signal;
    this.baseUrl = null;
    this.authorization = null;
    this.found = null;
    /** Bytes of blobs received. */
    this.downloaded = 0;
  }

  host() {
    return this.reference.apiHost;
  }

  networkError(err) {
    return sourceError('E_NETWORK', `cannot reach ${this.host()}: ${describe(err)}`);
  }

  /** A user abort passes through as its reason. */
  checkAborted() {
    if (this.signal && this.signal.aborted) throw abortReason(this.signal);
  }

  /** One request, no redirect followed: a GET, or a POST of `form`. */
  async fetchOnce(url, headers, form = null) {
    this.checkAborted();
    const controller = new AbortController();
    const onAbort = () => controller.abort(abortReason(this.signal));
    if (this.signal) this.signal.addEventListener('abort', onAbort, { once: true });
    const release = () => {
      if (this.signal) this.signal.removeEventListener('abort', onAbort);
    };
    const timer = setTimeout(
      () => controller.abort(new Timeout(`no answer within ${READ_TIMEOUT_MS / 1000} s`)),
      READ_TIMEOUT_MS,
    );
    const init = {
      headers: { ...headers, 'User-Agent': USER_AGENT, 'Accept-Encoding': 'identity' },
      redirect: 'manual',
      signal: controller.signal,
    };
    if (form !== null) {
      init.method = 'POST';
      init.body = form;
      init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    // Through the environment's proxy (as natively), else direct.
    const proxied = await proxyDispatcher(url, !this.tlsVerify, makeAgent);
    if (proxied) init.dispatcher = proxied;
    else if (!this.tlsVerify && url.startsWith('https:')) {
      const dispatcher = await insecureDispatcher();
      if (dispatcher) init.dispatcher = dispatcher;
    }
    try {
      return new Answer(await fetch(url, init), controller, release);
    } catch (err) {
      release();
      this.checkAborted();
      if (controller.signal.aborted && controller.signal.reason instanceof Timeout) throw controller.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One GET, redirects followed here (at most 10), without
   * `Authorization` after the first hop. */
  async fetchFollowing(url, headers) {
    let current = url;
    let sent = headers;
    for (let hop = 0; ; hop++) {
      const answer = await this.fetchOnce(current, sent);
      const location = answer.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(answer.status) || location === null) return answer;
      answer.close();
      if (hop >= MAX_REDIRECTS) throw codedError('E_NETWORK', `cannot reach ${this.host()}: too many redirects`);
      let next;
      try {
        next = new URL(location, current);
      } catch {
        throw sourceError('E_REGISTRY', `${this.reference.registry} redirected to an address that is not a URL`);
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw sourceError('E_REGISTRY', `${this.reference.registry} redirected to a ${next.protocol} address`);
      }
      current = next.href;
      sent = Object.fromEntries(Object.entries(sent).filter(([k]) => k.toLowerCase() !== 'authorization'));
    }
  }

  /** One GET (or a POST of `form`, redirects not followed) with retries on
   * connection errors, 429 and 5xx (at most `maxAttempts` attempts). */
  async send(url, headers, maxAttempts = MAX_ATTEMPTS, form = null) {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      let answer;
      try {
        answer = form === null ? await this.fetchFollowing(url, headers) : await this.fetchOnce(url, headers, form);
      } catch (err) {
        this.checkAborted();
        if (err && typeof err.code === 'string' && err.code.startsWith('E_')) throw err;
        if (transient(err) && attempt < maxAttempts) {
          await sleep(backoff(attempt), this.signal);
          continue;
        }
        throw this.networkError(err);
      }
      const again = answer.status === 429 || (answer.status >= 500 && answer.status <= 504);
      if (again && attempt < maxAttempts && Date.now() - started < 4 * MAX_WAIT_MS) {
        const wait = retryAfter(answer.headers) ?? backoff(attempt);
        answer.close();
        await sleep(wait, this.signal);
        continue;
      }
      return answer;
    }
  }

  /** The registry's base URL, found with the /v2/ ping (as docker does):
   * HTTPS, or plain HTTP when TLS is not verified and HTTPS fails. */
  async base() {
    if (this.baseUrl) return this.baseUrl;
    const https = `https://${this.host()}`;
    try {
      // Without TLS verification, HTTPS is tried once (a plain-HTTP registry
      // fails the handshake each time), then plain HTTP.
      (await this.send(`${https}/v2/`, {}, this.tlsVerify ? MAX_ATTEMPTS : 1)).close();
      this.baseUrl = https;
    } catch (err) {
      if (err.code !== 'E_NETWORK') throw err;
      if (this.tlsVerify) {
        err.message += ' (a registry without TLS needs --tls-verify=false)';
        throw err;
      }
      const http = `http://${this.host()}`;
      (await this.send(`${http}/v2/`, {})).close();
      this.baseUrl = http;
    }
    return this.baseUrl;
  }

  /** A GET to the registry with its Authorization, negotiating it on a 401
   * (once). Statuses other than 401 are the caller's to judge. */
  async get(path, extra = {}) {
    const url = `${await this.base()}${path}`;
    let negotiated = false;
    for (;;) {
      const headers = { ...extra };
      if (this.authorization) headers.Authorization = this.authorization;
      const answer = await this.send(url, headers);
      if (answer.status !== 401) return answer;
      const challenge = answer.headers.get('www-authenticate') ?? '';
      answer.close();
      if (negotiated) throw this.refused();
      await this.negotiate(challenge);
      negotiated = true;
    }
  }

  async credentials() {
    if (!this.found) {
      this.found = await findCredentials(this.reference.registry, this.reference.repository, this.lookup);
    }
    return this.found.credentials;
  }

  /** E_AUTH, naming where credentials were looked for (never them). */
  refused() {
    const { registry, repository } = this.reference;
    const f = this.found;
    let message;
    if (f && f.from) message = `${registry} refused the credentials from ${f.from} for ${repository}`;
    else if (f) message = `${registry} needs credentials for ${repository} and none were found (tried: ${f.tried.join('; ')})`;
    else message = `${registry} refused access to ${repository}`;
    return sourceError('E_AUTH', message);
  }

  /** Answer a challenge: Basic with the credentials, or a Bearer token from
   * the realm (with the credentials when there are some). */
  async negotiate(header) {
    const challenges = parseChallenges(header);
    const creds = await this.credentials();
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    let value;
    if (bearer) {
      value = `Bearer ${await this.token(bearer, creds)}`;
    } else if (challenges.some((c) => c.scheme === 'basic')) {
      if (!creds) throw this.refused();
      if (creds.identityToken) {
        throw sourceError(
          'E_AUTH',
          `${this.reference.registry} asks for Basic auth, and the credentials found for it are an identity token, which only a token service takes`,
        );
      }
      value = creds.basicHeader();
    } else {
      throw sourceError(
        'E_AUTH',
        `${this.reference.registry} asks for an authentication scheme this tool does not know`,
      );
    }
    this.authorization = value;
  }

  /** A token for `repository:REPO:pull` from the challenge's realm. */
  async token(challenge, creds) {
    const realm = challengeParam(challenge, 'realm') ?? '';
    if (!(realm.startsWith('https://') || (!this.tlsVerify && realm.startsWith('http://')))) {
      throw sourceError(
        'E_AUTH',
        `${this.reference.registry} names a token service that is not https (${Array.from(realm).slice(0, 200).join('')} needs --tls-verify=false)`,
      );
    }
    const scope = `repository:${this.reference.repository}:pull`;
    const service = challengeParam(challenge, 'service');
    const tokenHost = hostOf(realm);
    let answer;
    if (creds && creds.identityToken) {
      // OAuth2's refresh-token grant, as Docker's client does with the
      // identity token `docker login` stored.
      let form = `grant_type=refresh_token&client_id=rootless-check&refresh_token=${encode(creds.identityToken)}&scope=${encode(scope)}`;
      if (service !== undefined) form += `&service=${encode(service)}`;
      answer = await this.send(realm, {}, MAX_ATTEMPTS, form);
    } else {
      let url = `${realm}${realm.includes('?') ? '&' : '?'}scope=${encode(scope)}`;
      if (service !== undefined) url += `&service=${encode(service)}`;
      const headers = creds ? { Authorization: creds.basicHeader() } : {};
      answer = await this.send(url, headers);
    }
    if (answer.status === 401 || answer.status === 403) {
      answer.close();
      throw this.refused();
    }
    if (answer.status !== 200) {
      answer.close();
      throw sourceError('E_REGISTRY', `the token service ${tokenHost} answered HTTP ${answer.status}`);
    }
    const body = await this.readLimited(answer, 1 << 20, tokenHost);
    let token = null;
    let parsed = true;
    try {
      const doc = JSON.parse(body.toString('utf8'));
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error();
      for (const [key, value] of Object.entries(doc)) {
        if ((key === 'token' || key === 'access_token') && token === null) {
          if (typeof value !== 'string') throw new Error();
          token = value === '' ? null : value;
        }
      }
    } catch {
      parsed = false;
    }
    if (parsed && token !== null && /^[\x21-\x7e]+$/.test(token)) return token;
    throw sourceError('E_REGISTRY', `the token service ${tokenHost} answered without a usable token`);
  }

  /** A body read whole, refused past `limit` bytes. */
  async readLimited(answer, limit, host) {
    const length = Number(answer.headers.get('content-length'));
    const tooBig = () => sourceError('E_LIMIT', `an answer from ${host} is larger than ${limit} bytes`);
    if (Number.isFinite(length) && length > limit) {
      answer.close();
      throw tooBig();
    }
    const chunks = [];
    let size = 0;
    for (;;) {
      let chunk;
      try {
        chunk = await answer.read();
      } catch (err) {
        this.checkAborted();
        throw sourceError('E_NETWORK', `cannot read an answer from ${host}: ${describe(err)}`);
      }
      if (chunk === null) break;
      size += chunk.length;
      if (size > limit) {
        answer.close();
        throw tooBig();
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size);
  }

  /** An error for an answer that is neither success nor 401. */
  async statusError(answer, what) {
    let body = Buffer.alloc(0);
    try {
      body = await this.readLimited(answer, 64 << 10, this.host());
    } catch {
      answer.close();
    }
    let code;
    try {
      const doc = JSON.parse(body.toString('utf8'));
      const first = doc.errors.find((e) => e && typeof e.code === 'string');
      if (first) code = Array.from(first.code).filter((c) => /^[\x21-\x7e]$/.test(c)).slice(0, 64).join('');
    } catch {
      code = undefined;
    }
    const says = code !== undefined ? ` (${code})` : '';
    const { registry } = this.reference;
    if (answer.status === 404) return sourceError('E_NOT_FOUND', `${registry} has no ${what}${says}`);
    const e = answer.status === 403 ? 'E_AUTH' : 'E_REGISTRY';
    return sourceError(e, `${registry} answered HTTP ${answer.status} for ${what}${says}`);
  }

  /** A manifest or index by tag or digest: { bytes, digest }, checked
   * against the digest asked for or the one the registry names. */
  async manifest(reference) {
    const { repository, registry } = this.reference;
    const answer = await this.get(`/v2/${repository}/manifests/${reference}`, { Accept: MANIFEST_ACCEPT });
    const what = `manifest ${repository}:${reference}`;
    if (answer.status !== 200) throw await this.statusError(answer, what);
    const media = (answer.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const known =
      media === '' ||
      media === 'application/json' ||
      media === 'application/octet-stream' ||
      media.startsWith('application/vnd.oci.image.') ||
      media.startsWith('application/vnd.docker.distribution.manifest.');
    if (!known) {
      answer.close();
      throw sourceError(
        'E_REGISTRY',
        `${registry} answered '${Array.from(media).slice(0, 80).join('')}' for ${what}, not a manifest`,
      );
    }
    const claimed = answer.headers.get('docker-content-digest');
    const bytes = await this.readLimited(answer, MAX_MANIFEST, this.host());
    const digest = sha256Digest(bytes);
    const expected = reference.includes(':') ? reference : claimed;
    if (expected && expected.startsWith('sha256:') && expected !== digest) {
      throw sourceError(
        'E_DIGEST_MISMATCH',
        `${what} has ${digest} but ${expected} was expected: it was altered on its way`,
      );
    }
    // Docker's schema 1 (`…manifest.v1+json`, `…+prettyjws`); not OCI's `…image.manifest.v1+json`.
    if (media.startsWith('application/vnd.docker.distribution.manifest.v1')) throw schema1();
    return { bytes, digest };
  }

  /** A blob, streamed: see BlobStream. */
  blob(descriptor, onBytes) {
    return new BlobStream(this, descriptor, onBytes);
  }
}

/**
 * A blob's bytes as they arrive (`next()`: a chunk, or null at the end),
 * hashed on the way. A connection that breaks is resumed with a Range
 * request where it stopped; at the end the size and digest must be the
 * descriptor's.
 */
class BlobStream {
  constructor(client, descriptor, onBytes) {
    this.client = client;
    this.digest = descriptor.digest;
    this.size = typeof descriptor.size === 'number' ? descriptor.size : undefined;
    this.onBytes = onBytes;
    this.answer = null;
    this.received = 0;
    this.hash = crypto.createHash('sha256');
    this.resumes = 0;
    this.done = false;
  }

  async open() {
    const { client, digest } = this;
    const extra = this.received > 0 ? { Range: `bytes=${this.received}-` } : {};
    const answer = await client.get(`/v2/${client.reference.repository}/blobs/${digest}`, extra);
    const what = `blob ${digest}`;
    let skip = 0;
    if (answer.status === 200) skip = this.received; // the server ignored Range: skip what we have
    else if (!(answer.status === 206 && this.received > 0)) throw await client.statusError(answer, what);
    this.answer = answer;
    this.carry = null;
    while (skip > 0) {
      let chunk;
      try {
        chunk = await answer.read();
      } catch (err) {
        client.checkAborted();
        throw sourceError('E_NETWORK', `cannot read ${what}: ${describe(err)}`);
      }
      if (chunk === null) break; // shorter than before: the end check below resumes
      if (chunk.length > skip) this.carry = chunk.subarray(skip);
      skip -= Math.min(skip, chunk.length);
    }
  }

  /** The connection broke (or ended short): resume, within the budget. */
  async resume(why) {
    if (this.answer) this.answer.close();
    this.answer = null;
    this.resumes += 1;
    if (this.resumes >= MAX_ATTEMPTS) {
      throw sourceError('E_NETWORK', `blob ${this.digest} broke off ${this.resumes} times, last: ${why}`);
    }
    await sleep(backoff(this.resumes), this.client.signal);
  }

  checkEnd() {
    this.done = true;
    const actual = `sha256:${this.hash.digest('hex')}`;
    if (actual !== this.digest) {
      throw sourceError(
        'E_DIGEST_MISMATCH',
        `blob ${this.digest} arrived with digest ${actual}: it was altered on its way`,
      );
    }
  }

  /** The next chunk, or null at the end (after the digest check). */
  async next() {
    if (this.done) return null;
    for (;;) {
      if (!this.answer) await this.open();
      let chunk;
      if (this.carry) {
        chunk = this.carry;
        this.carry = null;
      } else {
        try {
          chunk = await this.answer.read();
        } catch (err) {
          this.client.checkAborted();
          await this.resume(describe(err));
          continue;
        }
      }
      if (chunk === null) {
        if (this.size !== undefined && this.received < this.size) {
          await this.resume(`it ended after ${this.received} of ${this.size} bytes`);
          continue;
        }
        this.answer = null;
        this.checkEnd();
        return null;
      }
      if (chunk.length === 0) continue;
      if (this.size !== undefined && this.received + chunk.length > this.size) {
        this.answer.close();
        this.done = true;
        throw sourceError(
          'E_DIGEST_MISMATCH',
          `blob ${this.digest} is bigger than the ${this.size} bytes its descriptor says`,
        );
      }
      this.hash.update(chunk);
      this.received += chunk.length;
      this.client.downloaded += chunk.length;
      if (this.onBytes) this.onBytes(chunk.length);
      return chunk;
    }
  }

  /** Read to the end (the digest counts every byte), dropping the bytes. */
  async drain() {
    while ((await this.next()) !== null);
  }

  close() {
    this.done = true;
    if (this.answer) this.answer.close();
    this.answer = null;
  }
}

/** A whole small blob (a config), at most `limit` bytes; its digest is
 * checked when it is read to its end. */
async function readBlob(client, descriptor, limit) {
  const blob = client.blob(descriptor, descriptor.onBytes);
  const chunks = [];
  let size = 0;
  try {
    for (let chunk = await blob.next(); chunk !== null; chunk = await blob.next()) {
      size += chunk.length;
      if (size > limit) {
        throw sourceError('E_LIMIT', `config ${descriptor.digest} is larger than ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } finally {
    blob.close();
  }
  return Buffer.concat(chunks, size);
}

/**
 * Summarise one layer streaming from `source` (`next()`: a chunk or null)
 * in steps: wasm.LayerScan walks the window of bytes received, says from
 * which offset it needs bytes next, and goes on once they are there. Only
 * the window is held (4 MiB, more when one entry needs more). `allowance`:
 * what its decoder may give (Pending.budgetLeft(); undefined: no limit);
 * `pathKey`: Pending.pathKey(); `budget`: the budget shared with the other
 * layers walked by turns on this thread (sharedBudget), which then sets the
 * allowance before each step.
 * Resolves with the summary's bytes; the caller drains the rest of the source.
 */
async function scanStepwise(name, size, source, { allowance, pathKey, budget }) {
  let buffer = new Uint8Array(WINDOW);
  // The window: bytes [start, start + length) of the layer, at buffer[0..length).
  let start = 0;
  let length = 0;
  // A chunk of the source not yet used, from layer offset pendingAt.
  let pending = null;
  let pendingAt = 0;
  let nextAt = 0; // the layer offset of the source's next chunk
  let ended = false;
  const pull = async () => {
    if (pending === null && !ended) {
      const chunk = await source.next();
      if (chunk === null) ended = true;
      else {
        pending = chunk;
        pendingAt = nextAt;
        nextAt += chunk.length;
      }
    }
    return pending;
  };
  const internal = (what) => codedError('E_INTERNAL', `a layer step ${what}`);
  // Make the window start at `need`, keeping what it holds from there on, and fill it.
  const fill = async (need) => {
    if (need >= start && need < start + length) {
      buffer.copyWithin(0, need - start, length);
      length -= need - start;
    } else if (need >= start + length) {
      length = 0;
    } else {
      throw internal('went back before its window');
    }
    start = need;
    // An entry bigger than half the window (long extension headers, a
    // captured file): a bigger window, so that the walk gets past it.
    if (length > buffer.length / 2) {
      if (buffer.length * 2 > MAX_WINDOW) throw codedError('E_LIMIT', `a layer entry needs more than ${MAX_WINDOW} bytes at once`);
      const bigger = new Uint8Array(buffer.length * 2);
      bigger.set(buffer.subarray(0, length));
      buffer = bigger;
    }
    while (length < buffer.length) {
      const chunk = await pull();
      if (chunk === null) break;
      const want = start + length;
      if (pendingAt + chunk.length <= want) {
        pending = null; // before the window: skipped (hashed all the same)
        continue;
      }
      if (want < pendingAt) throw internal('lost bytes');
      const from = want - pendingAt;
      const n = Math.min(chunk.length - from, buffer.length - length);
      buffer.set(chunk.subarray(from, from + n), length);
      length += n;
      if (from + n === chunk.length) pending = null;
      else {
        pending = chunk.subarray(from + n);
        pendingAt += from + n;
      }
    }
  };
  const read = (at, want, layer, into) => {
    const rel = at - start;
    if (rel < 0) throw internal('read before its window');
    if (rel < length) {
      const n = Math.min(want, length - rel);
      into.set(buffer.subarray(rel, rel + n));
      return n;
    }
    return ended && pending === null ? 0 : -1;
  };
  const scan = newLayerScan(wasm, { name, offset: 0, size, allowance, pathKey }, WINDOW);
  const resume = () => {
    if (budget) scan.setAllowance(budget.allowance(name));
    const step = scan.resume(read);
    if (budget) budget.decoded.set(name, scan.decoded());
    return step;
  };
  try {
    await fill(0);
    let step = resume();
    let last = null;
    while (typeof step === 'number') {
      const before = `${step}/${start}/${length}/${buffer.length}/${nextAt}/${ended}`;
      if (before === last) throw internal('made no progress');
      await fill(step);
      last = `${step}/${start}/${length}/${buffer.length}/${nextAt}/${ended}`;
      step = resume();
    }
    return step;
  } finally {
    scan.free();
  }
}

/**
 * The decompression budget of layers walked by turns on this thread: each
 * may decode in all what `pending` has left less what the other layers in
 * flight decoded, so that together they stay within it (as natively, where
 * one budget is charged by every thread). `decoded`: bytes per layer name,
 * until its summary is added to `pending` (then `done(name)`).
 */
function sharedBudget(pending) {
  const decoded = new Map();
  return {
    decoded,
    allowance(name) {
      let rest = pending.budgetLeft();
      for (const [other, bytes] of decoded) if (other !== name) rest -= bytes;
      return Math.max(rest, 0);
    },
    done: (name) => decoded.delete(name),
  };
}

/** A source that gives `head` (chunks already read) first, then the blob's. */
function withHead(head, blob) {
  let i = 0;
  return {
    next: () => (i < head.length ? Promise.resolve(head[i++]) : blob.next()),
  };
}

/**
 * One layer blob's summary. An error of the transfer (network, auth,
 * digest) fails the whole analysis: the summary of bytes that did not
 * arrive, or were not the image's, must not be reported. `scan`: the
 * LayerScan's `allowance` (what its decoder may give) and `pathKey`;
 * `signal`: the caller's (then through a worker).
 */
async function scanBlob(client, d, name, onBytes, scan, signal) {
  const blob = client.blob(d, onBytes);
  try {
    // What the layer is, from its first bytes (as LayerScan sniffs it).
    const head = [];
    let got = 0;
    while (got < 8) {
      const chunk = await blob.next();
      if (chunk === null) break;
      head.push(chunk);
      got += chunk.length;
    }
    const first = Buffer.concat(head).subarray(0, 8);
    // A descriptor always has a size; without one the layer is read to its
    // end (the report's storedSize is then that bound, not 0 as natively).
    const size = typeof d.size === 'number' ? d.size : Number.MAX_SAFE_INTEGER;
    const source = withHead(head, blob);
    const summary =
      wasm.sniffCompression(first) === 'zstd' || signal
        ? await scanPiped(name, size, source, { ...scan, signal })
        : await scanStepwise(name, size, source, scan);
    // The walker stops at the tar's end: the rest still counts for the digest.
    await blob.drain();
    return summary;
  } catch (err) {
    throw withEntry(err, d.digest);
  } finally {
    blob.close();
  }
}

/** A signal aborted when either is (AbortSignal.any, which Node 18 lacks). */
function anySignal(a, b) {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b]);
  const controller = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/**
 * Analyse `reference` (wasm.parseReference's) from its registry; `given`
 * is the source as the user wrote it. Resolves with the wasm Analysis.
 * options: { platform, allPlatforms, creds, authfile, tlsVerify,
 * concurrency, maxDecompressed, onProgress, signal }.
 */
async function analyzeRegistry(reference, given, options = {}) {
  const { allPlatforms = false, onProgress, signal } = options;
  const max = budgetOption(options.maxDecompressed);
  const concurrency = Math.max(1, Math.floor(Number(options.concurrency ?? 3)) || 3);
  // A failed layer stops the others' downloads.
  const stop = new AbortController();
  const combined = signal ? anySignal(signal, stop.signal) : stop.signal;
  const client = new Client(reference, { ...options, signal: combined });
  const top = await client.manifest(reference.digest ?? reference.tag ?? 'latest');
  const doc = parseDocument(top.bytes);
  let platforms = [];
  const chosen = [];
  if (doc.manifests !== null) {
    const images = indexImages(doc);
    platforms = images.map((d) => (d.platform ? platformString(d.platform) : 'unknown/unknown'));
    let picked;
    if (allPlatforms) {
      picked = images;
    } else {
      const wanted = options.platform ?? hostPlatform();
      const hit = images.find((d) => d.platform && platformMatches(d.platform, wanted));
      if (!hit) {
        throw sourceError(
          'E_NOT_FOUND',
          `${reference.normalized} has no image for platform ${wanted}; it has: ${platforms.length ? platforms.join(', ') : 'none'}`,
        );
      }
      picked = [hit];
    }
    for (const d of picked) {
      checkedDigest(d.digest);
      const { bytes, digest } = await client.manifest(d.digest);
      const manifest = parseDocument(bytes);
      if (manifest.manifests !== null) {
        throw codedError('E_UNSUPPORTED_FORMAT', 'an image index names another index');
      }
      chosen.push({ d: { ...d, digest }, bytes, manifest });
    }
  } else {
    chosen.push({ d: { digest: top.digest, platform: null, annotations: null }, bytes: top.bytes, manifest: doc });
  }

  const pending = wasm.imagePlan();
  try {
    const layers = [];
    for (const { manifest } of chosen) {
      for (const l of manifest.layers ?? []) if (!layers.some((x) => x.digest === l.digest)) layers.push(l);
    }
    const total =
      chosen.reduce((sum, { manifest }) => sum + ((manifest.config && manifest.config.size) || 0), 0) +
      layers.reduce((sum, l) => sum + (l.size || 0), 0);
    const progress = (layer) => () => {
      if (onProgress) onProgress({ bytesRead: client.downloaded, totalBytes: total, layer });
    };
    // The configs first: USER is known before any layer.
    for (const { d, bytes, manifest } of chosen) {
      if (!manifest.config) throw sourceError('E_BAD_JSON', `manifest ${d.digest} has no config`);
      const config = manifest.config;
      checkedDigest(config.digest);
      const configBytes = await readBlob(
        client,
        { ...config, onBytes: progress(blobPath(config.digest)) },
        MAX_JSON_BYTES,
      );
      pending.addDocument(config.digest, configBytes);
      pending.addDocument(checkedDigest(d.digest), bytes);
      addImage(pending, d);
    }
    const names = layers.map((l) => pending.expectLayer(checkedDigest(l.digest)));
    // The decompression budget, from what the layers weigh as stored (as
    // natively). Layers walked by turns on this thread share it step by step
    // (sharedBudget); a layer in a worker (zstd, or with a signal) may take
    // what is left when it starts, so that layers decoded at once in workers
    // may together take more, and finish() then reports the budget as spent
    // all the same.
    pending.setBudget(max, layers.reduce((sum, l) => sum + (l.size || 0), 0));
    const budget = sharedBudget(pending);
    // Up to `concurrency` layers at once, in the manifests' order.
    let next = 0;
    let failure = null;
    const worker = async () => {
      while (failure === null && next < layers.length) {
        const i = next++;
        try {
          const summary = await scanBlob(
            client,
            layers[i],
            names[i],
            progress(names[i]),
            { allowance: pending.budgetLeft(), pathKey: pending.pathKey(), budget },
            signal && combined,
          );
          if (failure === null) pending.addLayer(names[i], summary);
          budget.done(names[i]);
        } catch (err) {
          if (failure === null) {
            failure = err;
            stop.abort(err);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, layers.length) }, worker));
    if (failure !== null) {
      if (signal && signal.aborted) throw abortReason(signal);
      throw failure;
    }
    pending.setSource(
      'registry',
      given,
      reference.normalized,
      reference.registry,
      reference.repository,
      reference.tag ?? undefined,
      top.digest,
      platforms,
      reference.tag ? reference.normalized : undefined,
      client.downloaded,
    );
    return pending.finish();
  } finally {
    pending.free();
  }
}

module.exports = {
  analyzeRegistry,
  Client,
  blobPath,
  parseDocument,
  platformString,
  platformMatches,
  hostPlatform,
  indexImages,
  addImage,
  scanStepwise,
  MAX_JSON_BYTES,
};
