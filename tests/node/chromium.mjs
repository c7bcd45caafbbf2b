// Headless Chromium for the browser tests and bench/browser.mjs: Debian's
// chromium (scripts/setup-browser.sh) driven by playwright-core, with the
// launch options that work on these machines (never `playwright install`),
// and the static server the pages are loaded from.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

const playwright = await import('playwright-core').catch(() => null);

/** Why Chromium cannot be driven here, or null when it can. */
export const missing = !fs.existsSync(chromiumPath)
  ? `no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM)`
  : !playwright
    ? 'playwright-core is not installed (npm ci)'
    : null;

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** A browser context with its own profile folder; `options.args` add to the defaults. */
export function launch(profile, { args = [], ...options } = {}) {
  return playwright.chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    ...options,
    args: [...ARGS, ...args],
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.json': 'application/json', '.png': 'image/png',
};

/**
 * The file of `dir` for a URL path, as a static host serves a folder: `/` is
 * index.html; null for anything outside `dir`.
 */
export function fileIn(dir, pathname) {
  const file = path.join(dir, path.normalize(pathname === '/' ? '/index.html' : pathname));
  return file.startsWith(dir + path.sep) ? file : null;
}

/**
 * A tiny HTTP server on 127.0.0.1 for the pages Chromium loads (`.wasm` as
 * application/wasm). `route(pathname, req)` answers a GET with a file path
 * (404 unless it is a file), `{ body, type }`, or null (404). Resolves with
 * `{ base, server }`.
 */
export async function serve(route, { headers = {} } = {}) {
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const answer = req.method === 'GET' ? route(pathname, req) : null;
    const isFile = (f) => fs.existsSync(f) && fs.statSync(f).isFile();
    if (!answer || (typeof answer === 'string' && !isFile(answer))) {
      res.writeHead(404);
      return res.end();
    }
    if (typeof answer === 'object') {
      res.writeHead(200, { ...headers, 'content-type': answer.type });
      return res.end(answer.body);
    }
    res.writeHead(200, { ...headers, 'content-type': TYPES[path.extname(answer)] || 'application/octet-stream' });
    fs.createReadStream(answer).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${server.address().port}`, server };
}

/**
 * A page (`html` at /, its worker script `worker` at /worker.js) open in a
 * fresh Chromium, with `file` set on its `#file` input: what the benchmarks
 * time the reading of a File in. Resolves with `{ page, close }`; `close()`
 * ends the browser and the server and removes the profile folder.
 */
export async function pageWithFile(html, worker, file) {
  const { base, server } = await serve((pathname) =>
    pathname === '/' ? { body: html, type: 'text/html' }
      : pathname === '/worker.js' ? { body: worker, type: 'text/javascript' } : null);
  const profile = fs.mkdtempSync('/tmp/rc-page-');
  const context = await launch(profile);
  const close = async () => {
    await context.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  try {
    const page = await context.newPage();
    await page.goto(base + '/');
    await page.setInputFiles('#file', file);
    return { page, close };
  } catch (err) {
    await close();
    throw err;
  }
}
