#!/usr/bin/env node
// A misbehaving reverse proxy in front of a Docker registry, for the registry
// client's tests. No npm dependencies. One proxy serves every case: the
// behaviour is chosen per request by a "mode" named in the path.
//
//   node fault-proxy.mjs --upstream 127.0.0.1:RPORT --user rcuser [--port 0] [--port-file F]
//   password for the upstream: environment variable FAULT_PROXY_PASSWORD
//     (used only by the redirect target, which fetches blobs itself)
//
// Two spellings of the mode (both forward /v2/... to the upstream):
//   A  http://127.0.0.1:PPORT/<mode>/v2/<name>/...   (a base URL with a path)
//   B  http://127.0.0.1:PPORT/v2/<mode>/<name>/...   (the mode is the repository's
//      first component, so any registry client works: docker://127.0.0.1:PPORT/cut/fixtures/bb:latest)
// A mode may carry a session suffix, `<mode>.<tag>` (e.g. `503.t1`): counters,
// and so "the first request", are kept per full mode string, so parallel tests
// using different tags do not see each other's faults.
// `Location` (and `Link`) headers from the upstream are rewritten to point back
// through the proxy with the same mode and spelling. The upstream's
// `WWW-Authenticate` is Basic (realm "basic-realm"), which needs no rewriting.
//
// Modes (faults apply to GET/HEAD of manifests and blobs; everything else,
// including pushes, passes through):
//   ok                   pass-through
//   cut                  blob GET without Range: right Content-Length, socket closed after half
//                        the body; Range requests pass through (a resuming client succeeds)
//   429                  first request per blob: 429, Retry-After: 1; then pass-through
//   503                  first request per manifest and per blob: 503; then pass-through
//   slow                 body trickles, 64 KiB every 50 ms
//   redirect             blob GET: 307 to the second listener, http://127.0.0.1:RPORT2/blob/<digest>?...,
//                        which serves the blob with the proxy's own credentials and records
//                        whether the request carried Authorization (stats: redirectAuthSeen)
//   hostile-endless      manifest/blob GET: 200 with an endless chunked body
//   hostile-bigmanifest  manifest GET: Content-Length 1 GB, 4 MiB sent, then a stall
//   hostile-loop         manifest/blob GET/HEAD: 307 to the same path (?loop=N+1), forever
//   hostile-drip         manifest/blob GET: 1 byte per second, connection closed after 60 s
//   hostile-ctype        manifest GET/HEAD: Content-Type: text/html
//   hostile-digest       manifest GET: one byte of the body changed, Docker-Content-Digest
//                        still the original's
//   hostile-blobdigest   blob GET: one byte of the body changed (manifest intact)
// Every response is bounded: 120 s and 1 GiB at most, then the socket is closed.
//
// GET /_stats  -> JSON counters (see tests/support/README.md); GET|POST /_reset[?mode=KEY]
// clears them (all, or one mode key's); GET /_health -> {"ok": true}.

import fs from 'node:fs';
import http from 'node:http';

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

