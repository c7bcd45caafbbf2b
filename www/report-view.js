// Renders a rootless-check report (schema/report.schema.json) as DOM, for
// the page and the widget. Everything that comes from the archive (file
// names, tags, history lines, env values, messages quoting them) is
// untrusted: it only ever goes into text nodes and attribute values, never
// through an HTML parser. Keep it that way: no innerHTML in this folder.

/** Builds an element: `attrs` are set as attributes (or as properties for
 * `hidden`, `onclick`…), children are nodes or strings (as text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') || key === 'hidden') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const code = (text) => h('code', {}, text);

export const VERDICT_TEXT = {
  root: 'The container starts as root (uid 0).',
  'pseudo-rootless': 'USER is not root, but the image keeps a way back to root.',
  rootless: 'A non-root USER, and no way back to root was found.',
  unknown: 'No image config (a flattened filesystem): the user the container starts as is not known.',
};

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
/** 1536 → "1.5 KiB". */
export function formatBytes(n) {
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${UNITS[i]}`;
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A clause as a sentence: its first letter upper-case, a full stop at the end. */
export function sentence(text) {
  const t = String(text).trim();
  if (!t) return t;
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

/** What a person should read for an analysis that failed (an Error from
 * analyze(): `code`, `message`, maybe `entry`). */
export function describeError(err) {
  const code = err && err.code;
  const advice = {
    E_NOT_ARCHIVE: [
      'This file is not a container image archive.',
      'Use the archive that `docker save IMAGE -o image.tar`, `podman save`, `skopeo copy … oci-archive:image.tar` ' +
        'or `docker export` writes (gzip or zstd around it is fine; decompress xz or bzip2 first).',
    ],
    E_TRUNCATED: ['The archive ends too early: it is incomplete.', 'Copy or download it again, or write it again.'],
    E_CORRUPT_TAR: ['The archive is damaged (a tar header is malformed).', 'Write the archive again.'],
    E_CORRUPT_GZIP: ['A gzip stream in the archive is damaged.', 'Write or download the archive again.'],
    E_CORRUPT_ZSTD: ['A zstd stream in the archive is damaged.', 'Write or download the archive again.'],
    E_MISSING_BLOB: ['The archive names a layer or config that is not in it.', 'Save the image again with all its layers.'],
    E_BAD_JSON: ['A manifest or config in the archive is not valid JSON.', 'The archive is damaged or hand-edited: write it again.'],
    E_UNSUPPORTED_FORMAT: [
      'This kind of archive is not supported (for example a `docker save` from before Docker 1.10).',
      'Save the image again with a current Docker, podman or skopeo.',
    ],
    E_LIMIT: ['The archive is over a safety limit (too many entries, layers or images).', ''],
    E_IO: ['The file could not be read.', 'If it changed or moved while being read, pick it again.'],
    E_INTERNAL: ['The analysis failed: this is a bug in rootless-check.', 'Please report it, with the details below.'],
    // A report fetched for the widget's report="URL" (report-url.js).
    E_REPORT_FETCH: ['The report could not be loaded.', 'Check the URL in the report attribute: the JSON file must be published with this page.'],
    E_REPORT_BAD: ['The file at the report URL is not a rootless-check JSON report.',
      'Publish what `rootless-check --format json` writes, unchanged.'],
    E_REPORT_ORIGIN: ['The report must come from this page\'s own site.', 'Publish the JSON report beside the page and give its path.'],
    E_BAD_SPEC: [
      'The compose file or Kubernetes manifest could not be read.',
      'Fix it at the line given: `docker compose config` or `kubectl apply --dry-run=client -f FILE` shows the same problem.',
    ],
  }[code] || ['The analysis failed.', ''];
  return { title: advice[0], advice: advice[1], detail: err && err.message ? `${code || 'error'}: ${err.message}` : '' };
}

/** Renders `{ title, advice, detail }` from describeError. */
export function renderError(err) {
  const { title, advice, detail } = describeError(err);
  return h('div', { class: 'rc-error-body' },
    h('p', { class: 'rc-error-title' }, title),
    advice && h('p', {}, advice),
    detail && h('p', { class: 'rc-error-detail' }, 'Details: ', code(detail)),
    err && err.entry && h('p', { class: 'rc-error-detail' }, 'In the archive member ', code(err.entry)));
}

/** A fix to copy: the text in a <pre>, and a button that copies it. */
function copyBlock(label, text) {
  const pre = h('pre', { class: 'rc-copy-text', tabindex: 0 }, code(text));
  const done = h('span', { class: 'rc-copy-done', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'rc-button rc-small' }, `Copy ${label}`);
  button.onclick = async () => {
    try {
      await navigator.clipboard.writeText(text);
      done.textContent = 'Copied.';
    } catch {
      // No clipboard permission (an insecure origin, an iframe): select the
      // text so that Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(pre);
      const selection = pre.getRootNode().getSelection ? pre.getRootNode().getSelection() : window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      done.textContent = 'Selected: press Ctrl+C to copy.';
    }
    setTimeout(() => {
      done.textContent = '';
    }, 4000);
  };
  return h('div', { class: 'rc-copy' }, pre, h('div', { class: 'rc-copy-actions' }, button, done));
}

function layerLine(layer, createdBy) {
  if (layer === null || layer === undefined) return null;
  return h('p', { class: 'rc-where' },
    `Added in layer ${layer}`,
    createdBy ? [' by the step ', code(createdBy)] : ' (no Dockerfile step recorded)');
}

function renderFinding(f, heading) {
  return h('article', { class: 'rc-finding', 'data-rule': f.rule, 'data-severity': f.severity },
    h(heading, { class: 'rc-finding-title' },
      h('span', { class: 'rc-severity', 'data-severity': f.severity }, f.severity), ' ', f.title),
    h('p', {}, f.message),
    f.path !== null && h('p', { class: 'rc-path' }, 'File: ', code(f.path)),
    layerLine(f.layer, f.createdBy),
    f.evidence.length > 0 && h('ul', { class: 'rc-evidence' }, f.evidence.map((e) => h('li', {}, e))),
    f.remediation && h('div', { class: 'rc-fix' }, h('p', { class: 'rc-fix-label' }, 'Fix'), copyBlock('fix', f.remediation)),
    h('p', { class: 'rc-rule' }, 'Rule ', code(f.rule), f.escalation ? ' · a way back to root' : ''));
}

function table(caption, columns, rows) {
  return h('div', { class: 'rc-table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
      // data-label: the column's name, shown beside each cell when the rows are stacked (narrow screens);
      // plain-text cells (numbers, modes, owners, sizes) are never broken across lines.
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c, i) =>
        h('td', { 'data-label': columns[i], class: typeof c === 'string' ? 'rc-nowrap' : null }, c)))))));
}

function userSection(user, config) {
  const items = [];
  const add = (term, value) => items.push(h('dt', {}, term), h('dd', {}, value));
  if (user.configured === null) add('USER', 'no image config');
  else add('USER', user.configured === '' ? 'not set (root)' : code(user.configured));
  if (user.uid !== null) add('uid', String(user.uid) + (user.name ? ` (${user.name})` : ''));
  if (user.gid !== null) add('gid', String(user.gid) + (user.group ? ` (${user.group})` : ''));
  if (user.configured) add('numeric', user.numeric ? 'yes' : 'no: Kubernetes runAsNonRoot cannot verify a name');
  for (const p of user.problems) {
    const text = {
      userNotInPasswd: () => `the user ${p.name} is not in /etc/passwd`,
      groupNotInGroupFile: () => `the group ${p.name} is not in /etc/group`,
      noPasswdFile: () => 'the image has no /etc/passwd',
      invalidId: () => `${p.value} is not a valid id`,
    }[p.kind];
    add('problem', text ? text() : p.kind);
  }
  if (config && config.entrypoint) add('entrypoint', code(config.entrypoint.join(' ')));
  if (config && config.cmd) add('cmd', code(config.cmd.join(' ')));
  if (config && config.env.length > 0) add('env', h('ul', { class: 'rc-plain' }, config.env.map((e) => h('li', {}, code(e)))));
  return h('dl', { class: 'rc-facts' }, items);
}

function s6Section(s6) {
  if (!s6.detected) return h('p', {}, 'Not found.');
  return h('div', {},
    h('p', {}, `s6-overlay ${s6.version || (s6.major ? `v${s6.major}` : '')} found: it starts as root and drops privileges later.`),
    s6.setuidHelper && h('p', {}, 'setuid helper: ', code(s6.setuidHelper)),
    s6.evidence.length > 0 && h('ul', { class: 'rc-evidence' }, s6.evidence.map((e) => h('li', {}, e))));
}

function nnpSection(nnp) {
  return h('div', {},
    // The reason is a clause ("the start path …"): after the sentence above it starts one of its own.
    h('p', {}, h('strong', {}, nnp.compatible ? 'Works under no-new-privileges. ' : 'Breaks under no-new-privileges. '), sentence(nnp.reason)),
    nnp.breaks.length > 0 && h('p', {}, 'Needed at start, would stop working: ', nnp.breaks.map((b, i) => [i ? ', ' : '', code(b)])),
    nnp.ineffective.length > 0 &&
      h('p', {}, 'Bits or capabilities that would be ignored: ', nnp.ineffective.map((b, i) => [i ? ', ' : '', code(b)])));
}

/** One image: the verdict first, then why, then the details. */
export function renderImage(image, { compact = false, headingLevel = 2 } = {}) {
  const h2 = `h${Math.min(headingLevel, 6)}`;
  const h3 = `h${Math.min(headingLevel + 1, 6)}`;
  const name = image.tags.length > 0 ? image.tags.join(', ') : 'untagged image';
  const section = (title, ...body) => h('section', { class: 'rc-section' }, h(h2, {}, title), ...body);
  const out = h('div', { class: 'rc-image' },
    h('p', { class: 'rc-verdict', 'data-verdict': image.verdict }, image.verdict),
    h('p', { class: 'rc-verdict-text' }, VERDICT_TEXT[image.verdict] || ''),
    h('p', { class: 'rc-image-name' }, name, image.platform ? ` · ${image.platform}` : ''),
    image.partial && h('p', { class: 'rc-warning' }, 'Part of this image could not be read: the findings cover only what was.'),
    image.verdictReasons.length > 0 &&
      h('ul', { class: 'rc-reasons', 'aria-label': 'Why' }, image.verdictReasons.map((r) => h('li', {}, r))));

  out.append(section(image.findings.length > 0 ? `Findings (${image.findings.length})` : 'Findings',
    image.findings.length === 0 ? h('p', {}, 'None.') : image.findings.map((f) => renderFinding(f, h3))));
  if (compact) return out;

  out.append(section('User', userSection(image.user, image.config)));
  if (image.setuidFiles.length > 0) {
    out.append(section(`Setuid and setgid files (${image.setuidFiles.length})`,
      table('Setuid and setgid files', ['file', 'bits', 'mode', 'owner', 'layer', 'Dockerfile step'],
        image.setuidFiles.map((f) => [code(f.path), [f.setuid && 'setuid', f.setgid && 'setgid'].filter(Boolean).join(' + '),
          f.mode, `${f.uid}:${f.gid}`, String(f.layer), f.createdBy ? code(f.createdBy) : '—']))));
  }
  if (image.capabilities.length > 0) {
    out.append(section(`File capabilities (${image.capabilities.length})`,
      table('File capabilities', ['file', 'capabilities', 'owner', 'layer', 'Dockerfile step'],
        image.capabilities.map((c) => [code(c.path), code(c.text), `${c.uid}:${c.gid}`, String(c.layer),
          c.createdBy ? code(c.createdBy) : '—']))));
  }
  out.append(section('s6-overlay', s6Section(image.s6)));
  out.append(section('no-new-privileges', nnpSection(image.noNewPrivileges)));
  if (image.suppressed.length > 0) {
    out.append(section(`Accepted findings (${image.suppressed.length})`, image.suppressed.map((f) => renderFinding(f, h3))));
  }
  if (image.verification && image.verification.mismatches.length > 0) {
    out.append(section('Digest mismatches', h('p', { class: 'rc-warning' }, 'The archive was altered after it was written.')));
  }
  out.append(h('details', { class: 'rc-layers' },
    h('summary', {}, `Layers (${image.layers.length})`),
    table('Layers', ['#', 'in the archive', 'size', 'entries', 'Dockerfile step'],
      image.layers.map((l) => [String(l.index), code(l.archivePath),
        `${formatBytes(l.storedSize)}${l.compression && l.compression !== 'none' ? ` ${l.compression}` : ''}`,
        String(l.entries), l.createdBy ? code(l.createdBy) : '—']))));
  return out;
}

const OUTCOME_TEXT = {
  starts: 'starts',
  refused: 'is refused by the runtime',
  fails: 'starts, then fails',
  'not-checked': 'was not checked',
};

/** One run of a spec (a compose service, a Kubernetes container, `docker
 * run` options) as held against its image. Spec and archive text alike
 * only ever become text nodes. */
function renderRun(run, images, heading, compact) {
  const where = run.source.file !== null
    ? `${run.source.file}${run.source.line !== null ? `:${run.source.line}` : ''}`
    : null;
  const paired = run.imageIndex !== null && images[run.imageIndex];
  const id = (n, name) => (n === null ? 'unknown' : `${n}${name ? ` (${name})` : ''}`);
  const facts = h('dl', { class: 'rc-facts' },
    h('dt', {}, 'image'), h('dd', {}, run.image !== null ? code(run.image) : '—',
      paired && paired.tags.length > 0 && paired.tags[0] !== run.image ? [' · archive image ', code(paired.tags[0])] : ''),
    where && [h('dt', {}, 'spec'), h('dd', {}, code(where))],
    h('dt', {}, 'uid'), h('dd', {}, id(run.user.uid, run.user.name)),
    h('dt', {}, 'gid'), h('dd', {}, id(run.user.gid, null)),
    h('dt', {}, 'Pod Security'), h('dd', {},
      run.pss.restricted ? 'restricted (and baseline)' : run.pss.baseline ? 'baseline, not restricted' : 'neither baseline nor restricted'));
  return h('article', { class: 'rc-run', 'data-outcome': run.outcome, 'data-verdict': run.verdict },
    h(heading, { class: 'rc-run-title' }, run.name, ' ',
      h('span', { class: 'rc-run-outcome', 'data-outcome': run.outcome }, OUTCOME_TEXT[run.outcome] || run.outcome)),
    // The runtime's words, line by line as it prints them.
    run.message !== null && h('pre', { class: 'rc-run-message' }, code(run.message)),
    h('p', {}, 'Verdict for this run: ', h('span', { class: 'rc-verdict-inline', 'data-verdict': run.verdict }, run.verdict)),
    run.verdictReasons.length > 0 && h('ul', { class: 'rc-reasons', 'aria-label': 'Why' }, run.verdictReasons.map((r) => h('li', {}, r))),
    facts,
    !compact && run.pss.failures.length > 0 && h('ul', { class: 'rc-evidence', 'aria-label': 'Pod Security Standards' },
      run.pss.failures.map((f) => h('li', {}, `${f.level}: ${f.control}: `, code(f.field), ` ${f.message}`))),
    run.warnings.length > 0 && h('ul', { class: 'rc-notes', 'aria-label': 'Warnings' }, run.warnings.map((w) => h('li', {}, w))),
    run.findings.map((f) => renderFinding(f, `h${Math.min(Number(heading.slice(1)) + 1, 6)}`)),
    run.fixes.length > 0 && h('div', { class: 'rc-fix' }, h('p', { class: 'rc-fix-label' }, 'Fixes for this run'),
      run.fixes.map((fix) => copyBlock('fix', fix))));
}

/** The runs of the report: how each service or container will run. */
export function renderRuns(runs, images, { compact = false, headingLevel = 2 } = {}) {
  const h2 = `h${Math.min(headingLevel, 6)}`;
  const h3 = `h${Math.min(headingLevel + 1, 6)}`;
  return h('section', { class: 'rc-section rc-runs' },
    h(h2, {}, `How it will run (${runs.length})`),
    runs.map((run) => renderRun(run, images, h3, compact)));
}

/** Tabs for several images (WAI-ARIA tabs: arrow keys move between them). */
function renderTabs(images, options) {
  const list = h('div', { class: 'rc-tabs', role: 'tablist', 'aria-label': 'Images in the archive' });
  const panels = [];
  const tabs = images.map((image, i) => {
    const tabId = nextId('rc-tab');
    const panelId = nextId('rc-panel');
    const label = image.tags.length > 0 ? image.tags[0] : `image ${i + 1}`;
    const tab = h('button', {
      type: 'button', role: 'tab', id: tabId, class: 'rc-tab', 'aria-controls': panelId,
      'aria-selected': i === 0 ? 'true' : 'false', tabindex: i === 0 ? 0 : -1, 'data-verdict': image.verdict,
    }, h('span', { class: 'rc-tab-name' }, label), ' ', h('span', { class: 'rc-tab-verdict' }, image.verdict));
    panels.push(h('div', { role: 'tabpanel', id: panelId, 'aria-labelledby': tabId, class: 'rc-panel', tabindex: 0, hidden: i !== 0 },
      renderImage(image, options)));
    return tab;
  });
  const select = (i, focus) => {
    tabs.forEach((t, j) => {
      t.setAttribute('aria-selected', String(i === j));
      t.tabIndex = i === j ? 0 : -1;
      panels[j].hidden = i !== j;
    });
    if (focus) tabs[i].focus();
  };
  tabs.forEach((tab, i) => {
    tab.onclick = () => select(i, false);
    tab.onkeydown = (e) => {
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (to === undefined) return;
      e.preventDefault();
      select((to + tabs.length) % tabs.length, true);
    };
  });
  list.append(...tabs);
  return [list, ...panels];
}

/** The JSON and SARIF reports as files to save (object URLs: no network). */
function downloads(fileName, json, sarif, urls) {
  const base = (fileName || 'image').replace(/\.(tar|tgz|tar\.gz|tar\.zst|gz|zst)$/i, '') || 'image';
  const link = (text, type, suffix, label) => {
    const url = URL.createObjectURL(new Blob([text], { type }));
    urls.push(url);
    return h('a', { class: 'rc-button rc-download', href: url, download: `${base}.rootless-check.${suffix}` }, label);
  };
  return h('p', { class: 'rc-downloads' },
    json && link(json, 'application/json', 'json', 'Download the JSON report'),
    sarif && link(sarif, 'application/sarif+json', 'sarif', 'Download the SARIF report'));
}

/** The whole report. `urls` collects the object URLs made for downloads,
 * so that the caller revokes them when the report is replaced. */
export function renderReport(report, { fileName, json, sarif, compact = false, headingLevel = 2, urls = [] } = {}) {
  const options = { compact, headingLevel: headingLevel + 1 };
  const hx = `h${Math.min(headingLevel, 6)}`;
  const counts = report.images.reduce((m, i) => ({ ...m, [i.verdict]: (m[i.verdict] || 0) + 1 }), {});
  const out = h('div', { class: 'rc-report' },
    h(hx, { class: 'rc-report-title' }, 'Report', fileName ? [' for ', h('span', { class: 'rc-file-name' }, fileName)] : ''),
    h('p', { class: 'rc-input' },
      `${report.input.format}${report.input.compression !== 'none' ? `, ${report.input.compression}` : ''}, ` +
        `${plural(report.images.length, 'image')}` +
        (report.images.length > 1 ? ` (${Object.entries(counts).map(([v, n]) => `${n} ${v}`).join(', ')})` : '')));
  if (report.partial) {
    out.append(h('div', { class: 'rc-warning', role: 'note' },
      h('p', {}, 'Part of the archive could not be read: the findings cover only what was.'),
      h('ul', {}, report.errors.map((e) => h('li', {}, `${e.code}: ${e.message}`, e.entry ? [' (', code(e.entry), ')'] : '')))));
  }
  if (report.warnings.length > 0) {
    out.append(h('ul', { class: 'rc-notes', 'aria-label': 'Warnings' }, report.warnings.map((w) => h('li', {}, w))));
  }
  if (report.images.length === 0) out.append(h('p', {}, 'The archive holds no image.'));
  else if (report.images.length === 1) out.append(renderImage(report.images[0], options));
  else out.append(...renderTabs(report.images, options));
  if (report.runs && report.runs.length > 0) out.append(renderRuns(report.runs, report.images, { compact, headingLevel: headingLevel + 1 }));
  out.append(downloads(fileName, json, sarif, urls));
  out.append(h('p', { class: 'rc-tool' }, `rootless-check ${report.tool.version}`));
  return out;
}
