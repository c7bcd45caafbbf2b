#!/usr/bin/env node
// A Docker registry token server for the tests (the "Bearer" half of
// Distribution's `auth: token`), with no npm dependencies.
//
//   node token-server.mjs --key KEY.pem --cert CERT.pem --user rcuser \
//        [--issuer test-issuer] [--service test-registry] [--port 0] [--port-file F]
//   password: environment variable TOKEN_SERVER_PASSWORD
//
// GET /token?service=S&scope=repository:NAME:pull[,push] (scope may repeat)
//   -> 200 {"token", "access_token", "expires_in": 300, "issued_at"}
// The token is an RS256 JWT whose header carries x5c = [base64 DER of CERT]
// (Distribution 2.8 verifies it against its rootcertbundle, no libtrust kid).
// Policy: `pull` on repositories under `public/` is granted to anyone; every
// other action (or repository) needs Basic credentials user:password in the
// token request, else 401. Wrong credentials are a 401 even for public pulls.
// POST /token (OAuth2 form: grant_type=password, username, password, scope,
// service) follows the same policy; so does grant_type=refresh_token with
// refresh_token = $TOKEN_SERVER_REFRESH_TOKEN (an identity token, as
// `docker login` stores it), which counts as the user. A wrong refresh token
// is a 401.
// GET /_stats -> counters and the last requests (for tests to assert on),
// GET /_reset clears them, GET /_health -> "ok".

import crypto from 'node:crypto';
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
const issuer = opt.issuer || 'test-issuer';
const service = opt.service || 'test-registry';
const user = opt.user || 'rcuser';
const password = process.env.TOKEN_SERVER_PASSWORD;
const refreshToken = process.env.TOKEN_SERVER_REFRESH_TOKEN || '';
if (!password) throw new Error('TOKEN_SERVER_PASSWORD is not set');
const privateKey = crypto.createPrivateKey(fs.readFileSync(opt.key));
const certDer = new crypto.X509Certificate(fs.readFileSync(opt.cert)).raw;
const TTL = 300;

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function sign(sub, access) {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
  const claims = {
    iss: issuer,
    sub,
    aud: service,
    exp: now + TTL,
    nbf: now - 10,
    iat: now,
    jti: crypto.randomBytes(12).toString('hex'),
    access,
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = crypto.sign('sha256', Buffer.from(input), privateKey);
  return { token: `${input}.${b64url(sig)}`, issuedAt: new Date(now * 1000).toISOString() };
}

/** `repository:NAME:pull,push` -> {type, name, actions}; NAME may contain ':' (a port). */
function parseScope(s) {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first < 0 || last === first) return null;
  return {
    type: s.slice(0, first),
    name: s.slice(first + 1, last),
    actions: s.slice(last + 1).split(',').filter(Boolean),
  };
}

/** 'anonymous' | 'user' | 'bad' */
function who(authorization, form) {
  if (form && form.grant_type === 'refresh_token') {
    return refreshToken && form.refresh_token === refreshToken ? 'user' : 'bad';
  }
  if (form && (form.username !== undefined || form.password !== undefined)) {
    return form.username === user && form.password === password ? 'user' : 'bad';
  }
  if (!authorization) return 'anonymous';
  const m = /^Basic\s+(\S+)$/i.exec(authorization);
  if (!m) return 'bad';
  const dec = Buffer.from(m[1], 'base64').toString('utf8');
  const i = dec.indexOf(':');
  if (i < 0) return 'bad';
  return dec.slice(0, i) === user && dec.slice(i + 1) === password ? 'user' : 'bad';
}

const stats = { issued: 0, denied: 0, anonymousIssued: 0, requests: [] };
function note(entry) {
  stats.requests.push(entry);
  if (stats.requests.length > 200) stats.requests.shift();
}

function send(res, status, obj, extra = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function deny(res, why, entry) {
  stats.denied++;
  note({ ...entry, status: 401, why });
  send(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: why }] }, { 'www-authenticate': 'Basic realm="test-token-server"' });
}

function answer(req, res, scopes, form) {
  const identity = who(req.headers.authorization, form);
  const entry = { time: new Date().toISOString(), method: req.method, grant: form?.grant_type ?? null, identity, scopes };
  if (identity === 'bad') return deny(res, 'wrong credentials', entry);
  const access = [];
  for (const s of scopes) {
    const sc = parseScope(s);
    if (!sc) {
      stats.denied++;
      note({ ...entry, status: 400, why: `bad scope ${s}` });
      return send(res, 400, { errors: [{ code: 'INVALID_REQUEST', message: `bad scope ${s}` }] });
    }
    const publicPull = sc.type === 'repository' && sc.name.startsWith('public/') && sc.actions.every((a) => a === 'pull');
    if (identity !== 'user' && !publicPull) return deny(res, `credentials needed for ${s}`, entry);
    access.push(sc);
  }
  const { token, issuedAt } = sign(identity === 'user' ? user : '', access);
  stats.issued++;
  if (identity === 'anonymous') stats.anonymousIssued++;
  note({ ...entry, status: 200 });
  send(res, 200, { token, access_token: token, expires_in: TTL, issued_at: issuedAt });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/_health') return send(res, 200, { ok: true });
  if (url.pathname === '/_stats') return send(res, 200, stats);
  if (url.pathname === '/_reset') {
    Object.assign(stats, { issued: 0, denied: 0, anonymousIssued: 0, requests: [] });
    return send(res, 200, { reset: true });
  }
  if (url.pathname !== '/token') return send(res, 404, { errors: [{ code: 'NOT_FOUND', message: url.pathname }] });
  if (req.method === 'GET') return answer(req, res, url.searchParams.getAll('scope').flatMap((s) => s.split(' ').filter(Boolean)));
  if (req.method === 'POST') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      body += c;
      if (body.length > 65536) req.destroy();
    });
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      const scopes = (form.scope || '').split(' ').filter(Boolean);
      if (form.grant_type !== 'password' && form.grant_type !== 'refresh_token') {
        return send(res, 400, { error: 'unsupported_grant_type' });
      }
      answer(req, res, scopes, form);
    });
    return undefined;
  }
  return send(res, 405, { errors: [{ code: 'UNSUPPORTED', message: req.method }] });
});
server.requestTimeout = 30_000;
server.headersTimeout = 10_000;

server.listen(Number(opt.port || 0), '127.0.0.1', () => {
  const { port } = server.address();
  if (opt['port-file']) {
    fs.writeFileSync(`${opt['port-file']}.tmp`, JSON.stringify({ port, pid: process.pid }));
    fs.renameSync(`${opt['port-file']}.tmp`, opt['port-file']);
  }
  console.log(`token-server listening on 127.0.0.1:${port} (issuer ${issuer}, service ${service})`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
