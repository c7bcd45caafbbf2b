#!/usr/bin/env node
// The "browser" column of bench/run.sh: the web page (www/, as built by
// `npm run build`) in headless Chromium, timed from the file being given to
// the page to the verdict being on it.
//
//   node bench/browser.mjs FILE [--runs N] [--warmup N] [--www DIR] [--native PATH] [--timeout S] [--pss-runs N] [--no-pss]
//   node bench/browser.mjs --check [--www DIR]
//
// - www/ is served by a tiny node:http static server on 127.0.0.1 (the
//   folder alone, as any static host would; .wasm as application/wasm).
// - Chromium (CHROMIUM, default /usr/bin/chromium) is driven by
//   playwright-core, with the options of tests/node/browser.test.mjs.
// - All runs are in one browser session: --warmup untimed runs (default 1),
//   then --runs timed runs (default 3), then --pss-runs more runs for the
//   PSS (default 1; below; none with --no-pss). Each run reloads the page, then gives it FILE through
//   its file input with setInputFiles(FILE): a local path, which Chromium
//   reads from disk itself (nothing goes through Node).
// - The time is taken in the page with performance.now(): from the input's
//   `change` event (a capture listener on the document, so it runs before the
//   page's own handler) to the report (`.rc-report`, with its `data-verdict`
//   elements) or an error being inserted (a MutationObserver). Playwright's
//   round trips are outside it.
// - Memory: Chromium's processes are the descendants of this process. During
//   the timed runs the sum of their RSS (/proc/PID/statm) is sampled every
//   100 ms; peak_rss_mb is the largest sum. It counts shared pages
//   (libraries, shared memory) once per process, so it overstates what the
//   browser uses. The sum of their PSS (/proc/PID/smaps_rollup: shared pages
//   split between the processes sharing them) is the fairer figure, but
//   reading smaps_rollup every 100 ms slows the analysis down a lot (2x at
//   scale 0.1: it takes the renderer's mm lock), so it is sampled only in the
//   extra, untimed runs: peak_pss_mb (their median). idle_* are the same sums
//   with the page loaded, before the first file. The PSS at idle and at each
//   PSS run's peak is also printed per process (browser, renderer#ID, gpu,
//   NetworkService…: its anonymous and shared-memory parts in brackets), so
//   that the growth can be put on a process.
// - The verdicts shown must be those of the native CLI for FILE
//   (`rootless-check --format json --fail-on none FILE`, images[].verdict;
//   --native, else target-bench/release or target/release): else, or if the
//   page shows an error or throws, this exits 1.
//
// Prints one line per run, then one line to parse:
//   median_seconds=1.234 min_seconds=… max_seconds=… runs=3 peak_rss_mb=… idle_rss_mb=… peak_pss_mb=… idle_pss_mb=… verdicts=pseudo-rootless
// If Chromium, playwright-core or the built page is missing, prints
// `not_measured=REASON` and exits 3 (--check: the same, or `ready` and 0).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileIn, launch, missing as chromiumMissing, serve } from '../tests/node/chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function usage(message) {
  if (message) console.error(`bench/browser.mjs: ${message}`);
  console.error('usage: node bench/browser.mjs FILE [--runs N] [--warmup N] [--www DIR] [--native PATH] [--timeout S] [--pss-runs N] [--no-pss]\n' +
    '       node bench/browser.mjs --check [--www DIR]');
  process.exit(2);
}

const opts = { runs: 3, warmup: 1, pssRuns: 1, www: path.join(root, 'www'), native: null, timeout: 900, check: false, file: null };
{
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    let value = null;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) [a, value] = [a.slice(0, eq), a.slice(eq + 1)];
    const next = () => {
      if (value !== null) return value;
      if (i + 1 >= args.length) usage(`${a} needs a value`);
      return args[++i];
    };
    if (a === '--runs') opts.runs = Number(next());
    else if (a === '--warmup') opts.warmup = Number(next());
    else if (a === '--www') opts.www = path.resolve(next());
    else if (a === '--native') opts.native = path.resolve(next());
    else if (a === '--timeout') opts.timeout = Number(next());
    else if (a === '--check') opts.check = true;
    else if (a === '--no-pss') opts.pssRuns = 0;
    else if (a === '--pss-runs') opts.pssRuns = Number(next());
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (opts.file === null) opts.file = path.resolve(a);
    else usage(`one FILE only (got ${a})`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) usage('--runs must be a positive integer');
  if (!Number.isInteger(opts.warmup) || opts.warmup < 0) usage('--warmup must be a non-negative integer');
  if (!Number.isInteger(opts.pssRuns) || opts.pssRuns < 0) usage('--pss-runs must be a non-negative integer');
  if (!(opts.timeout > 0)) usage('--timeout must be positive (seconds)');
  if (!opts.check && !opts.file) usage('no FILE');
}

// ------------------------------------------------------------ prerequisites
const missing =
  chromiumMissing ||
  (!fs.existsSync(path.join(opts.www, 'index.html'))
    ? `no page at ${opts.www}/index.html`
    : !fs.existsSync(path.join(opts.www, 'generated', 'pkg', 'worker.js'))
      ? `${opts.www}/generated is not built: npm run build`
      : null);
