// HTTP(S)_PROXY / ALL_PROXY / NO_PROXY in the Node registry client
// (pkg/node/proxy.cjs), as the native client honours them: a CONNECT proxy
// of this test's own on 127.0.0.1 sees the CLIs' tunnels to the local
// registry (tests/support, scripts/services.sh), NO_PROXY takes a host out,
// and a proxy that refuses is an E_NETWORK.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { nativeCli, pkgDir, requirePkg } from './helpers.mjs';
import { services } from './services.mjs';

const nodeCli = path.join(pkgDir, 'node', 'cli.cjs');

// A CLI run that leaves this process's event loop free (the proxy is served
// from here); bounded in time.
function run(command, args, env) {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: 120000, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

let proxy;
let proxyUrl;
let tunnels = [];
let refuse = false;
let env;
let source;
let baseEnv;

before(async () => {
  requirePkg();
  ({ registryBasic: env } = await services());
  source = `docker://${env.host}/fixtures/bb-filecap.docker-archive:latest`;
  // The tests' own environment, without any proxy of the machine's.
  baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_proxy$/i.test(k)));
  proxy = http.createServer((req, res) => {
    res.writeHead(405);
    res.end();
  });
  // CONNECT host:port, only to 127.0.0.1 (a test proxy, not an open one).
  proxy.on('connect', (req, client, head) => {
    tunnels.push(req.url);
    const [host, port] = req.url.split(':');
    if (refuse || host !== '127.0.0.1') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const drop = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', drop);
    client.on('error', drop);
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
});

after(() => {
  if (proxy) {
    proxy.closeAllConnections?.();
    proxy.close();
  }
});

describe('a proxy from the environment', () => {
  const args = () => ['--format', 'json', '--tls-verify=false', '--authfile', env.authfile, source];

  for (const name of ['HTTPS_PROXY', 'http_proxy', 'ALL_PROXY']) {
    test(`${name}: the Node CLI goes through it, as the native CLI does, with the same report`, async () => {
      const withProxy = { ...baseEnv, [name]: proxyUrl };
      tunnels = [];
      const node = await run(process.execPath, [nodeCli, ...args()], withProxy);
      assert.equal(node.status, 1, node.stderr);
      const nodeTunnels = tunnels;
      assert.ok(nodeTunnels.length > 0, 'no CONNECT from the Node CLI');
      assert.ok(nodeTunnels.every((t) => t === env.host), nodeTunnels.join(' '));
      if (!fs.existsSync(nativeCli)) return;
      tunnels = [];
      const native = await run(nativeCli, args(), withProxy);
      assert.ok(tunnels.length > 0, 'no CONNECT from the native CLI');
      assert.equal(node.stdout, native.stdout);
    });
  }

  test('NO_PROXY naming the host (or *, or a prefix): straight to the registry', async () => {
    for (const list of ['example.com,127.0.0.1', '*', '127.0.0.*', ' 127.0.0.1 ']) {
      tunnels = [];
      const r = await run(process.execPath, [nodeCli, ...args()], { ...baseEnv, HTTPS_PROXY: proxyUrl, NO_PROXY: list });
      assert.equal(r.status, 1, r.stderr);
      assert.deepEqual(tunnels, [], list);
    }
  });

  test('a proxy that refuses, or is not there: E_NETWORK naming the registry', async () => {
    // A port nobody listens on (taken, then let go).
    const closed = net.createServer();
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const gone = `http://127.0.0.1:${closed.address().port}`;
    await new Promise((resolve) => closed.close(resolve));
    refuse = true;
    try {
      for (const url of [proxyUrl, gone]) {
        const r = await run(process.execPath, [nodeCli, ...args()], { ...baseEnv, HTTPS_PROXY: url });
        assert.equal(r.status, 2);
        assert.match(r.stderr, new RegExp(`E_NETWORK: cannot reach ${env.host.replace(/\./g, '\\.')}`));
        assert.ok(r.stderr.includes(url === gone ? 'cannot reach the proxy' : 'answered 403 to CONNECT'), r.stderr);
      }
    } finally {
      refuse = false;
    }
  });

  test('proxyFromEnv and noProxy read the variables as ureq does', () => {
    const require = createRequire(import.meta.url);
    const { proxyFromEnv, noProxy } = require(path.join(pkgDir, 'node', 'proxy.cjs'));
    assert.equal(proxyFromEnv({}), null);
    assert.equal(proxyFromEnv({ HTTP_PROXY: 'proxy:3128' }).href, 'http://proxy:3128/');
    assert.equal(proxyFromEnv({ ALL_PROXY: 'http://a:1', HTTPS_PROXY: 'http://b:2' }).host, 'a:1');
    // Only http:// proxies: a SOCKS one is passed over.
    assert.equal(proxyFromEnv({ ALL_PROXY: 'socks5://a:1', HTTPS_PROXY: 'http://b:2' }).host, 'b:2');
    assert.equal(noProxy('registry.example.com', { NO_PROXY: '.example.com' }), true);
    assert.equal(noProxy('registry.example.com', { no_proxy: '*example.com' }), true);
    assert.equal(noProxy('registry.example.com', { NO_PROXY: 'example.com' }), false);
    assert.equal(noProxy('Registry.local', { NO_PROXY: 'registry.' }), true);
    assert.equal(noProxy('10.0.0.1', { NO_PROXY: '' }), false);
  });
});
