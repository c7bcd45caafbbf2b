// Browser entry point (also the bundler one): the archive is analysed in a
// Web Worker (worker.js, beside this file), which reads a File/Blob in big
// blocks (FileReaderSync, streams), so the page never holds the whole archive
// and the main thread stays free. Aborting terminates the worker.

const VERSION = '%VERSION%';

function codedError(data) {
  const err = new Error(data.message);
  err.code = data.code;
  if (data.entry !== undefined) err.entry = data.entry;
  if (data.offset !== undefined) err.offset = data.offset;
  // Where a spec does not read (E_BAD_SPEC).
  for (const key of ['file', 'line', 'column']) if (data[key] !== undefined) err[key] = data[key];
  return err;
}

function abortReason(signal) {
  return signal.reason !== undefined
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}

// The run spec of the options (how the images will run): `run` (docker run
// options), `compose` or `k8s` (the file's text); null without one.
const SPEC_KINDS = ['run', 'compose', 'k8s'];
function specOf(options) {
  const given = SPEC_KINDS.filter((k) => options[k] !== undefined && options[k] !== null);
  if (given.length === 0) return null;
  if (given.length > 1) throw codedError({ code: 'E_USAGE', message: `give one of run, compose and k8s, not ${given.join(' and ')}` });
  const [kind] = given;
  const { specName, env, dotenv } = options;
  if (typeof options[kind] !== 'string') throw codedError({ code: 'E_USAGE', message: `${kind} takes the spec's text` });
  if (dotenv !== undefined && typeof dotenv !== 'string') throw codedError({ code: 'E_USAGE', message: 'dotenv takes the text of a .env file' });
  // A page has no process environment: only what `env` gives.
  const vars = {};
  for (const [k, v] of Object.entries(env || {})) if (typeof v === 'string') vars[k] = v;
  return { kind, text: options[kind], file: specName, env: vars, dotenv };
}

const isInput = (s) => s instanceof Blob || s instanceof Uint8Array;

// Runs one analysis in a fresh worker; resolves with the worker's message
// ({ json, sarif }: the rendered reports as strings).
function run(source, options = {}, outputs) {
  const { onProgress, signal, blockSize, ignore, verify, parallelMinBytes, gunzipMinBytes } = options;
  let { maxDecompressed } = options;
  if (signal && signal.aborted) return Promise.reject(abortReason(signal));
  let spec;
  try {
    spec = specOf(options);
  } catch (err) {
    return Promise.reject(err);
  }
  // With a spec: several archives (an array), held together against it.
  const many = spec !== null && (Array.isArray(source) || source === undefined || source === null);
  if (many) {
    const sources = (source || []).map((s) => (s instanceof ArrayBuffer ? new Uint8Array(s) : s));
    if (!sources.every(isInput)) {
      return Promise.reject(codedError({ code: 'E_USAGE', message: 'with a spec, analyze() takes Files, Blobs, Uint8Arrays or ArrayBuffers, or an array of them' }));
    }
    return start({ sources, names: sources.map((s, i) => s.name || `source ${i + 1}`) });
  }
  if (typeof source === 'string') {
    // A registry, a daemon or a layout directory: Node only. A page may not
    // read another origin's answers unless it sends CORS headers, which
    // registries do not, and this package reads only what it is handed.
    return Promise.reject(
      codedError({
        code: 'E_NETWORK',
        message:
          'images named by reference (registries, docker-daemon:, oci:) cannot be read in a browser: registries send no CORS headers, and in a page this package reads only local files (File, Blob, bytes); use the Node package or the CLI',
      }),
    );
  }
  if (source instanceof ArrayBuffer) source = new Uint8Array(source);
  if (!isInput(source)) {
    return Promise.reject(
      codedError({ code: 'E_USAGE', message: 'analyze() takes a File, a Blob, a Uint8Array or an ArrayBuffer' }),
    );
  }
  return start({ source, names: [source.name || 'source 1'] });

  // Runs the analysis in a fresh worker: `what` is { source } or { sources }, with `names`.
  function start(what) {
    // The decompression budget as the wasm takes it: Infinity for 'none'.
    if (maxDecompressed === 'none') maxDecompressed = Infinity;
    else if (maxDecompressed !== undefined && typeof maxDecompressed !== 'number') {
      return Promise.reject(codedError({ code: 'E_USAGE', message: "maxDecompressed must be a number of bytes or 'none'" }));
    }
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        finish();
        reject(abortReason(signal));
      };
      const finish = () => {
        worker.terminate();
        if (signal) signal.removeEventListener('abort', onAbort);
      };
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
      worker.onmessage = ({ data }) => {
        if (data.type === 'progress') {
          if (onProgress) onProgress(data.progress);
          return;
        }
        finish();
        if (data.type === 'report') resolve(data);
        else reject(codedError(data.error));
      };
      worker.onerror = (event) => {
        finish();
        reject(codedError({ code: 'E_INTERNAL', message: `the analysis worker failed: ${event.message}` }));
      };
      worker.postMessage({
        ...what,
        spec,
        blockSize,
        ignore,
        verify,
        maxDecompressed,
        outputs,
        parallelMinBytes,
        gunzipMinBytes,
        progress: typeof onProgress === 'function',
      });
    });
  }
}

/** Analyse an image archive: resolves with the report (see index.d.ts). */
export function analyze(source, options) {
  return run(source, options, false).then((data) => JSON.parse(data.json));
}

/** The same analysis; resolves with the report and its JSON and SARIF texts
 * (what a page offers as downloads). */
export function analyzeWithOutputs(source, options) {
  return run(source, options, true).then(({ json, sarif }) => ({ report: JSON.parse(json), json, sarif }));
}

/** The version of the analysis (the Rust crate's). */
export function version() {
  return VERSION;
}
