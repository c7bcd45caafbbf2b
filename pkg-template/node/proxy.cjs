'use strict';
// HTTP(S)_PROXY / ALL_PROXY / NO_PROXY for the registry client, as the
// native client reads them (ureq's Proxy::try_from_env): the first of
// ALL_PROXY, HTTPS_PROXY, HTTP_PROXY (or their lower-case spellings) is the
// proxy for every request, reached with CONNECT, except to the hosts
// NO_PROXY names. Node's fetch has no proxy support of its own (Node 20), and
// the undici it bundles is not exported: the tunnel is opened here and handed
// to an undici Agent made from fetch's own (as registry.cjs's insecure one).
// Only http:// proxies (ureq also takes SOCKS ones): others are ignored.

const http = require('node:http');
const tls = require('node:tls');

const PROXY_VARS = ['ALL_PROXY', 'all_proxy', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
// A proxy that does not answer CONNECT within this is given up on.
const CONNECT_MS = 30000;

/** The proxy URL the environment gives, or null. */
function proxyFromEnv(env = process.env) {
  for (const name of PROXY_VARS) {
    const value = env[name];
    if (!value) continue;
    let url;
    try {
      url = new URL(value.includes('://') ? value : `http://${value}`);
    } catch {
      continue;
    }
    if (url.protocol === 'http:') return url;
  }
  return null;
}

/** Whether NO_PROXY (a comma-separated list: `*`, `.suffix`, `*suffix`,
 * `prefix.`, `prefix*` or a host) leaves `host` (no port) out of the proxy. */
function noProxy(host, env = process.env) {
  const list = env.NO_PROXY ?? env.no_proxy;
  if (!list) return false;
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return list.split(',').some((raw) => {
    const e = raw.trim().toLowerCase();
    if (e === '') return false;
    if (e === '*') return true;
    if (e.startsWith('*')) return h.endsWith(e.slice(1));
    if (e.startsWith('.')) return h.endsWith(e);
    if (e.endsWith('*')) return h.startsWith(e.slice(0, -1));
    if (e.endsWith('.')) return h.startsWith(e);
    return h === e;
  });
}

/** An undici connector that opens a CONNECT tunnel through `proxy` (then TLS
 * for an https: origin, verified unless `insecure`). */
function tunnelConnector(proxy, insecure) {
  const auth = proxy.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`
    : null;
  return (opts, callback) => {
    let done = false;
    const finish = (err, socket) => {
      if (done) return;
      done = true;
      callback(err, socket);
    };
    const https = opts.protocol === 'https:';
    const target = `${opts.hostname}:${opts.port || (https ? 443 : 80)}`;
    const req = http.request({
      host: proxy.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: proxy.port || 80,
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...(auth ? { 'proxy-authorization': auth } : {}) },
    });
    req.once('connect', (res, socket) => {
      socket.setTimeout(0); // the tunnel is the connection now: no CONNECT timeout on it
      if (res.statusCode !== 200) {
        socket.destroy();
        finish(new Error(`the proxy ${proxy.host} answered ${res.statusCode} to CONNECT ${target}`));
        return;
      }
      if (!https) {
        finish(null, socket);
        return;
      }
      const secure = tls.connect({
        socket,
        servername: opts.servername || opts.hostname,
        ALPNProtocols: ['http/1.1'],
        rejectUnauthorized: !insecure,
      });
      secure.once('secureConnect', () => finish(null, secure));
      secure.once('error', (err) => finish(err));
    });
    req.once('error', (err) => finish(new Error(`cannot reach the proxy ${proxy.host}: ${err.message}`)));
    req.setTimeout(CONNECT_MS, () => req.destroy(new Error(`no answer to CONNECT ${target} within ${CONNECT_MS / 1000} s`)));
    req.end();
  };
}

const agents = new Map();
/**
 * The dispatcher for a request to `url` through the environment's proxy, or
 * null (no proxy, NO_PROXY names the host, or no undici Agent to make one:
 * then fetch goes direct). `makeAgent(options)`: registry.cjs's maker of
 * undici Agents.
 */
async function proxyDispatcher(url, insecure, makeAgent) {
  const proxy = proxyFromEnv();
  if (!proxy || noProxy(new URL(url).hostname)) return null;
  const key = `${proxy.href} ${insecure}`;
  if (!agents.has(key)) agents.set(key, await makeAgent({ connect: tunnelConnector(proxy, insecure) }));
  return agents.get(key);
}

module.exports = { proxyDispatcher, proxyFromEnv, noProxy };
