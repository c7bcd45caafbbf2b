// The static page (www/) and the widget in headless Chromium, served from
// the www/ folder alone by a tiny static server: fixtures of each kind are
// dropped or picked, and what the page shows is compared with the Node API's
// report of the same file (and with EXPECTED.json); archive names carrying
// HTML/JS stay text; the page makes no request but for its own files.
// Writes docs/screenshot.png. Skipped, saying so, without Chromium or
// playwright-core, like browser.test.mjs.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fixturesDir, pkgDir, requirePkg, root, tempDir } from './helpers.mjs';
import { dockerSave } from './tar.mjs';
import { dockerSave as dockerSave16, gzipBomb, sha256 } from './bomb.mjs';

import { fileIn, launch, missing, serve } from './chromium.mjs';

const www = path.join(root, 'www');
const sampleFile = path.join(root, 'samples', 'pseudo-rootless.tar.gz');
const screenshot = path.join(root, 'docs', 'screenshot.png');

// One fixture of each kind, chosen from EXPECTED.json by its format: the
// smallest, preferring one with a setuid file (more to show).
const expected = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'EXPECTED.json'), 'utf8'));
const KINDS = {
  // Docker's own legacy layout (<id>/layer.tar), not the containers/image writer's.
  'docker save (legacy)': (e) => e.format.startsWith('docker-save legacy') && e.format.includes('[layers at <id>/layer.tar'),
  'docker save (Docker >= 25)': (e) => e.format.startsWith('docker-save with OCI layout'),
  'OCI archive': (e) => e.format.startsWith('OCI image layout'),
  gzipped: (e) => e.format.startsWith('gzip('),
  'multi-image': (e) => e.images.length > 1,
  'flattened (docker export)': (e) => e.format.startsWith('raw tar'),
};
const hasSetuid = (e) => e.images.some((i) => (i.setuid_setgid_root_owned_after_merge || []).length > 0);
const picked = Object.entries(KINDS).map(([kind, match]) => {
  const all = expected.filter(match).sort((a, b) => a.size - b.size);
  const entry = all.find(hasSetuid) || all[0];
  if (!entry) throw new Error(`EXPECTED.json has no fixture of the kind ${kind}`);
  return { kind, entry, file: path.join(fixturesDir, entry.file) };
});

// The sort of archive an attacker would hand over: names, tags, history and
// env carrying markup that would run if it were ever parsed as HTML.
const hostile = () =>
  dockerSave({
    tags: ['evil/<img src=x onerror=window.__pwned=1>:1'],
    config: {
      architecture: 'amd64', os: 'linux',
      config: { User: '1000', Env: ['X=<img src=x onerror=window.__pwned=2>'], Cmd: ['<b>bold</b>'] },
      history: [{ created_by: 'RUN <script>window.__pwned=3</script>' }],
    },
    layerEntries: [
      { name: 'usr/', type: '5', mode: 0o755 },
      { name: 'usr/bin/', type: '5', mode: 0o755 },
      { name: 'usr/bin/<script>window.__pwned=4</script>', mode: 0o4755, data: Buffer.from('x') },
      { name: 'usr/bin/<img src=x onerror=window.__pwned=5>', mode: 0o4755, data: Buffer.from('x') },
    ],
  });