if (missing) {
  console.log(`not_measured=${missing}`);
  process.exit(3);
}
if (opts.check) {
  console.log('ready');
  process.exit(0);
}
if (!fs.existsSync(opts.file) || !fs.statSync(opts.file).isFile()) usage(`no file ${opts.file}`);

// ------------------------------------------------------------ expected verdicts
function nativeCli() {
  if (opts.native) return opts.native;
  for (const dir of ['target-bench', 'target']) {
    const p = path.join(root, dir, 'release', 'rootless-check');
    if (fs.existsSync(p)) return p;
  }
  console.error('bench/browser.mjs: no native CLI (target-bench/release/rootless-check or target/release/rootless-check; or --native PATH)');
  process.exit(2);
}
const native = nativeCli();
const shown = (p) => (p.startsWith(root + path.sep) ? path.relative(root, p) : p);
let expected;
try {
  expected = JSON.parse(execFileSync(native, ['--format', 'json', '--fail-on', 'none', opts.file],
    { maxBuffer: 256 << 20, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).images.map((i) => i.verdict);
} catch (err) {
  console.error(`bench/browser.mjs: FAILED: the native CLI (${shown(native)}) failed on ${opts.file}: ${(err.stderr || err.message || '').toString().trim()}`);
  process.exit(1);
}

// ------------------------------------------------------------ the server
const { base, server } = await serve((pathname) => fileIn(opts.www, pathname), {
  headers: { 'cache-control': 'no-cache' },
});

// ------------------------------------------------------------ memory of Chromium's processes
const PAGE = 4096;
/** The PIDs of the descendants of this process (Chromium and its children). */
function descendants() {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone
    }
    // pid (comm) state ppid …: comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const out = [];
  const todo = [process.pid];
  while (todo.length > 0) {
    for (const c of children.get(todo.pop()) || []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}
/** What a Chromium process is, from its command line: browser, renderer, gpu-process, network… */
const kinds = new Map();
function kindOf(pid) {
  if (!kinds.has(pid)) {
    let kind = 'other';
    try {
      // Chromium rewrites its command line as one string: split on spaces too.
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
      const type = argv.find((a) => a.startsWith('--type='));
      const sub = argv.find((a) => a.startsWith('--utility-sub-type='));
      const id = argv.find((a) => a.startsWith('--renderer-client-id='));
      kind = !type ? path.basename(argv[0]) : sub ? sub.slice(sub.lastIndexOf('.') + 1)
        : id ? `${type.slice(7)}#${id.slice(21)}` : type.slice(7);
    } catch {
      // gone
    }
    kinds.set(pid, kind);
  }
  return kinds.get(pid);
}
/**
 * Sums of RSS and (if `pss`) PSS, bytes, over Chromium's processes; with
 * `pss`, also `byKind`: the PSS per kind of process (kindOf), its anonymous
 * part and its shared-memory part.
 */
function sample(pids, pss = true) {
  let rss = 0;
  let pssSum = 0;
  const byKind = {};
  for (const pid of pids) {
    try {
      rss += Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
      if (!pss) continue;
      const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const field = (name) => Number((new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup) || [0, 0])[1]) * 1024;
      const k = (byKind[kindOf(pid)] ??= { pss: 0, anon: 0, shmem: 0, n: 0 });
      k.pss += field('Pss');
      k.anon += field('Pss_Anon');
      k.shmem += field('Pss_Shmem');
      k.n += 1;
      pssSum += field('Pss');
    } catch {
      // gone
    }
  }
  return { rss, pss: pssSum, byKind };
}
/** `renderer 412.3 (anon 380.1, shmem 2.0), …`: MB, largest first. */
const kindsText = (byKind) => Object.entries(byKind).sort((a, b) => b[1].pss - a[1].pss)
  .map(([kind, k]) => `${kind}${k.n > 1 ? `×${k.n}` : ''} ${mb(k.pss)} (anon ${mb(k.anon)}, shmem ${mb(k.shmem)})`).join(', ');
class Sampler {
  constructor(pss) {
    this.pss = pss;
    this.peak = { rss: 0, pss: 0 };
    this.pids = descendants();
    this.ticks = 0;
  }
  tick() {
    // New processes (the workers run in the renderer, but a reload may start
    // a new one): look for them every 10th sample.
    if (this.ticks++ % 10 === 0) this.pids = descendants();
    const s = sample(this.pids, this.pss);
    this.peak.rss = Math.max(this.peak.rss, s.rss);
    if (s.pss > this.peak.pss) {
      this.peak.pss = s.pss;
      this.peak.byKind = s.byKind;
    }
  }
  start() {
    this.tick();
    this.timer = setInterval(() => this.tick(), 100);
  }
  stop() {
    clearInterval(this.timer);
    this.pids = descendants();
    this.tick();
    return this.peak;
  }
}

// ------------------------------------------------------------ the browser
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rootless-check-bench-'));
let context = null;
const mb = (bytes) => (bytes / 1048576).toFixed(1);
const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};

// Installed in every document the page loads, before its scripts: the clock
// starts at the input's change event (capture phase, on the document: before
// the checker's own onchange) and stops when the report or an error is in the
// DOM; window.__bench.done resolves then.
function instrument() {
  let resolveDone;
  const bench = { t0: null, done: new Promise((r) => { resolveDone = r; }) };
  window.__bench = bench;
  document.addEventListener('change', (e) => {
    if (bench.t0 === null && e.target instanceof HTMLInputElement && e.target.type === 'file') bench.t0 = performance.now();
  }, true);
  const observer = new MutationObserver(() => {
    if (bench.t0 === null) return;
    const report = document.querySelector('#checker .rc-report');
    const error = document.querySelector('#checker .rc-error:not([hidden])');
    if (!report && !error) return;
    const t1 = performance.now();
    observer.disconnect();
    const tabs = report ? [...report.querySelectorAll('.rc-tab[data-verdict]')] : [];
    const verdicts = tabs.length > 0
      ? tabs.map((t) => t.dataset.verdict)
      : report ? [...report.querySelectorAll('.rc-verdict[data-verdict]')].map((v) => v.dataset.verdict) : [];
    resolveDone({ ms: t1 - bench.t0, verdicts, error: error ? error.textContent.trim() : null,
      fileName: report ? (report.querySelector('.rc-file-name') || {}).textContent : null });
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['hidden'] });
}

let exitCode = 0;
try {
  context = await launch(profile, {
    viewport: { width: 1000, height: 1100 },
    // A headless page must not be slowed down as if it were in the background.
    args: ['--disable-background-timer-throttling', '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows'],
  });
  await context.addInitScript(instrument);
  const page = context.pages()[0] || (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  const name = path.basename(opts.file);
  const size = fs.statSync(opts.file).size;
  const times = [];
  let peakRss = 0;
  const pssRuns = [];
  let idle = null;
  const total = opts.warmup + opts.runs + opts.pssRuns;
  for (let i = 0; i < total; i++) {
    const kind = i < opts.warmup ? 'warm-up' : i < opts.warmup + opts.runs ? 'timed' : 'pss';
    // A fresh page each run: reload (goto) and wait for the checker.
    await page.goto(`${base}/index.html`);
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true' && window.__bench);
    if (idle === null) {
      idle = sample(descendants());
      console.log(`idle PSS by process: ${kindsText(idle.byKind)}`);
    }
    const sampler = new Sampler(kind === 'pss');
    sampler.start();
    await page.locator('#checker input[type=file]').setInputFiles(opts.file);
    let timer;
    const result = await Promise.race([
      page.evaluate(() => window.__bench.done),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no verdict after ${opts.timeout} s`)), opts.timeout * 1000);
      }),
    ]).finally(() => clearTimeout(timer));
    const runPeak = sampler.stop();
    if (result.error) throw new Error(`the page shows an error for ${name}: ${result.error}`);
    if (result.fileName !== name) throw new Error(`the report is for ${JSON.stringify(result.fileName)}, not ${name}`);
    if (JSON.stringify(result.verdicts) !== JSON.stringify(expected)) {
      throw new Error(`the page says ${JSON.stringify(result.verdicts)}, the native CLI ${JSON.stringify(expected)} (${shown(native)})`);
    }
    if (pageErrors.length > 0) throw new Error(`page errors: ${pageErrors.join('; ')}`);
    const s = result.ms / 1000;
    const label = kind === 'timed' ? `run ${times.length + 1}/${opts.runs}` : kind === 'pss' ? 'PSS run (not timed)' : 'warm-up';
    console.log(`${label}: ${s.toFixed(3)} s, ${(size / 1e6 / s).toFixed(0)} MB/s, peak RSS sum ${mb(runPeak.rss)} MB` +
      `${kind === 'pss' ? `, peak PSS sum ${mb(runPeak.pss)} MB` : ''}, verdict ${result.verdicts.join(',')}`);
    if (kind === 'pss') console.log(`  at the PSS peak, by process: ${kindsText(runPeak.byKind)}`);
    if (kind === 'timed') {
      times.push(s);
      peakRss = Math.max(peakRss, runPeak.rss);
    } else if (kind === 'pss') {
      pssRuns.push(runPeak.pss);
    }
  }
  console.log(`median_seconds=${median(times).toFixed(3)} min_seconds=${Math.min(...times).toFixed(3)} ` +
    `max_seconds=${Math.max(...times).toFixed(3)} runs=${times.length} peak_rss_mb=${mb(peakRss)} ` +
    `idle_rss_mb=${mb(idle.rss)} peak_pss_mb=${pssRuns.length > 0 ? mb(median(pssRuns)) : '-'} idle_pss_mb=${mb(idle.pss)} ` +
    `verdicts=${expected.join(',')}`);
} catch (err) {
  console.error(`bench/browser.mjs: FAILED: ${err && err.message}`);
  exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(exitCode);
