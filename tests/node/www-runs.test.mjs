// The page (www/) with a compose file dropped beside an archive (issue 15),
// in headless Chromium: the runs show in the report as the Node API reports
// them, spec text stays text, and the run specs' wasm (generated/web-specs/)
// is fetched only when a spec is dropped: an archive alone loads the first
// wasm only. Skipped, saying so, without Chromium or playwright-core.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fixturesDir, pkgDir, requirePkg, root, tempDir } from './helpers.mjs';
import { fileIn, launch, missing, serve } from './chromium.mjs';

const www = path.join(root, 'www');
const archive = path.join(fixturesDir, 'built/s6-overlay-real.docker-archive.tar');
// s6-overlay under no-new-privileges as a non-root user: its suexec cannot
// become root, and the start fails (tests/runs/cases.json, service s6). The
// second service's name and the image carry markup that must stay text.
const compose = `services:
  s6:
    image: s6-overlay-real:user1000
    user: "7000:7000"
    security_opt: [no-new-privileges:true]
  "<img src=x onerror=window.__pwned=1>":
    image: s6-overlay-real:user1000
    user: "<b>0</b>"
`;

describe('runs on the www/ page in headless Chromium', { skip: missing || false }, () => {
  let api;
  let server;
  let base;
  let context;
  let profile;
  const requests = [];

  before(async () => {
    requirePkg();
    if (!fs.existsSync(path.join(www, 'generated', 'web-specs', 'rootless_check_bg.wasm'))) {
      throw new Error('www/generated is not built: run `npm run build`');
    }
    api = await import(pathToFileURL(path.join(pkgDir, 'node', 'index.mjs')));
    ({ base, server } = await serve((pathname) => fileIn(www, pathname)));
    profile = tempDir('www-runs');
    context = await launch(profile, { viewport: { width: 1000, height: 1100 } });
    // Pages and their workers.
    context.on('request', (r) => requests.push(new URL(r.url()).pathname));
  });

  after(async () => {
    if (context) await context.close();
    if (server) server.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  async function open() {
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e.message));
    await page.goto(`${base}/index.html`);
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    return page;
  }

  /** Drops files ([name, bytes]) together on the page, as a DataTransfer made in it. */
  async function drop(page, files) {
    const dataTransfer = await page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const [n, b64] of list) dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], n));
      return dt;
    }, files.map(([n, b]) => [n, Buffer.from(b).toString('base64')]));
    for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent('#checker', type, { dataTransfer });
    await page.locator('#checker .rc-report, #checker .rc-error:not([hidden])').first().waitFor({ timeout: 90_000 });
  }

  test('an archive alone: no runs, and the spec wasm is not fetched', async () => {
    const page = await open();
    await drop(page, [['s6.tar', fs.readFileSync(archive)]]);
    assert.equal(await page.locator('#checker .rc-report').count(), 1);
    assert.equal(await page.locator('.rc-runs').count(), 0);
    assert.ok(requests.includes('/generated/pkg/rootless_check_bg.wasm'), 'the first wasm was fetched');
    assert.deepEqual(requests.filter((p) => p.includes('web-specs')), []);
    await page.close();
    assert.deepEqual(page.errors, []);
  });

  test('an archive and a compose file: the runs as the Node API reports them', async () => {
    const page = await open();
    await drop(page, [['s6.tar', fs.readFileSync(archive)], ['compose.yml', compose]]);
    assert.ok(requests.includes('/generated/web-specs/rootless_check_bg.wasm'), 'the spec wasm was fetched');
    const expected = await api.analyze(archive, { compose, specName: 'compose.yml', env: {} });
    const s6 = expected.runs.find((r) => r.name === 's6');
    assert.equal(s6.outcome, 'fails');
    assert.match(s6.message, /s6-overlay/);
    const runs = await page.evaluate(() => [...document.querySelectorAll('.rc-run')].map((el) => ({
      outcome: el.dataset.outcome,
      verdict: el.dataset.verdict,
      title: el.querySelector('.rc-run-title').textContent,
      message: el.querySelector('.rc-run-message')?.textContent ?? null,
      fixes: [...el.querySelectorAll('.rc-fix .rc-copy-text')].map((p) => p.textContent),
      text: el.innerText,
    })));
    assert.equal(runs.length, expected.runs.length);
    expected.runs.forEach((r, i) => {
      assert.equal(runs[i].outcome, r.outcome, r.name);
      assert.equal(runs[i].verdict, r.verdict, r.name);
      assert.ok(runs[i].title.startsWith(r.name), r.name);
      assert.equal(runs[i].message, r.message, r.name);
      const fixes = [...r.findings.map((f) => f.remediation).filter(Boolean), ...r.fixes];
      assert.deepEqual(runs[i].fixes, fixes, r.name);
    });
    assert.match(runs[0].text, /uid\s+7000/);
    assert.match(runs[0].text, /compose\.yml:2/);
    // The markup in the spec stayed text.
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('.rc-run img, .rc-run b').count(), 0);
    assert.ok(runs[1].title.includes('<img src=x onerror=window.__pwned=1>'));
    await page.close();
    assert.deepEqual(page.errors, []);
  });

  test('a spec that does not read: the error says where', async () => {
    const page = await open();
    await drop(page, [['s6.tar', fs.readFileSync(archive)], ['bad.yml', 'services:\n  a:\n    user: x\n    user: y\n']]);
    const text = await page.locator('#checker .rc-error').innerText();
    assert.match(text, /The compose file or Kubernetes manifest could not be read/);
    assert.match(text, /E_BAD_SPEC: bad\.yml:4:5: mapping key/);
    await page.close();
  });
});
