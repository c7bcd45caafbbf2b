'use strict';
// `docker-daemon:REF`: the image as the Docker Engine API streams it
// (`GET /images/get?names=REF`, what `docker save` reads), from DOCKER_HOST
// (unix:///var/run/docker.sock by default, or tcp://), as the native CLI
// does (src/source/daemon.rs). Podman's API service answers the same.
//
// The archive reader pulls its bytes synchronously, as from a pipe: a
// worker thread (daemon-worker.cjs) makes the request and writes the answer
// into a shared ring, which the analysis on this thread reads as stdin is
// read (nothing skipped, nothing on disk, memory the ring). So the report
// is `docker save REF | rootless-check -`'s, plus `input.source`.

const path = require('node:path');
const { Worker } = require('node:worker_threads');
const wasm = require('./rootless_check.js');
const { codedError, sourceError, checkAborted, layerName, budgetOption } = require('./common.cjs');
const { createRing, RingReader, RingFailed } = require('./ring.cjs');

const DEFAULT_HOST = 'unix:///var/run/docker.sock';
const RING = 8 << 20;
const DEFAULT_BLOCK = 8 << 20;
// The native client's read timeout.
const STALL_MS = 300000;

/** Where the daemon listens. */
function daemonHost() {
  const h = process.env.DOCKER_HOST;
  return h ? h : DEFAULT_HOST;
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

/** `{ socketPath }` or `{ host, port }` for http.request. */
function connectOptions(host) {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('tcp://')) {
    if (process.env.DOCKER_TLS_VERIFY) {
      throw codedError(
        'E_USAGE',
        'a daemon behind TLS (DOCKER_TLS_VERIFY) is not supported; use its unix socket, or docker save | rootless-check -',
      );
    }
    const addr = host.slice('tcp://'.length).replace(/\/+$/, '');
    const at = addr.lastIndexOf(':');
    const hostname = at === -1 ? addr : addr.slice(0, at);
    const port = at === -1 ? NaN : Number(addr.slice(at + 1));
    if (!hostname || !Number.isInteger(port)) {
      throw sourceError('E_NETWORK', `cannot connect to the Docker daemon at ${host}: invalid socket address`);
    }
    return { host: hostname.replace(/^\[(.*)\]$/, '$1'), port };
  }
  throw sourceError('E_USAGE', `DOCKER_HOST '${host}' is neither unix:// nor tcp://`);
}

/** The daemon's `{"message": "…"}`, cleaned of control characters. */
function daemonMessage(text) {
  try {
    const doc = JSON.parse(text);
    if (doc && typeof doc.message === 'string') {
      return Array.from(doc.message.replace(/\p{Cc}/gu, '')).slice(0, 500).join('');
    }
  } catch {
    // not JSON
  }
  return undefined;
}

/**
 * Analyse the image the daemon knows as `name`; `given` is the source as
 * the user wrote it. Resolves with the wasm Analysis.
 * options: { verify, blockSize, maxDecompressed, signal, onProgress }.
 */
async function analyzeDaemon(name, given, options = {}) {
  const { signal, onProgress, verify = false, blockSize = DEFAULT_BLOCK } = options;
  // The budget of a stream, as for stdin (docker save's layers are seldom compressed).
  const max = budgetOption(options.maxDecompressed);
  const host = daemonHost();
  const connect = connectOptions(host);
  const shared = createRing(RING);
  const worker = new Worker(path.join(__dirname, 'daemon-worker.cjs'), {
    workerData: { shared, connect, path: `/images/get?names=${encode(name)}`, host },
  });
  worker.on('error', () => {}); // its failures come as messages or as the ring's state
  try {
    // The answer's status first: an error is the daemon's message, not a broken archive.
    const head = await new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
      worker.once('message', (msg) => {
        if (signal) signal.removeEventListener('abort', onAbort);
        resolve(msg);
      });
      worker.once('exit', (code) => reject(codedError('E_INTERNAL', `the daemon worker exited with status ${code}`)));
    });
    checkAborted(signal);
    if (head.type === 'connect-error') {
      throw sourceError(
        'E_NETWORK',
        `cannot connect to the Docker daemon at ${host}: ${head.message} (is it running? DOCKER_HOST names another)`,
      );
    }
    if (head.type === 'error') throw sourceError('E_NETWORK', `the Docker daemon at ${host}: ${head.message}`);
    if (head.type === 'status') {
      const message = daemonMessage(head.body) ?? `HTTP ${head.status}`;
      throw sourceError(head.status === 404 ? 'E_NOT_FOUND' : 'E_REGISTRY', `the Docker daemon at ${host}: ${message}`);
    }
    const reader = new RingReader(shared, STALL_MS);
    let next = 0;
    const read = (offset, length, layer, into) => {
      checkAborted(signal);
      if (offset !== next) throw codedError('E_INTERNAL', `a pipe cannot be read at offset ${offset}`);
      let n;
      try {
        n = reader.take(length, into);
      } catch (err) {
        if (!(err instanceof RingFailed)) throw err;
        throw sourceError('E_NETWORK', `the Docker daemon at ${host}: the answer broke off`);
      }
      next += n;
      if (onProgress) onProgress({ bytesRead: next, totalBytes: undefined, layer: layerName(layer) });
      return n;
    };
    const analysis = wasm.analyzeCallback(read, undefined, blockSize, Boolean(verify), undefined, max);
    let parsed = null;
    try {
      parsed = wasm.parseReference(name);
    } catch {
      parsed = null;
    }
    analysis.setSource(
      'docker-daemon',
      given,
      name,
      undefined,
      parsed ? parsed.name : undefined,
      parsed && parsed.tag !== null ? parsed.tag : undefined,
      undefined,
      [],
    );
    return analysis;
  } finally {
    await worker.terminate();
  }
}

module.exports = { analyzeDaemon, daemonHost };
