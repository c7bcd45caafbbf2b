// The analysis worker: one archive per worker. `./rootless_check.js` is the
// wasm-bindgen glue of this folder's target: `web` (needs its default init)
// or `bundler` (the bundler instantiates the wasm; no default export).
import * as wasm from './rootless_check.js';

const DEFAULT_BLOCK = 8 << 20;
const ready = typeof wasm.default === 'function' ? wasm.default() : Promise.resolve();

function errorData(err) {
  if (err && typeof err.code === 'string' && err.code.startsWith('E_')) {
    return { code: err.code, message: err.message, entry: err.entry, offset: err.offset };
  }
  if (err instanceof WebAssembly.RuntimeError) {
    return { code: 'E_INTERNAL', message: `the analysis failed: ${err.message}` };
  }
  // Thrown by FileReaderSync (a file removed or changed while being read).
  return { code: 'E_IO', message: `cannot read the input: ${err && err.message}` };
}

// Only a string is passed on: anything else the wasm might give is dropped.
function layerName(layer) {
  return typeof layer === 'string' ? layer : undefined;
}

self.onmessage = async ({ data }) => {
  const { source, blockSize = DEFAULT_BLOCK, progress, ignore, verify = false, outputs = false } = data;
  try {
    await ready;
  } catch (err) {
    self.postMessage({ type: 'error', error: { code: 'E_INTERNAL', message: `cannot load the wasm: ${err && err.message}` } });
    return;
  }
  try {
    let analysis;
    if (source instanceof Blob) {
      const reader = new FileReaderSync();
      // Synchronous reads of big slices: each call costs about a millisecond.
      // `layer`: the archive member being read, when the reader knows it.
      const read = (offset, length, layer) => {
        const bytes = new Uint8Array(reader.readAsArrayBuffer(source.slice(offset, offset + length)));
        if (progress) {
          self.postMessage({
            type: 'progress',
            progress: { bytesRead: offset + bytes.length, totalBytes: source.size, layer: layerName(layer) },
          });
        }
        return bytes;
      };
      analysis = wasm.analyzeCallback(read, source.size, blockSize, verify);
    } else {
      analysis = wasm.analyzeBytes(source, verify);
      if (progress) {
        self.postMessage({ type: 'progress', progress: { bytesRead: source.length, totalBytes: source.length } });
      }
    }
    if (ignore && ignore.length > 0) analysis.applyIgnores(ignore, undefined);
    const json = analysis.json();
    // SARIF only when asked (analyzeWithOutputs): it is as big as the JSON.
    const sarif = outputs ? analysis.sarif() : undefined;
    analysis.free();
    self.postMessage({ type: 'report', json, sarif });
  } catch (err) {
    self.postMessage({ type: 'error', error: errorData(err) });
  }
};
