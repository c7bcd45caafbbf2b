// A registry small enough to misbehave on purpose, serving an OCI layout
// directory on 127.0.0.1 (Distribution's API as far as a pull goes): Basic
// auth, and blobs that may be redirected to a second listener on another
// port (which counts the requests that still carry Authorization), cut
// short once, answered 429 once, or sent whole whatever Range asks.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

function listen(server) {
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

/**
 * options: { user, password (Basic auth when given), redirect, cutOnce,
 * ignoreRange, tooManyOnce, tls: { key, cert } (HTTPS) }. Resolves with
 * { host, stats, close() }.
 */
export async function tinyRegistry(layout, options = {}) {
  const { user, password, redirect = false, cutOnce = false, ignoreRange = false, tooManyOnce = false, tls } = options;
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8'));
  const stats = { requests: [], redirectServed: 0, redirectAuthSeen: 0, cut: 0, tooMany: 0, ranges: 0 };
  const faulted = new Set();
  const blobFile = (digest) => {
    const [alg, hex] = digest.split(':');
    if (!/^[a-z0-9]+$/.test(alg) || !/^[a-f0-9]+$/.test(hex || '')) return null;
    const file = path.join(layout, 'blobs', alg, hex);
    return fs.existsSync(file) ? file : null;
  };
  // A blob, with Range unless ignored; cut after half when asked (once per blob).
  const sendBlob = (req, res, file, key) => {
    const bytes = fs.readFileSync(file);
    const range = /^bytes=(\d+)-$/.exec(req.headers.range || '');
    if (range && !ignoreRange) {
      stats.ranges++;
      const from = Number(range[1]);
      res.writeHead(206, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': bytes.length - from,
        'Content-Range': `bytes ${from}-${bytes.length - 1}/${bytes.length}`,
      });
      res.end(bytes.subarray(from));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length });
    if (cutOnce && bytes.length > 1024 && !faulted.has(`cut ${key}`)) {
      faulted.add(`cut ${key}`);
      stats.cut++;
      res.write(bytes.subarray(0, bytes.length >> 1), () => res.socket.destroy());
      return;
    }
    res.end(bytes);
  };
  const target = http.createServer((req, res) => {
    stats.redirectServed++;
    if (req.headers.authorization !== undefined) stats.redirectAuthSeen++;
    const m = /^\/blob\/(sha256:[a-f0-9]{64})$/.exec(new URL(req.url, 'http://x').pathname);
    const file = m && blobFile(m[1]);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    sendBlob(req, res, file, m[1]);
  });
  const targetPort = await listen(target);
  const handler = (req, res) => {
    const url = new URL(req.url, 'http://x');
    stats.requests.push({ method: req.method, path: url.pathname, authorization: req.headers.authorization !== undefined });
    if (user !== undefined) {
      const want = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      if (req.headers.authorization !== want) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="tiny"', 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
    }
    if (url.pathname === '/v2/') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const [, , kind, ref] = m;
    if (kind === 'manifests') {
      let d = index.manifests.find((x) => x.digest === ref);
      d ??= index.manifests.find((x) => (x.annotations || {})['org.opencontainers.image.ref.name'] === ref);
      const file = d ? blobFile(d.digest) : blobFile(ref);
      if (!file) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
        return;
      }
      const bytes = fs.readFileSync(file);
      const media = JSON.parse(bytes).mediaType || (d && d.mediaType) || 'application/vnd.oci.image.manifest.v1+json';
      res.writeHead(200, {
        'Content-Type': media,
        'Docker-Content-Digest': `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`,
        'Content-Length': bytes.length,
      });
      res.end(bytes);
      return;
    }
    const file = blobFile(ref);
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] }));
      return;
    }
    if (tooManyOnce && !faulted.has(`429 ${ref}`)) {
      faulted.add(`429 ${ref}`);
      stats.tooMany++;
      res.writeHead(429, { 'Retry-After': '1' }).end();
      return;
    }
    if (redirect) {
      res.writeHead(307, { Location: `http://127.0.0.1:${targetPort}/blob/${ref}` }).end();
      return;
    }
    sendBlob(req, res, file, ref);
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  const port = await listen(server);
  return {
    host: `127.0.0.1:${port}`,
    stats,
    close: () =>
      Promise.all([server, target].map((s) => new Promise((resolve) => {
        s.closeAllConnections?.();
        s.close(() => resolve());
      }))),
  };
}
