// The checker, shared by the page (app.js) and the widget (widget.js): a
// drop zone with a file button and the sample, a progress bar with cancel,
// then the report. A compose file or a Kubernetes manifest dropped with the
// archives adds how each service or container will run. The archive is analysed by the npm package's browser
// build (generated/pkg/, copied by scripts/build-www.mjs) in a Web Worker
// that reads the local file: nothing is uploaded.

import { analyzeWithOutputs } from './generated/pkg/index.js';
import { formatBytes, h, renderError, renderReport } from './report-view.js';

// Live-region updates at most this often, so screen readers are not flooded.
const ANNOUNCE_MS = 1000;

/**
 * Builds the checker inside `container`.
 * - `dropTarget`: the element (or document) that accepts a dropped file.
 * - `dropText`: what the drop zone says.
 * - `compact`: a shorter report (verdict, why, findings with their fixes).
 * - `headingLevel`: the level of the report's heading.
 * - `events`: where `rootless-check:progress` / `:done` events are
 *   dispatched (for scripts around the page; no archive data in them but the
 *   report itself).
 */
export function mountChecker(container, { dropTarget = container, dropText, compact = false, headingLevel = 2, events = container } = {}) {
  const input = h('input', { type: 'file', multiple: true, class: 'rc-file-input', tabindex: -1, 'aria-hidden': 'true', hidden: true });
  const chooseButton = h('button', { type: 'button', class: 'rc-button rc-primary' }, 'Choose an archive…');
  const sampleButton = h('button', { type: 'button', class: 'rc-button' }, 'Try the sample image');
  const drop = h('div', { class: 'rc-drop' },
    h('p', { class: 'rc-drop-title' }, dropText || 'Drop a container image archive here'),
    h('p', { class: 'rc-hint' }, 'from docker save, podman save, skopeo (OCI archive) or docker export; .tar, .tar.gz or .tar.zst. ' +
      'Add a compose.yml or a Kubernetes manifest (and its .env) to see how it will run.'),
    h('p', { class: 'rc-actions' }, chooseButton, ' ', sampleButton, input));

  const progressVerb = h('span', {}, 'Analysing');
  const progressName = h('span', { class: 'rc-file-name' });
  const bar = h('progress', { class: 'rc-bar', max: 1, value: 0, 'aria-label': 'Analysis progress' });
  const progressText = h('p', { class: 'rc-progress-text' });
  const cancelButton = h('button', { type: 'button', class: 'rc-button' }, 'Cancel');
  const progress = h('div', { class: 'rc-progress', hidden: true },
    h('p', { class: 'rc-progress-title' }, progressVerb, ' ', progressName, '…'),
    bar, progressText, h('p', {}, cancelButton));

  // Polite: the progress (throttled) and the verdict. Errors: role=alert.
  const status = h('p', { class: 'rc-status', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const error = h('div', { class: 'rc-error', role: 'alert', hidden: true });
  const result = h('div', { class: 'rc-result' });
  container.append(drop, progress, status, error, result);

  let controller = null;
  // The decompression budget (undefined: the default); scripts may set it.
  let maxDecompressed;
  let urls = [];
  let lastAnnounce = 0;

  function showProgress({ bytesRead, totalBytes, layer }) {
    const total = totalBytes || 0;
    const fraction = total > 0 ? Math.min(bytesRead / total, 1) : 0;
    bar.value = fraction;
    const parts = [`${formatBytes(bytesRead)} of ${formatBytes(total)}`, `${Math.floor(fraction * 100)} %`];
    if (typeof layer === 'string') parts.push(`layer ${layer}`);
    progressText.textContent = parts.join(' · ');
    const now = Date.now();
    if (now - lastAnnounce >= ANNOUNCE_MS) {
      lastAnnounce = now;
      status.textContent = `Analysing: ${Math.floor(fraction * 100)} %`;
    }
    events.dispatchEvent(new CustomEvent('rootless-check:progress', { detail: { bytesRead, totalBytes, layer } }));
  }

  function clearResult() {
    for (const url of urls) URL.revokeObjectURL(url);
    urls = [];
    result.replaceChildren();
    error.replaceChildren();
    error.hidden = true;
  }

  /** Starts a new task (an analysis or a fetched report): the one before is cancelled. */
  function start(verb, name, text) {
    if (controller) controller.abort();
    const mine = new AbortController();
    controller = mine;
    clearResult();
    progressVerb.textContent = verb;
    progressName.textContent = name;
    bar.value = 0;
    progressText.textContent = text;
    progress.hidden = false;
    status.textContent = `${verb} ${name}…`;
    lastAnnounce = Date.now();
    return mine;
  }

  function showReport(report, view) {
    result.append(renderReport(report, { ...view, compact, headingLevel, urls }));
    const verdicts = report.images.map((i) => i.verdict);
    status.textContent = verdicts.length === 0
      ? 'Done: the archive holds no image.'
      : `Done. Verdict: ${verdicts.length === 1 ? verdicts[0] : verdicts.join(', ')}.`;
    events.dispatchEvent(new CustomEvent('rootless-check:done', { detail: { report } }));
  }

  function showError(err) {
    if (err && err.name === 'AbortError') {
      status.textContent = 'Cancelled.';
    } else {
      status.textContent = '';
      error.replaceChildren(renderError(err));
      error.hidden = false;
    }
    events.dispatchEvent(new CustomEvent('rootless-check:done', { detail: { error: err } }));
  }

  function finish(mine) {
    if (controller === mine) {
      controller = null;
      progress.hidden = true;
    }
  }

  /** Analyses a File (or Blob with a name); resolves when shown. */
  function analyzeFile(file) {
    return analyzeFiles([file]);
  }

  /** Analyses dropped files: archives, and maybe a compose file or a
   * Kubernetes manifest (.yml, .yaml) with a .env, whose runs are held
   * against the archives' images. Resolves when shown. */
  async function analyzeFiles(list) {
    const files = Array.from(list);
    const specFile = files.find((f) => /\.ya?ml$/i.test(f.name || ''));
    const dotenvFile = files.find((f) => /(^|\.)env$/i.test(f.name || ''));
    const archives = files.filter((f) => f !== specFile && f !== dotenvFile);
    const label = files.map((f) => f.name || 'the archive').join(', ');
    const size = archives.reduce((sum, f) => sum + f.size, 0);
    const mine = start('Analysing', label, `0 bytes of ${formatBytes(size)}`);
    try {
      const options = { signal: mine.signal, onProgress: showProgress, maxDecompressed };
      let source = archives[0];
      if (specFile) {
        // The spec's own text says which it is: manifests have a kind.
        const text = await specFile.text();
        const kind = /^\s*(apiVersion|kind)\s*:/m.test(text) ? 'k8s' : 'compose';
        Object.assign(options, { [kind]: text, specName: specFile.name });
        if (dotenvFile) options.dotenv = await dotenvFile.text();
        source = archives;
      } else if (archives.length === 0) {
        throw Object.assign(new Error('no archive was given'), { code: 'E_USAGE' });
      }
      const { report, json, sarif } = await analyzeWithOutputs(source, options);
      const fileName = archives.length === 1 && !specFile ? archives[0].name : label;
      if (controller === mine) showReport(report, { fileName, json, sarif });
    } catch (err) {
      if (controller === mine) showError(err);
    } finally {
      finish(mine);
    }
  }

  /**
   * Shows the JSON report at `url` (the CLI's `--format json`, made in CI),
   * fetched from the page's own origin and checked first (report-url.js);
   * resolves when shown.
   */
  async function loadReport(url) {
    const mine = start('Loading', url, '');
    try {
      const { fetchReport } = await import('./report-url.js');
      const fetched = await fetchReport(url, { signal: mine.signal });
      const fileName = new URL(fetched.url).pathname.split('/').pop();
      if (controller === mine) showReport(fetched.report, { fileName, json: fetched.text });
    } catch (err) {
      if (controller === mine) showError(err);
    } finally {
      finish(mine);
    }
  }

  async function loadSample() {
    // A JS module, not fetch(): the page's CSP allows no connections.
    const { name, base64 } = await import('./generated/sample.js');
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return analyzeFile(new File([bytes], name, { type: 'application/gzip' }));
  }

  chooseButton.onclick = () => input.click();
  input.onchange = () => {
    if (input.files.length > 0) analyzeFiles(input.files);
    input.value = '';
  };
  sampleButton.onclick = () => loadSample();
  cancelButton.onclick = () => {
    if (controller) controller.abort();
    chooseButton.focus();
  };

  // Drag and drop: the highlight follows enter/leave pairs (they nest).
  let depth = 0;
  const highlight = (on) => drop.classList.toggle('rc-dragging', on);
  const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
  dropTarget.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth++;
    highlight(true);
  });
  dropTarget.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) highlight(false);
  });
  dropTarget.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    // Without this the browser would open the file instead.
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  dropTarget.addEventListener('drop', (e) => {
    const files = e.dataTransfer && e.dataTransfer.files;
    if (!files || files.length === 0) return;
    e.preventDefault();
    depth = 0;
    highlight(false);
    analyzeFiles(files);
  });

  return {
    analyzeFile,
    analyzeFiles,
    loadSample,
    loadReport,
    cancel: () => controller && controller.abort(),
    // As the API's maxDecompressed (bytes, or 'none'), for the files analysed next.
    setMaxDecompressed: (value) => {
      maxDecompressed = value;
    },
  };
}