describe('the www/ page in headless Chromium', { skip: missing || false }, () => {
  let api;
  let server;
  let base;
  let context;
  let profile;
  const serverLog = [];
  const requests = [];

  before(async () => {
    requirePkg();
    if (!fs.existsSync(path.join(www, 'generated', 'pkg', 'worker.js'))) {
      throw new Error('www/generated is not built: run `npm run build` (or node scripts/build-www.mjs)');
    }
    api = await import(pathToFileURL(path.join(pkgDir, 'node', 'index.mjs')));
    // The www/ folder and nothing else, as any static host would serve it.
    ({ base, server } = await serve((pathname, req) => {
      serverLog.push(`${req.method} ${req.url}`);
      return fileIn(www, pathname);
    }));
    profile = tempDir('www');
    context = await launch(profile, { viewport: { width: 1000, height: 1100 }, colorScheme: 'light', acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    // Every request of the context: pages and their workers.
    context.on('request', (r) => requests.push({ url: r.url(), method: r.method() }));
  });

  after(async () => {
    if (context) await context.close();
    if (server) server.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  /** A fresh page at `file`, with CSP violations and page errors recorded. */
  async function open(file = 'index.html', viewport) {
    const page = await context.newPage();
    if (viewport) await page.setViewportSize(viewport);
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e.message));
    await page.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(`${base}/${file}`);
    return page;
  }

  async function close(page) {
    const violations = await page.evaluate(() => window.__violations);
    await page.close();
    assert.deepEqual(page.errors, [], 'no page errors');
    return violations;
  }

  /** Drops a file on `selector` as a DataTransfer made in the page. */
  async function dropFile(page, selector, name, bytes) {
    const dataTransfer = await page.evaluateHandle(([n, b64]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], n));
      return dt;
    }, [name, Buffer.from(bytes).toString('base64')]);
    await page.dispatchEvent(selector, 'dragenter', { dataTransfer });
    await page.dispatchEvent(selector, 'dragover', { dataTransfer });
    await page.dispatchEvent(selector, 'drop', { dataTransfer });
  }

  /** Waits until `scope` shows a report or an error. */
  async function settled(page, scope = '#checker') {
    await page.locator(`${scope} .rc-report, ${scope} .rc-error:not([hidden])`).first().waitFor({ timeout: 60_000 });
  }

  /** What the visible image panel shows, as the test compares it. */
  function shown(page, scope = '#checker') {
    return page.evaluate((sel) => {
      const rootEl = document.querySelector(sel);
      const panel = [...rootEl.querySelectorAll('.rc-image')].find((el) => el.offsetParent !== null);
      const rows = (caption) => {
        const table = [...panel.querySelectorAll('table')].find((t) => t.caption.textContent === caption);
        return table ? [...table.tBodies[0].rows].map((r) => [...r.cells].map((c) => c.textContent)) : [];
      };
      const verdict = panel.querySelector('.rc-verdict');
      return {
        verdict: verdict.textContent,
        dataVerdict: verdict.dataset.verdict,
        name: panel.querySelector('.rc-image-name').textContent,
        findings: [...panel.querySelectorAll('.rc-finding')].map((f) => ({
          rule: f.dataset.rule,
          path: f.querySelector('.rc-path code')?.textContent ?? null,
          where: f.querySelector('.rc-where')?.textContent ?? null,
          fix: f.querySelector('.rc-copy-text')?.textContent ?? null,
        })),
        setuid: rows('Setuid and setgid files'),
        caps: rows('File capabilities'),
        text: panel.innerText,
      };
    }, scope);
  }

  /** The page's image panel against the Node API's report of the same file. */
  function assertImage(view, image, label) {
    assert.equal(view.verdict, image.verdict, label);
    assert.equal(view.dataVerdict, image.verdict, label);
    for (const tag of image.tags) assert.ok(view.name.includes(tag), `${label}: tag ${tag}`);
    assert.deepEqual(view.findings.map((f) => [f.rule, f.path]), image.findings.map((f) => [f.rule, f.path]), label);
    image.findings.forEach((f, i) => {
      assert.equal(view.findings[i].fix, f.remediation || null, `${label}: fix of ${f.rule}`);
      if (f.layer !== null) {
        assert.ok(view.findings[i].where.includes(`layer ${f.layer}`), `${label}: layer of ${f.rule}`);
        if (f.createdBy) assert.ok(view.findings[i].where.includes(f.createdBy), `${label}: step of ${f.rule}`);
      }
    });
    assert.deepEqual(view.setuid.map((r) => [r[0], r[3], r[4], r[5]]),
      image.setuidFiles.map((s) => [s.path, `${s.uid}:${s.gid}`, String(s.layer), s.createdBy ?? '—']), label);
    assert.deepEqual(view.caps.map((r) => [r[0], r[1]]), image.capabilities.map((c) => [c.path, c.text]), label);
    assert.ok(view.text.includes(image.s6.detected ? 's6-overlay' : 'Not found.'), `${label}: s6-overlay`);
    assert.ok(view.text.includes(image.noNewPrivileges.compatible ? 'Works under no-new-privileges' :
      'Breaks under no-new-privileges'), `${label}: no-new-privileges`);
  }

  /** The panel against EXPECTED.json (written from the fixtures by other tools). */
  function assertExpected(view, facts, label) {
    for (const line of facts.setuid_setgid_root_owned_after_merge || []) {
      const [, owner, file] = line.split(' ');
      const row = view.setuid.find((r) => r[0] === `/${file}`);
      assert.ok(row, `${label}: setuid file /${file} is listed`);
      assert.equal(row[3], owner, `${label}: owner of /${file}`);
    }
    const tags = facts.tags === null ? [] : [facts.tags].flat();
    for (const tag of tags) assert.ok(view.name.includes(tag.replace(/^docker\.io\//, '')), `${label}: tag ${tag}`);
    if (facts.s6_overlay) assert.match(view.text, /s6-overlay .* found/);
  }

  test('the CSP is in force: the page cannot open a connection', async () => {
    for (const file of ['index.html', 'embed.html']) {
      const html = fs.readFileSync(path.join(www, file), 'utf8');
      assert.match(html, /http-equiv="Content-Security-Policy" content="[^"]*connect-src 'none'/, file);
    }
    const page = await open();
    const blocked = await page.evaluate(() => fetch('index.html').then(() => 'fetched', () => 'blocked'));
    assert.equal(blocked, 'blocked');
    const violations = await close(page);
    assert.ok(violations.some((v) => v.startsWith('connect-src')), violations.join('; '));
  });

  for (const [i, { kind, entry, file }] of picked.entries()) {
    // Half are dropped, half picked with the file button.
    const how = i % 2 === 0 ? 'dropped' : 'picked';
    test(`${kind} (${entry.file}), ${how}: the verdict and findings shown are the report's`, async () => {
      const report = await api.analyze(file);
      const page = await open();
      if (how === 'dropped') await dropFile(page, 'body', path.basename(file), fs.readFileSync(file));
      else await page.locator('#checker input[type=file]').setInputFiles(file);
      await settled(page);
      assert.equal(await page.locator('#checker .rc-file-name').first().textContent(), path.basename(file));
      const tabs = page.locator('#checker [role=tab]');
      assert.equal(await tabs.count(), report.images.length > 1 ? report.images.length : 0);
      for (const [n, image] of report.images.entries()) {
        if (report.images.length > 1) {
          await tabs.nth(n).click();
          assert.equal(await tabs.nth(n).getAttribute('aria-selected'), 'true');
        }
        const view = await shown(page);
        assertImage(view, image, `${entry.file} image ${n}`);
        assertExpected(view, entry.images[n], `${entry.file} image ${n}`);
      }
      const status = await page.locator('#checker [role=status]').textContent();
      for (const image of report.images) assert.ok(status.includes(image.verdict), status);
      assert.deepEqual(await close(page), []);
    });
  }

  test('tabs of a multi-image archive follow the arrow keys', async () => {
    const { file } = picked.find((p) => p.kind === 'multi-image');
    const report = await api.analyze(file);
    const page = await open();
    await page.locator('#checker input[type=file]').setInputFiles(file);
    await settled(page);
    await page.locator('#checker [role=tab]').first().focus();
    await page.keyboard.press('ArrowRight');
    const focused = await page.evaluate(() => [document.activeElement.getAttribute('aria-selected'),
      document.activeElement.dataset.verdict]);
    assert.deepEqual(focused, ['true', report.images[1].verdict]);
    assert.equal((await shown(page)).dataVerdict, report.images[1].verdict);
    await close(page);
  });

  test('names, tags, history and env with HTML/JS payloads render as text, and no script runs', async () => {
    const bytes = hostile();
    const report = await api.analyze(bytes);
    assert.equal(report.images[0].verdict, 'pseudo-rootless', 'the hostile archive is analysed');
    const page = await open();
    await dropFile(page, 'body', 'evil<img src=x onerror=window.__pwned=6>.tar', bytes);
    await settled(page);
    const view = await shown(page);
    assertImage(view, report.images[0], 'hostile archive');
    const found = await page.evaluate(() => ({
      pwned: window.__pwned,
      elements: document.querySelectorAll('#checker img, #checker script, #checker b').length,
      text: document.querySelector('#checker').textContent,
    }));
    assert.equal(found.pwned, undefined);
    assert.equal(found.elements, 0, 'no element was made from archive data');
    for (const literal of ['/usr/bin/<script>window.__pwned=4</script>', '/usr/bin/<img src=x onerror=window.__pwned=5>',
      'evil/<img src=x onerror=window.__pwned=1>:1', 'RUN <script>window.__pwned=3</script>',
      'X=<img src=x onerror=window.__pwned=2>', '<b>bold</b>', 'evil<img src=x onerror=window.__pwned=6>.tar']) {
      assert.ok(found.text.includes(literal), `shown literally: ${literal}`);
    }
    // An inline handler blocked by the CSP would show up here.
    assert.deepEqual(await close(page), []);
  });

  test('no innerHTML or other HTML parsing in the page\'s scripts', () => {
    for (const name of fs.readdirSync(www).filter((f) => f.endsWith('.js'))) {
      // Comments may name what is not done.
      const source = fs.readFileSync(path.join(www, name), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/, name);
    }
  });

  test('during a whole analysis the page requests only its own files (workers included)', async () => {
    const { file } = picked.find((p) => p.kind === 'gzipped');
    const page = await open();
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    const from = requests.length;
    const logged = serverLog.length;
    await page.locator('#checker input[type=file]').setInputFiles(file);
    await settled(page);
    await page.getByRole('button', { name: 'Try the sample image' }).click();
    await page.locator('#checker .rc-report .rc-file-name').filter({ hasText: 'pseudo-rootless.tar.gz' }).waitFor();
    const during = requests.slice(from);
    // The worker is made per analysis: its script, the glue and the .wasm
    // (fetched by the worker, so worker requests are recorded); the sample
    // is a module of the page. Nothing else, and all from the page's origin.
    const allowed = new Set(['generated/pkg/worker.js', 'generated/pkg/rootless_check.js',
      'generated/pkg/rootless_check_bg.wasm', 'generated/sample.js']);
    assert.ok(during.some((r) => r.url.endsWith('/rootless_check_bg.wasm')), 'the worker\'s requests are recorded');
    for (const r of during) {
      assert.equal(r.method, 'GET', r.url);
      assert.ok(r.url.startsWith(`${base}/`) && allowed.has(r.url.slice(base.length + 1)), `unexpected request ${r.url}`);
    }
    for (const line of serverLog.slice(logged)) {
      assert.ok(allowed.has(line.replace(/^GET \//, '')), `unexpected request at the server: ${line}`);
    }
    assert.deepEqual(await close(page), []);
  });

  test('every request of the context so far was for a file of www/', () => {
    assert.ok(requests.length > 0);
    for (const r of requests) {
      assert.ok(r.url.startsWith(`${base}/`), `request off the origin: ${r.url}`);
      const rel = decodeURIComponent(new URL(r.url).pathname).slice(1) || 'index.html';
      assert.ok(fs.existsSync(path.join(www, rel)), `request for a file www/ does not have: ${r.url}`);
    }
  });

  test('the sample: one click, JSON and SARIF downloads, a fix copied; the README screenshot', async () => {
    const outputs = await api.analyzeWithOutputs(sampleFile);
    const page = await open();
    await page.getByRole('button', { name: 'Try the sample image' }).click();
    await settled(page);
    assertImage(await shown(page), outputs.report.images[0], 'sample');
    // Fixed viewport, light theme, the sample, the mouse out of the way: the
    // same picture each run.
    await page.mouse.move(0, 0);
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, animations: 'disabled' });
    assert.ok(fs.statSync(screenshot).size > 10_000);

    const [json] = await Promise.all([page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the JSON report' }).click()]);
    assert.equal(json.suggestedFilename(), 'pseudo-rootless.rootless-check.json');
    assert.deepEqual(JSON.parse(fs.readFileSync(await json.path(), 'utf8')), outputs.report);
    const [sarif] = await Promise.all([page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the SARIF report' }).click()]);
    assert.equal(sarif.suggestedFilename(), 'pseudo-rootless.rootless-check.sarif');
    assert.deepEqual(JSON.parse(fs.readFileSync(await sarif.path(), 'utf8')), JSON.parse(outputs.sarif));

    await page.locator('#checker .rc-finding').first().getByRole('button', { name: 'Copy fix' }).click();
    await page.locator('#checker .rc-copy-done').filter({ hasText: 'Copied.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), outputs.report.images[0].findings[0].remediation);

    assert.deepEqual(await close(page), []);
  });

  test('keyboard: the file button is reached with Tab, has a visible focus, and opens the file chooser', async () => {
    const page = await open();
    // Set up the file chooser's interception before any key is pressed.
    const choosers = [];
    page.on('filechooser', (chooser) => choosers.push(chooser));
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    await page.keyboard.press('Tab'); // the skip link
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => ({
      text: document.activeElement.textContent,
      outline: getComputedStyle(document.activeElement).outlineStyle,
    }));
    assert.equal(focused.text, 'Choose an archive…');
    assert.notEqual(focused.outline, 'none');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => true); // a round trip, for the event to arrive
    const chooser = choosers[0] || (await page.waitForEvent('filechooser', { timeout: 5000 }));
    await chooser.setFiles(sampleFile);
    await settled(page);
    assert.equal((await shown(page)).dataVerdict, (await api.analyze(sampleFile)).images[0].verdict);
    await close(page);
  });

  test('progress shows bytes, percentage and the layer when known; cancel stops the analysis', async () => {
    const big = expected.filter((e) => !e.format.startsWith('gzip(')).sort((a, b) => b.size - a.size)[0];
    const page = await open();
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    // Cancel from inside the page at the first progress event (a click from
    // the test could come after the end of the analysis).
    await page.evaluate(() => {
      window.__progress = null;
      document.addEventListener('rootless-check:progress', (e) => {
        if (window.__progress) return;
        window.__progress = { detail: e.detail, text: document.querySelector('.rc-progress-text').textContent,
          bar: document.querySelector('.rc-bar').value, visible: !document.querySelector('.rc-progress').hidden };
        [...document.querySelectorAll('.rc-progress button')].find((b) => b.textContent === 'Cancel').click();
      });
    });
    await page.locator('#checker input[type=file]').setInputFiles(path.join(fixturesDir, big.file));
    await page.locator('#checker [role=status]').filter({ hasText: 'Cancelled.' }).waitFor({ timeout: 30_000 });
    const p = await page.evaluate(() => window.__progress);
    assert.ok(p.visible);
    assert.equal(p.detail.totalBytes, big.size);
    const percent = Math.floor((p.detail.bytesRead / big.size) * 100);
    assert.ok(p.text.includes(`${percent} %`), p.text);
    assert.ok(p.text.includes(' of '), p.text);
    assert.ok(Math.abs(p.bar - p.detail.bytesRead / big.size) < 1e-9);
    if (typeof p.detail.layer === 'string') assert.ok(p.text.includes(`layer ${p.detail.layer}`), p.text);
    else assert.ok(!p.text.includes('layer'), p.text);
    // Cancelled: no report, no error, the progress bar gone.
    await page.waitForTimeout(300);
    assert.equal(await page.locator('#checker .rc-report').count(), 0);
    assert.equal(await page.locator('#checker .rc-error').isHidden(), true);
    assert.equal(await page.locator('#checker .rc-progress').isHidden(), true);
    await close(page);
  });

  test('Cancel stops the 16 GiB bomb mid-layer at once (budget lifted), timed from the click', async (t) => {
    // A 16 MB docker save whose gzip layer expands to 16 GiB of zeros;
    // with the budget lifted, decoding it whole takes 10 s and more.
    const layer = gzipBomb(16 * 2 ** 30);
    const layerName = `${sha256(layer)}/layer.tar`;
    const page = await open();
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    // The click and the status saying "Cancelled." timed in the page (no
    // round trip to the test in between).
    await page.evaluate((name) => {
      window.rootlessCheck.setMaxDecompressed('none');
      window.__bomb = { layerAt: null, clickAt: null, cancelledAt: null, done: null };
      const cancel = [...document.querySelectorAll('.rc-progress button')].find((b) => b.textContent === 'Cancel');
      cancel.addEventListener('click', () => { window.__bomb.clickAt = performance.now(); }, { capture: true });
      const status = document.querySelector('#checker [role=status]');
      new MutationObserver(() => {
        if (status.textContent === 'Cancelled.' && window.__bomb.cancelledAt === null) window.__bomb.cancelledAt = performance.now();
      }).observe(status, { childList: true, characterData: true, subtree: true });
      document.addEventListener('rootless-check:progress', (e) => {
        if (e.detail.layer === name && window.__bomb.layerAt === null) window.__bomb.layerAt = performance.now();
      });
      document.addEventListener('rootless-check:done', (e) => { window.__bomb.done = e.detail.error ? e.detail.error.name : 'report'; });
    }, layerName);
    await dropFile(page, 'body', 'bomb.tar', dockerSave16([layer]));
    // A second into decoding the layer, then a real click on Cancel.
    await page.waitForFunction(() => window.__bomb.layerAt !== null, null, { timeout: 60_000 });
    await page.waitForTimeout(1000);
    assert.equal(await page.evaluate(() => window.__bomb.done), null, 'the analysis ended before Cancel');
    await page.locator('#checker .rc-progress button', { hasText: 'Cancel' }).click();
    await page.waitForFunction(() => window.__bomb.cancelledAt !== null, null, { timeout: 10_000 });
    const b = await page.evaluate(() => window.__bomb);
    const latency = b.cancelledAt - b.clickAt;
    t.diagnostic(`"Cancelled." shown ${latency.toFixed(1)} ms after the click, ${(b.clickAt - b.layerAt).toFixed(0)} ms into the layer`);
    assert.equal(b.done, 'AbortError');
    // Measured at a few ms; generous for a loaded machine.
    assert.ok(latency < 2000, `${latency} ms`);
    assert.equal(await page.locator('#checker .rc-report').count(), 0);
    assert.equal(await page.locator('#checker .rc-progress').isHidden(), true);
    await close(page);
  });

  test('a file that is not an archive gets an error in plain words', async () => {
    const page = await open();
    await dropFile(page, 'body', 'notes.zip', Buffer.from('PK\x03\x04 not a tar'));
    await settled(page);
    const alert = page.locator('#checker [role=alert]');
    assert.equal(await alert.isVisible(), true);
    const text = await alert.textContent();
    assert.ok(text.includes('This file is not a container image archive.'), text);
    assert.ok(text.includes('docker save'), text);
    assert.ok(text.includes('E_NOT_ARCHIVE'), text);
    assert.equal(await page.locator('#checker .rc-report').count(), 0);
    await close(page);
  });

  test('phone width (360 px), dark theme: no sideways scrolling, dark colours', async () => {
    const page = await open('index.html', { width: 360, height: 740 });
    await page.emulateMedia({ colorScheme: 'dark' });
    const { file } = picked.find((p) => p.kind === 'multi-image');
    await page.locator('#checker input[type=file]').setInputFiles(file);
    await settled(page);
    const layout = await page.evaluate(() => {
      const rgb = (c) => c.match(/\d+/g).slice(0, 3).map(Number);
      const [r, g, b] = rgb(getComputedStyle(document.body).backgroundColor);
      return { width: document.documentElement.scrollWidth, background: (r + g + b) / 3 };
    });
    assert.ok(layout.width <= 360, `the page is ${layout.width} px wide`);
    assert.ok(layout.background < 64, `dark background (${layout.background})`);
    await close(page);
  });

  test('the widget, embedded in a plain HTML page: the sample at once, and a dropped archive', async () => {
    const sample = await api.analyze(sampleFile);
    const page = await open('embed.html');
    // compact + sample: the verdict without any action, in the shadow DOM.
    const compact = page.locator('#compact-sample .rc-verdict');
    await compact.waitFor({ timeout: 30_000 });
    assert.equal(await compact.getAttribute('data-verdict'), sample.images[0].verdict);
    assert.equal(await page.evaluate(() => document.querySelector('#compact-sample').shadowRoot !== null), true);
    assert.equal(await page.locator('#compact-sample table').count(), 0, 'compact: no tables');
    assert.equal(await page.locator('#compact-sample .rc-finding').count(), sample.images[0].findings.length);

    const { file } = picked.find((p) => p.kind === 'OCI archive');
    const report = await api.analyze(file);
    await dropFile(page, '#full', path.basename(file), fs.readFileSync(file));
    await page.locator('#full .rc-report').waitFor({ timeout: 60_000 });
    const verdict = page.locator('#full .rc-verdict');
    assert.equal(await verdict.getAttribute('data-verdict'), report.images[0].verdict);
    assert.equal(await page.locator('#full .rc-finding').count(), report.images[0].findings.length);
    // Dropped on one widget: the other keeps its report.
    assert.equal(await page.locator('#compact-sample .rc-file-name').first().textContent(), 'pseudo-rootless.tar.gz');

    // It fits in: the page's font, and the page's --rc-accent on its button.
    const style = await page.evaluate(() => {
      const w = document.querySelector('#full');
      const button = w.shadowRoot.querySelector('.rc-primary');
      return {
        body: getComputedStyle(document.body).fontFamily,
        inner: getComputedStyle(w.shadowRoot.querySelector('.rc-root')).fontFamily,
        accent: getComputedStyle(button).backgroundColor,
      };
    });
    assert.equal(style.inner, style.body);
    assert.equal(style.accent, 'rgb(124, 58, 237)');
    assert.deepEqual(await close(page), []);
  });
});

test('build-www put the browser build and the sample into www/generated', () => {
  const generated = path.join(www, 'generated');
  for (const name of ['index.js', 'worker.js', 'rootless_check.js', 'rootless_check_bg.wasm']) {
    assert.deepEqual(fs.readFileSync(path.join(generated, 'pkg', name)), fs.readFileSync(path.join(pkgDir, 'web', name)), name);
  }
  const sample = fs.readFileSync(path.join(generated, 'sample.js'), 'utf8');
  const base64 = sample.match(/export const base64 = "([^"]+)"/)[1];
  assert.deepEqual(Buffer.from(base64, 'base64'), fs.readFileSync(sampleFile));
});
