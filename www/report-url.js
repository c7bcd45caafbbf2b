// A JSON report made elsewhere (the CLI's `--format json`, e.g. in CI),
// fetched for the widget's `report="URL"` attribute. Only from the page's own
// origin: a URL of another origin is refused before any request, and the
// request itself is made with mode 'same-origin', so a redirect to another
// origin fails too. What arrives is untrusted: it must parse as JSON and
// match the report's JSON Schema (schemaVersion 1) before it is rendered,
// and then only as text (report-view.js).

import schema from './generated/report-schema.js';
import { validate } from './json-schema.js';

// A report of thousands of findings is a few MB; past this it is not one.
const MAX_BYTES = 32 * 1024 * 1024;

function fail(code, message) {
  return Object.assign(new Error(message), { code });
}

/**
 * Fetches and checks the report at `url` (relative to `base`). Resolves with
 * `{ report, text, url }` (text: the JSON as fetched, for the download);
 * rejects with an Error whose `code` is E_REPORT_ORIGIN, E_REPORT_FETCH or
 * E_REPORT_BAD.
 */
export async function fetchReport(url, { base = document.baseURI, signal } = {}) {
  let resolved;
  try {
    resolved = new URL(url, base);
  } catch {
    throw fail('E_REPORT_FETCH', `${JSON.stringify(url)} is not a URL`);
  }
  if (resolved.origin !== location.origin) {
    throw fail('E_REPORT_ORIGIN', `${resolved.href} is not on this page's origin (${location.origin})`);
  }
  let response;
  try {
    response = await fetch(resolved, { mode: 'same-origin', credentials: 'same-origin', signal });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw fail('E_REPORT_FETCH', `${resolved.href}: ${err && err.message ? err.message : err}`);
  }
  if (!response.ok) throw fail('E_REPORT_FETCH', `${resolved.href}: HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_BYTES) throw fail('E_REPORT_BAD', `${resolved.href} is over ${MAX_BYTES} bytes`);
  let report;
  try {
    report = JSON.parse(text);
  } catch (err) {
    throw fail('E_REPORT_BAD', `${resolved.href} is not JSON (${err.message})`);
  }
  const version = report && typeof report === 'object' ? report.schemaVersion : undefined;
  if (version !== 1) {
    throw fail('E_REPORT_BAD', `schemaVersion is ${JSON.stringify(version) ?? 'missing'}, this page reads 1`);
  }
  const problems = validate(schema, report);
  if (problems.length > 0) throw fail('E_REPORT_BAD', `not a report of schemaVersion 1: ${problems.join('; ')}`);
  return { report, text, url: resolved.href };
}
