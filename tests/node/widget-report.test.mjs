// The widget's `report="URL"`: a JSON report made by the CLI (`--format
// json`, as CI would) and published beside a documentation page, fetched from
// the page's own origin and shown with nothing dropped. What is fetched is
// untrusted: a missing file, text that is not JSON, JSON that is not a report
// of schemaVersion 1, a URL of another origin, and a page whose CSP allows no
// connection each give the error state, and a report carrying markup renders
// it as text. The schema check itself (www/json-schema.js) is tested in Node
// on real reports and broken copies of them. The browser part is skipped,
// saying so, without Chromium or playwright-core.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fixturesDir, pkgDir, requirePkg, root, runCli, tempDir } from './helpers.mjs';
import { dockerSave } from './tar.mjs';

import { fileIn, launch, missing, serve } from './chromium.mjs';

const www = path.join(root, 'www');
const schema = JSON.parse(fs.readFileSync(path.join(root, 'schema', 'report.schema.json'), 'utf8'));
const { validate } = await import(pathToFileURL(path.join(www, 'json-schema.js')));

// A fixture with setuid findings, and one of several images.
const SETUID = 'built/bb-filecap.docker-archive.tar';
const MULTI = 'public/google+go-containerregistry__test_link.tar';

/** The CLI's `--format json` for `file`, as a CI step writes it. */
function cliReport(file) {
  requirePkg();
  const r = runCli(process.execPath, [path.join(pkgDir, 'node', 'cli.cjs'), '--format', 'json', '--fail-on', 'none', file]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

// An archive whose names, tags, history and env carry markup.
const hostileArchive = () =>
  dockerSave({
    tags: ['evil/<img src=x onerror=window.__pwned=1>:1'],
    config: {
      architecture: 'amd64', os: 'linux',
      config: { User: '1000', Env: ['X=<img src=x onerror=window.__pwned=2>'] },
      history: [{ created_by: 'RUN <script>window.__pwned=3</script>' }],
    },
    layerEntries: [
      { name: 'usr/', type: '5', mode: 0o755 },
      { name: 'usr/bin/', type: '5', mode: 0o755 },
      { name: 'usr/bin/<img src=x onerror=window.__pwned=4>', mode: 0o4755, data: Buffer.from('x') },
    ],
  });

describe('the report schema check (www/json-schema.js)', () => {
  const reports = [SETUID, MULTI].map((f) => JSON.parse(cliReport(path.join(fixturesDir, f))));

  test('real reports conform', () => {
    for (const report of reports) assert.deepEqual(validate(schema, report), []);
  });

  test('broken copies do not, and the problem says where', () => {
    const broken = [
      [(r) => { r.schemaVersion = 2; }, '/schemaVersion: not 1'],
      [(r) => { delete r.images; }, ': no "images"'],
      [(r) => { r.images = 'x'; }, '/images: not array'],
      [(r) => { r.images[0].verdict = '<b>root</b>'; }, '/images/0/verdict: not one of root, pseudo-rootless, rootless, unknown'],
      [(r) => { r.images[0].findings[0].severity = 5; }, '/images/0/findings/0/severity: not string'],
      [(r) => { r.images[0].user.uid = -1; }, '/images/0/user/uid: below 0'],
      [(r) => { r.images[0].layers[0].compression = 'lz4'; }, '/images/0/layers/0/compression: matches 0 of the 2 allowed forms'],
      [(r) => { r.images[0].tags = [null]; }, '/images/0/tags/0: not string'],
    ];
    for (const [breakIt, problem] of broken) {
      const copy = structuredClone(reports[0]);
      breakIt(copy);
      assert.ok(validate(schema, copy).includes(problem), `${problem} in ${JSON.stringify(validate(schema, copy))}`);
    }
    assert.deepEqual(validate(schema, null), [': not object']);
  });

  test('fields this version does not know are ignored (the report gains fields over time)', () => {
    const copy = structuredClone(reports[0]);
    copy.newField = { anything: true };
    copy.images[0].newField = 1;
    assert.deepEqual(validate(schema, copy), []);
  });
});

describe('<rootless-check-widget report="URL"> in headless Chromium', { skip: missing || false }, () => {
  let server;
  let base;
  const other = {};
  let context;
  let profile;
  const otherLog = [];
  const reports = new Map();

  // A documentation page whose CSP allows the widget's fetch (connect-src
  // 'self'), or none at all (`?csp=none`), with one widget for `?report=`.
  const page = (report, connect) => `<!doctype html><html lang="en"><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; connect-src ${connect}">
<title>docs</title><link rel="icon" href="data:,">
<script type="module" src="/widget.js"></script>
<rootless-check-widget id="w" report="${report.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')}"></rootless-check-widget>
</html>`;

  before(async () => {
    requirePkg();
    if (!fs.existsSync(path.join(www, 'generated', 'report-schema.js'))) {
      throw new Error('www/generated is not built: run `npm run build` (or node scripts/build-www.mjs)');
    }
    reports.set('/reports/setuid.json', cliReport(path.join(fixturesDir, SETUID)));
    reports.set('/reports/multi.json', cliReport(path.join(fixturesDir, MULTI)));
    const dir = tempDir('hostile');
    fs.writeFileSync(path.join(dir, 'evil.tar'), hostileArchive());
    reports.set('/reports/hostile.json', cliReport(path.join(dir, 'evil.tar')));
    fs.rmSync(dir, { recursive: true, force: true });
    reports.set('/reports/broken.json', '{"schemaVersion": 1, "images": [');
    reports.set('/reports/version2.json', JSON.stringify({ ...JSON.parse(reports.get('/reports/setuid.json')), schemaVersion: 2 }));
    const badShape = JSON.parse(reports.get('/reports/setuid.json'));
    badShape.images[0].findings = 'none';
    reports.set('/reports/shape.json', JSON.stringify(badShape));

    ({ base, server } = await serve((pathname, req) => {
      if (pathname === '/docs.html') {
        const query = new URL(req.url, 'http://x').searchParams;
        return { body: page(query.get('report'), query.get('csp') === 'none' ? "'none'" : "'self'"), type: 'text/html' };
      }
      if (reports.has(pathname)) return { body: reports.get(pathname), type: 'application/json' };
      return fileIn(www, pathname);
    }));
    // Another origin that would hand the report to anyone (CORS *): only the
    // widget's own rule keeps it out.
    ({ base: other.base, server: other.server } = await serve((pathname, req) => {
      otherLog.push(req.url);
      return reports.has(pathname) ? { body: reports.get(pathname), type: 'application/json' } : null;
    }, { headers: { 'access-control-allow-origin': '*' } }));
    profile = tempDir('widget-report');
    context = await launch(profile, { viewport: { width: 900, height: 1000 } });
  });

  after(async () => {
    if (context) await context.close();
    if (server) server.close();
    if (other.server) other.server.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  /** Opens the docs page with `report`; resolves with what the widget shows once settled. */
  async function show(report, { csp } = {}) {
    const p = await context.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(`${base}/docs.html?${new URLSearchParams({ report, ...(csp ? { csp } : {}) })}`);
    await p.locator('#w .rc-report, #w .rc-error:not([hidden])').first().waitFor({ timeout: 30_000 });
    const view = await p.evaluate(() => {
      const w = document.querySelector('#w').shadowRoot;
      const error = w.querySelector('.rc-error');
      return {
        verdicts: [...w.querySelectorAll('.rc-verdict')].map((v) => v.dataset.verdict),
        findings: [...w.querySelectorAll('.rc-image')].map((i) => i.querySelectorAll('.rc-finding').length),
        title: w.querySelector('.rc-report-title')?.textContent ?? null,
        error: error.hidden ? null : error.textContent,
        role: error.getAttribute('role'),
        status: w.querySelector('[role=status]').textContent,
        text: w.textContent,
        elements: w.querySelectorAll('.rc-result img, .rc-result script, .rc-error img').length,
        pwned: window.__pwned,
      };
    });
    await p.close();
    assert.deepEqual(errors, [], 'no page errors');
    return view;
  }

  test('a report published beside the page: its verdict and findings, nothing to drop', async () => {
    const report = JSON.parse(reports.get('/reports/setuid.json'));
    const view = await show('reports/setuid.json');
    assert.equal(view.error, null);
    assert.deepEqual(view.verdicts, report.images.map((i) => i.verdict));
    assert.deepEqual(view.findings, report.images.map((i) => i.findings.length));
    assert.ok(view.findings[0] > 0, 'the fixture has findings');
    assert.equal(view.title, 'Report for setuid.json');
    assert.equal(view.status, `Done. Verdict: ${report.images[0].verdict}.`);
  });

  test('a report of several images: one tab each (an absolute path works too)', async () => {
    const report = JSON.parse(reports.get('/reports/multi.json'));
    assert.ok(report.images.length > 1);
    const p = await context.newPage();
    await p.goto(`${base}/docs.html?report=${encodeURIComponent('/reports/multi.json')}`);
    await p.locator('#w .rc-report').waitFor({ timeout: 30_000 });
    const tabs = await p.locator('#w [role=tab]').evaluateAll((t) => t.map((e) => e.dataset.verdict));
    assert.deepEqual(tabs, report.images.map((i) => i.verdict));
    await p.close();
  });

  test('markup in the report is shown as text, and no script runs', async () => {
    const view = await show('reports/hostile.json');
    assert.equal(view.error, null);
    assert.equal(view.pwned, undefined);
    assert.equal(view.elements, 0, 'no element was made from report data');
    for (const literal of ['/usr/bin/<img src=x onerror=window.__pwned=4>', 'evil/<img src=x onerror=window.__pwned=1>:1']) {
      assert.ok(view.text.includes(literal), `shown literally: ${literal}`);
    }
  });

  const failures = [
    ['a missing file', 'reports/missing.json', 'The report could not be loaded.', 'HTTP 404'],
    ['text that is not JSON', 'reports/broken.json', 'is not a rootless-check JSON report', 'is not JSON'],
    ['another schemaVersion', 'reports/version2.json', 'is not a rootless-check JSON report', 'schemaVersion is 2'],
    ['JSON of the wrong shape', 'reports/shape.json', 'is not a rootless-check JSON report', '/images/0/findings: not array'],
  ];
  for (const [what, url, title, detail] of failures) {
    test(`${what}: the error state, no report`, async () => {
      const view = await show(url);
      assert.ok(view.error, 'an error is shown');
      assert.equal(view.role, 'alert');
      assert.ok(view.error.includes(title), view.error);
      assert.ok(view.error.includes(detail), view.error);
      assert.deepEqual(view.verdicts, []);
      assert.equal(view.title, null);
    });
  }

  test('a URL of another origin is refused before any request', async () => {
    const view = await show(`${other.base}/reports/setuid.json`);
    assert.ok(view.error.includes('must come from this page\'s own site'), view.error);
    assert.ok(view.error.includes('E_REPORT_ORIGIN'), view.error);
    assert.deepEqual(view.verdicts, []);
    assert.deepEqual(otherLog, []);
  });

  test('a page whose CSP has connect-src \'none\': the fetch is blocked, and said so', async () => {
    const view = await show('reports/setuid.json', { csp: 'none' });
    assert.ok(view.error.includes('The report could not be loaded.'), view.error);
    assert.deepEqual(view.verdicts, []);
  });
});
