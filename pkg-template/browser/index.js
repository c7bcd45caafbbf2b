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
  return err;
}

function abortReason(signal) {
  return signal.reason !== undefined
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}

// Runs one analysis in a fresh worker; resolves with the worker's message
// ({ json, sarif }: the rendered reports as strings).
function run(source, { onProgress, signal, blockSize, ignore, verify, maxDecompressed, parallelMinBytes } = {}, outputs) {
  if (signal && signal.aborted) return Promise.reject(abortReason(signal));
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
  if (!(source instanceof Blob) && !(source instanceof Uint8Array)) {
    return Promise.reject(
      codedError({ code: 'E_USAGE', message: 'analyze() takes a File, a Blob, a Uint8Array or an ArrayBuffer' }),
    );
  }
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
      source,
      blockSize,
      ignore,
      verify,
      maxDecompressed,
      outputs,
      parallelMinBytes,
      progress: typeof onProgress === 'function',
    });
  });
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