const opt = args(process.argv.slice(2));
const upstream = opt.upstream;
if (!upstream) throw new Error('--upstream HOST:PORT is required');
const [upHost, upPort] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.slice(upstream.lastIndexOf(':') + 1))];
const upAuth = `Basic ${Buffer.from(`${opt.user || 'rcuser'}:${process.env.FAULT_PROXY_PASSWORD || ''}`).toString('base64')}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

const MODES = new Set([
  'ok', 'cut', '429', '503', 'slow', 'redirect',
  'hostile-endless', 'hostile-bigmanifest', 'hostile-loop', 'hostile-drip',
  'hostile-ctype', 'hostile-digest', 'hostile-blobdigest',
]);
const MAX_MS = 120_000;
const BYTE_CAP = 1 << 30;
const SLOW_CHUNK = 64 * 1024;
const SLOW_DELAY_MS = 50;
const DRIP_MS = 60_000;
const BIG_LENGTH = 1_000_000_000;
const BIG_SENT = 4 * 1024 * 1024;
const LOOP_CAP = 1000;

const baseMode = (key) => key.split('.')[0];
const isMode = (key) => /^[a-z0-9][a-z0-9._-]*$/.test(key) && MODES.has(baseMode(key));

// ---- statistics -------------------------------------------------------------
let stats;
let seen; // Map "key path" -> count, for "the first request per path"
function reset(key) {
  if (!key) {
    stats = {
      started: new Date().toISOString(),
      upstream,
      requests: {}, // mode key -> requests
      byMode: {}, // base mode -> requests
      faults: {}, // mode key -> faults injected
      paths: {}, // "key METHOD /v2/..." -> requests
      redirectServed: 0,
      redirectAuthSeen: 0,
      redirects: {}, // mode key -> {served, authSeen}
      redirectLog: [], // last 100: {key, path, authorization, range}
      upstreamErrors: 0,
      capped: 0, // responses ended by the time or byte cap
    };
    seen = new Map();
    return;
  }
  const drop = (obj) => {
    for (const k of Object.keys(obj)) if (k === key || k.startsWith(`${key} `)) delete obj[k];
  };
  const r = stats.redirects[key];
  if (r) {
    stats.redirectServed -= r.served;
    stats.redirectAuthSeen -= r.authSeen;
  }
  stats.byMode[baseMode(key)] = Math.max(0, (stats.byMode[baseMode(key)] || 0) - (stats.requests[key] || 0));
  for (const obj of [stats.requests, stats.faults, stats.paths, stats.redirects]) drop(obj);
  stats.redirectLog = stats.redirectLog.filter((e) => e.key !== key);
  for (const k of [...seen.keys()]) if (k.startsWith(`${key} `)) seen.delete(k);
}
reset();
const bump = (obj, k, n = 1) => {
  obj[k] = (obj[k] || 0) + n;
};

// ---- helpers ---------------------------------------------------------------
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function drained(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
function sendJson(res, status, obj, extra = {}) {
  const body = JSON.stringify(obj, null, 1);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}
function regError(res, status, code, message, extra = {}) {
  sendJson(res, status, { errors: [{ code, message }] }, { 'docker-distribution-api-version': 'registry/2.0', ...extra });
}
const HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'];

/** Sends a request to the upstream registry; resolves with its response. */
function upstreamRequest(req, path, { method = req.method, headers = null, body = req } = {}) {
  const h = { ...(headers || req.headers) };
  for (const k of [...HOP, 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-for', 'forwarded']) delete h[k];
  h.host = upstream;
  return new Promise((resolve, reject) => {
    const up = http.request({ host: upHost, port: upPort, method, path, headers: h, agent }, resolve);
    up.on('error', reject);
    up.setTimeout(MAX_MS, () => up.destroy(new Error('upstream timeout')));
    if (body && method !== 'GET' && method !== 'HEAD') body.pipe(up);
    else up.end();
  });
}

/** Copies every byte of src to res, optionally in pieces with a delay, to a limit. */
async function pump(src, res, { limit = BYTE_CAP, chunk = Infinity, delayMs = 0, until = Date.now() + MAX_MS, mutate } = {}) {
  let sent = 0;
  for await (const buf of src) {
    let b = buf;
    while (b.length) {
      if (res.destroyed || Date.now() > until) return { sent, done: false };
      const n = Math.min(b.length, chunk, limit - sent);
      if (n <= 0) return { sent, done: false };
      const piece = b.subarray(0, n);
      b = b.subarray(n);
      if (mutate) mutate(piece, sent);
      sent += n;
      if (!res.write(piece)) await drained(res);
      if (delayMs) await sleep(delayMs);
    }
  }
  return { sent, done: true };
}

/** Destroys the client's socket once what was written has been handed to the kernel. */
function cutAfterFlush(res) {
  if (res.destroyed) return;
  res.write('', () => res.socket?.destroy());
  setTimeout(() => res.socket?.destroy(), 2000).unref();
}

// ---- the main listener -------------------------------------------------------
function route(pathname) {
  let m = /^\/([^/]+)\/v2(\/.*)?$/.exec(pathname);
  if (m && isMode(m[1])) return { key: m[1], upath: `/v2${m[2] || '/'}`, form: 'A' };
  m = /^\/v2\/([^/]+)\/(.+)$/.exec(pathname);
  if (m && isMode(m[1])) return { key: m[1], upath: `/v2/${m[2]}`, form: 'B' };
  if (pathname === '/v2/' || pathname === '/v2') return { key: 'ok', upath: '/v2/', form: 'none' };
  return null;
}

function classify(upath) {
  const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(upath);
  if (!m) return { kind: 'other' };
  if (m[2] === 'manifests') return { kind: 'manifest', name: m[1], ref: m[3] };
  if (/^[a-z0-9+._-]+:[a-zA-Z0-9=_-]+$/.test(m[3])) return { kind: 'blob', name: m[1], ref: m[3] };
  return { kind: 'other' };
}

let redirectPort = 0;

async function handle(req, res) {
  const url = new URL(req.url, 'http://proxy.invalid');
  if (url.pathname === '/_health') return sendJson(res, 200, { ok: true });
  if (url.pathname === '/_stats') return sendJson(res, 200, stats);
  if (url.pathname === '/_reset') {
    reset(url.searchParams.get('mode') || undefined);
    return sendJson(res, 200, { reset: url.searchParams.get('mode') || 'all' });
  }
  const r = route(url.pathname);
  if (!r) {
    return regError(res, 404, 'NAME_UNKNOWN', `fault-proxy: no mode in ${url.pathname}; use /<mode>/v2/... or /v2/<mode>/<name>/...; modes: ${[...MODES].join(', ')}`);
  }
  const { key, upath, form } = r;
  const mode = baseMode(key);
  const { kind, name, ref } = classify(upath);
  const isGet = req.method === 'GET';
  const isGetHead = isGet || req.method === 'HEAD';
  bump(stats.requests, key);
  bump(stats.byMode, mode);
  bump(stats.paths, `${key} ${req.method} ${upath}`);
  const seenKey = `${key} ${upath}`;
  const count = (seen.get(seenKey) || 0) + 1;
  seen.set(seenKey, count);
  const first = count === 1;
  const fault = () => bump(stats.faults, key);
  const host = req.headers.host || `127.0.0.1:${server.address().port}`;

  const viaProxy = (p) => (form === 'B' ? `/v2/${key}/${p.slice(4)}` : form === 'A' ? `/${key}${p}` : p);
  const rewriteLocation = (loc) => {
    let u;
    try {
      u = new URL(loc, `http://${upstream}`);
    } catch {
      return loc;
    }
    if ((u.host !== upstream && u.host !== host) || !u.pathname.startsWith('/v2/')) return loc;
    return `http://${host}${viaProxy(u.pathname)}${u.search}`;
  };
  const headersFrom = (upRes) => {
    const h = { ...upRes.headers };
    for (const k of HOP) delete h[k];
    if (h.location) h.location = rewriteLocation(h.location);
    if (h.link) h.link = String(h.link).replace(/<(\/v2\/[^>]*)>/g, (_, p) => `<${viaProxy(p)}>`);
    return h;
  };
  const forward = async (opts) => {
    const upRes = await upstreamRequest(req, upath + url.search, opts);
    res.on('close', () => upRes.destroy());
    return upRes;
  };
  const passThrough = async () => {
    const upRes = await forward();
    res.writeHead(upRes.statusCode, headersFrom(upRes));
    const { done } = await pump(upRes, res);
    if (done) res.end();
    else {
      stats.capped++;
      cutAfterFlush(res);
    }
  };

  // --- faults that need no upstream ---
  if (mode === '429' && kind === 'blob' && isGetHead && first) {
    fault();
    return regError(res, 429, 'TOOMANYREQUESTS', 'fault-proxy: first request for this blob (mode 429)', { 'retry-after': '1' });
  }
  if (mode === '503' && (kind === 'blob' || kind === 'manifest') && isGetHead && first) {
    fault();
    return regError(res, 503, 'UNAVAILABLE', 'fault-proxy: first request for this path (mode 503)');
  }
  if (mode === 'hostile-loop' && (kind === 'blob' || kind === 'manifest') && isGetHead) {
    fault();
    const n = Number(url.searchParams.get('loop') || 0);
    if (n >= LOOP_CAP) return regError(res, 508, 'LOOP', 'fault-proxy: loop cap reached');
    const next = new URL(url);
    next.searchParams.set('loop', String(n + 1));
    res.writeHead(307, { location: `http://${host}${url.pathname}${next.search}`, 'content-length': 0 });
    return res.end();
  }
  if (mode === 'hostile-endless' && (kind === 'blob' || kind === 'manifest') && isGet) {
    fault();
    res.writeHead(200, {
      'content-type': kind === 'manifest' ? 'application/vnd.oci.image.manifest.v1+json' : 'application/octet-stream',
      'docker-distribution-api-version': 'registry/2.0',
    });
    const piece = Buffer.alloc(64 * 1024, kind === 'manifest' ? ' ' : 0);
    if (kind === 'manifest') res.write('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[');
    const until = Date.now() + MAX_MS;
    let sent = 0;
    while (!res.destroyed && Date.now() < until && sent < BYTE_CAP) {
      sent += piece.length;
      if (!res.write(piece)) await drained(res);
    }
    stats.capped++;
    return cutAfterFlush(res);
  }
  if (mode === 'hostile-bigmanifest' && kind === 'manifest' && isGetHead) {
    fault();
    res.writeHead(200, {
      'content-type': 'application/vnd.oci.image.manifest.v1+json',
      'content-length': String(BIG_LENGTH),
      'docker-distribution-api-version': 'registry/2.0',
    });
    if (!isGet) return res.end();
    res.write('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"pad":"');
    const piece = Buffer.alloc(64 * 1024, 'a');
    for (let sent = 0; sent < BIG_SENT && !res.destroyed; sent += piece.length) {
      if (!res.write(piece)) await drained(res);
    }
    // stall until the client gives up, at most MAX_MS
    await new Promise((resolve) => {
      const t = setTimeout(resolve, MAX_MS);
      res.on('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
    stats.capped++;
    return res.socket?.destroy();
  }

  // --- redirect: auth is checked by the upstream first, as a real registry does ---
  if (mode === 'redirect' && kind === 'blob' && isGet) {
    const head = await forward({ method: 'HEAD' });
    head.resume();
    if (head.statusCode !== 200) return passThrough(); // the upstream's own 401/404, with its body
    fault();
    const q = new URLSearchParams({ repo: name, key });
    res.writeHead(307, { location: `http://127.0.0.1:${redirectPort}/blob/${ref}?${q}`, 'content-length': 0, 'docker-distribution-api-version': 'registry/2.0' });
    return res.end();
  }

  // --- faults on the upstream's response ---
  if (mode === 'cut' && kind === 'blob' && isGet && !req.headers.range) {
    const upRes = await forward();
    const total = Number(upRes.headers['content-length']);
    res.writeHead(upRes.statusCode, headersFrom(upRes));
    if (upRes.statusCode !== 200 || !Number.isFinite(total)) {
      await pump(upRes, res);
      return res.end();
    }
    fault();
    await pump(upRes, res, { limit: Math.floor(total / 2) });
    upRes.destroy();
    return cutAfterFlush(res);
  }
  if ((mode === 'slow' || mode === 'hostile-drip') && (kind === 'blob' || kind === 'manifest') && isGet) {
    const upRes = await forward();
    res.writeHead(upRes.statusCode, headersFrom(upRes));
    if (upRes.statusCode !== 200) {
      await pump(upRes, res);
      return res.end();
    }
    fault();
    const drip = mode === 'hostile-drip';
    const { done } = await pump(upRes, res, drip
      ? { chunk: 1, delayMs: 1000, until: Date.now() + DRIP_MS }
      : { chunk: SLOW_CHUNK, delayMs: SLOW_DELAY_MS });
    if (done) return res.end();
    upRes.destroy();
    stats.capped++;
    return cutAfterFlush(res);
  }
  if (mode === 'hostile-ctype' && kind === 'manifest' && isGetHead) {
    const upRes = await forward();
    const h = headersFrom(upRes);
    if (upRes.statusCode === 200) {
      fault();
      h['content-type'] = 'text/html; charset=utf-8';
    }
    res.writeHead(upRes.statusCode, h);
    await pump(upRes, res);
    return res.end();
  }
  if (mode === 'hostile-digest' && kind === 'manifest' && isGet) {
    const upRes = await forward();
    const h = headersFrom(upRes);
    const chunks = [];
    let size = 0;
    for await (const c of upRes) {
      size += c.length;
      if (size > 16 << 20) return res.socket?.destroy();
      chunks.push(c);
    }
    const body = Buffer.concat(chunks);
    if (upRes.statusCode === 200 && body.length) {
      fault();
      const at = body.indexOf('sha256:');
      const i = at >= 0 ? at + 7 + 10 : Math.floor(body.length / 2);
      body[i] = body[i] === 0x30 ? 0x31 : at >= 0 ? 0x30 : body[i] ^ 1; // '0' <-> '1' keeps the JSON valid
    }
    h['content-length'] = String(body.length);
    res.writeHead(upRes.statusCode, h);
    return res.end(body);
  }
  if (mode === 'hostile-blobdigest' && kind === 'blob' && isGet) {
    const upRes = await forward();
    res.writeHead(upRes.statusCode, headersFrom(upRes));
    const total = Number(upRes.headers['content-length']);
    const at = upRes.statusCode === 200 && Number.isFinite(total) && total > 0 ? Math.floor(total / 2) : -1;
    if (at >= 0) fault();
    const { done } = await pump(upRes, res, {
      mutate: (piece, offset) => {
        if (at >= offset && at < offset + piece.length) piece[at - offset] ^= 0x01;
      },
    });
    return done ? res.end() : cutAfterFlush(res);
  }
  return passThrough();
}

const server = http.createServer((req, res) => {
  const timer = setTimeout(() => {
    stats.capped++;
    req.socket.destroy();
  }, MAX_MS + 5000);
  res.on('close', () => clearTimeout(timer));
  handle(req, res).catch((err) => {
    stats.upstreamErrors++;
    console.error(`${req.method} ${req.url}: ${err.message}`);
    if (!res.headersSent) regError(res, 502, 'UPSTREAM', `fault-proxy: ${err.message}`);
    else res.socket?.destroy();
  });
});
server.requestTimeout = 0; // uploads may be long; every response has its own cap above
server.headersTimeout = 30_000;

// ---- the redirect target -----------------------------------------------------
const redirectServer = http.createServer((req, res) => {
  const timer = setTimeout(() => req.socket.destroy(), MAX_MS);
  res.on('close', () => clearTimeout(timer));
  const url = new URL(req.url, 'http://redirect.invalid');
  const m = /^\/blob\/([^/]+)$/.exec(url.pathname);
  const repo = url.searchParams.get('repo');
  if (!m || !repo || (req.method !== 'GET' && req.method !== 'HEAD')) return sendJson(res, 404, { error: 'not a blob' });
  const key = url.searchParams.get('key') || 'redirect';
  const authorization = Boolean(req.headers.authorization);
  stats.redirectServed++;
  if (authorization) stats.redirectAuthSeen++;
  stats.redirects[key] ||= { served: 0, authSeen: 0 };
  stats.redirects[key].served++;
  if (authorization) stats.redirects[key].authSeen++;
  stats.redirectLog.push({ key, path: url.pathname, authorization, range: req.headers.range || null });
  if (stats.redirectLog.length > 100) stats.redirectLog.shift();
  const headers = { authorization: upAuth };
  if (req.headers.range) headers.range = req.headers.range;
  upstreamRequest(req, `/v2/${repo}/blobs/${m[1]}`, { headers, body: null })
    .then(async (upRes) => {
      res.on('close', () => upRes.destroy());
      const h = {};
      for (const k of ['content-length', 'content-type', 'content-range', 'accept-ranges', 'docker-content-digest', 'etag']) {
        if (upRes.headers[k]) h[k] = upRes.headers[k];
      }
      res.writeHead(upRes.statusCode, h);
      const { done } = await pump(upRes, res);
      return done ? res.end() : cutAfterFlush(res);
    })
    .catch((err) => {
      stats.upstreamErrors++;
      if (!res.headersSent) sendJson(res, 502, { error: err.message });
      else res.socket?.destroy();
    });
  return undefined;
});

server.listen(Number(opt.port || 0), '127.0.0.1', () => {
  redirectServer.listen(Number(opt['redirect-port'] || 0), '127.0.0.1', () => {
    redirectPort = redirectServer.address().port;
    const { port } = server.address();
    if (opt['port-file']) {
      fs.writeFileSync(`${opt['port-file']}.tmp`, JSON.stringify({ port, redirectPort, pid: process.pid }));
      fs.renameSync(`${opt['port-file']}.tmp`, opt['port-file']);
    }
    console.log(`fault-proxy listening on 127.0.0.1:${port} (redirect target 127.0.0.1:${redirectPort}) -> ${upstream}`);
  });
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
