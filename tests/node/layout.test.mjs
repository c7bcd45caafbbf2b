// The page as a reader sees it, at a phone's width (390 px) and a laptop's
// (1280 px), with reports that have tables (11 setuid files with long
// Dockerfile steps; file capabilities): measured in the page, nothing is
// wider than the screen, no table scrolls sideways, and no header, number,
// mode, owner or file path of a table is broken across lines (the setuid
// table once showed the mode `4755` as `475`/`5` and the header `owner` as
// `own`/`er`); the no-new-privileges verdict and its reason read as two
// sentences. Full-page screenshots are saved under target/screenshots/ for a
// person to look at. Skipped, saying so, without Chromium or playwright-core.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixturesDir, root, tempDir } from './helpers.mjs';

import { fileIn, launch, missing, serve } from './chromium.mjs';

const www = path.join(root, 'www');
const shots = path.join(root, 'target', 'screenshots');

const FIXTURES = {
  setuid: 'built/deb12-minbase.docker20-save.tar.gz', // 11 setuid/setgid files, `ADD file:<64 hex>` steps
  caps: 'built/bb-filecap.docker-archive.tar', // a file capability and a setuid file
};
// Columns whose cells must stay on one line (the fixtures' paths are short
// enough for one line at 390 px too).
const ONE_LINE = new Set(['file', 'bits', 'mode', 'owner', 'layer', '#', 'size', 'entries']);

describe('the page at a phone\'s and a laptop\'s width', { skip: missing || false }, () => {
  let server;
  let base;
  let context;
  let profile;

  before(async () => {
    if (!fs.existsSync(path.join(www, 'generated', 'pkg', 'worker.js'))) {
      throw new Error('www/generated is not built: run `npm run build` (or node scripts/build-www.mjs)');
    }
    ({ base, server } = await serve((pathname) => fileIn(www, pathname)));
    profile = tempDir('layout');
    context = await launch(profile, { colorScheme: 'light' });
    fs.mkdirSync(shots, { recursive: true });
  });

  after(async () => {
    if (context) await context.close();
    if (server) server.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  for (const width of [390, 1280]) {
    for (const [name, fixture] of Object.entries(FIXTURES)) {
      test(`${width} px, ${fixture}: nothing overflows, no number or header wraps`, async () => {
        const page = await context.newPage();
        await page.setViewportSize({ width, height: 900 });
        await page.goto(`${base}/index.html`);
        await page.locator('#checker input[type=file]').setInputFiles(path.join(fixturesDir, fixture));
        await page.locator('#checker .rc-report').waitFor({ timeout: 60_000 });
        // The layers table is in a <details>: open it, so it is measured too.
        await page.evaluate(() => document.querySelectorAll('#checker details').forEach((d) => { d.open = true; }));
        const file = path.join(shots, `page-${width}-${name}.png`);
        await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
        assert.ok(fs.statSync(file).size > 10_000, file);

        const found = await page.evaluate((oneLine) => {
          // Lines a node's own text takes: the distinct tops of its line boxes
          // (not counting a ::before label).
          const lines = (node) => {
            const range = document.createRange();
            range.selectNodeContents(node);
            return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
          };
          const visible = (el) => el.getBoundingClientRect().width > 1;
          const checker = document.querySelector('#checker').getBoundingClientRect();
          const broken = [];
          const tables = [];
          for (const table of document.querySelectorAll('#checker table')) {
            const headers = [...table.tHead.rows[0].cells].map((c) => c.textContent);
            for (const th of table.tHead.rows[0].cells) {
              if (visible(th) && lines(th) > 1) broken.push(`header "${th.textContent}": ${lines(th)} lines`);
            }
            for (const row of table.tBodies[0].rows) {
              [...row.cells].forEach((cell, i) => {
                if (oneLine.includes(headers[i]) && lines(cell) > 1) {
                  broken.push(`${table.caption.textContent} / ${headers[i]} "${cell.textContent}": ${lines(cell)} lines`);
                }
              });
            }
            tables.push(table.caption.textContent);
          }
          const wraps = [...document.querySelectorAll('#checker .rc-table-wrap')]
            .filter((w) => w.scrollWidth > w.clientWidth)
            .map((w) => `${w.getAttribute('aria-label')} scrolls: ${w.scrollWidth} > ${w.clientWidth}`);
          const outside = [...document.querySelectorAll('#checker *')]
            .filter((el) => el.getBoundingClientRect().right > checker.right + 1 && !el.closest('.rc-table-wrap'))
            .map((el) => `<${el.localName} class="${el.className}"> ends at ${el.getBoundingClientRect().right}`);
          const nnp = [...document.querySelectorAll('#checker .rc-section')]
            .find((s) => s.firstChild.textContent === 'no-new-privileges').querySelector('p').textContent;
          return { scrollWidth: document.documentElement.scrollWidth, broken, tables, wraps, outside, nnp };
        }, [...ONE_LINE]);
        await page.close();

        assert.ok(found.tables.length >= 2, `tables measured: ${found.tables.join(', ')}`);
        assert.ok(found.tables.includes(name === 'caps' ? 'File capabilities' : 'Setuid and setgid files'), found.tables.join(', '));
        assert.ok(found.scrollWidth <= width, `the page is ${found.scrollWidth} px wide in a ${width} px window`);
        assert.deepEqual(found.wraps, [], 'tables that scroll sideways');
        assert.deepEqual(found.outside.slice(0, 5), [], 'elements past the checker\'s right edge');
        assert.deepEqual(found.broken, [], 'cells broken across lines');
        // "Breaks under no-new-privileges. The start path …": the reason starts a sentence of its own.
        assert.match(found.nnp, /^(Works|Breaks) under no-new-privileges\. [A-Z]/, found.nnp);
      });
    }
  }
});
