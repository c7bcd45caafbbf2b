// The analysis worker: one archive per worker. `./rootless_check.js` is the
// wasm-bindgen glue of this folder's target: `web` (needs its default init)
// or `bundler` (the bundler instantiates the wasm; no default export).
//
// A File is read for its structure first; the layers of a big uncompressed
// archive are then summarised in parallel by layer workers (this same
// script, started with a `load` message, then sent `layer` ones), each
// reading its own parts of the File, and handed back to this worker's wasm
// to assemble the report.

// FileReaderSync blocks: the archive's structure, a file gzipped or
// zstd-compressed as a whole (read through, start to end), zstd layers. Each
// call costs about a millisecond, so blocks are big; but each is a fresh
// ArrayBuffer that Blink holds until a full garbage collection, and V8
// let 180-260 MB of them pile up dead on W3 (detaching each with
// transfer(0) after the copy made it worse: 37 dead 16 MiB blocks at the
// peak instead of 16, as V8 no longer counted them). A
// stream cannot serve these reads: the wasm pulls them synchronously, and a
// worker can only wait for a stream with SharedArrayBuffer (cross-origin
// isolated pages). Measured with bench/browser.mjs on the 928 MB gzipped
// docker save (W3; 2 busy CPUs, three interleaved rounds, medians): 8 MiB
// blocks +282 MB of Chromium PSS above idle (at the peak ~22 dead blocks,
// 176 MB) and 3.76 s, against +358 MB and 3.66 s with 16 MiB (16 dead
// blocks, 256 MB); 4 MiB saved no more (+270 MB) and was slower (3.92 s).
// (With layers read by FileReaderSync too, 16 MiB had beaten 8 on the
// uncompressed docker save, W2; layers are now streamed.)
const DEFAULT_BLOCK = 8 << 20;
// Below this many bytes of layers, starting workers costs more than it saves.
const PARALLEL_MIN_BYTES = 32 << 20;
// The glue is imported dynamically, so that onmessage is set as soon as the
// script runs. Imported statically, the `bundler` glue (which imports the
// .wasm) makes this whole module wait for the wasm in a bundler (webpack's
// async modules), and the message the page posts meanwhile finds no handler
// and is lost: the analysis never starts. Reading `default` off the dynamic
// import's namespace is also what webpack accepts for the bundler glue,
// which has no default export (a static `wasm.default` fails its build).
let wasm;
// The compiled module (web target): compiled once, by the analysis worker,
// and handed to its layer workers, which then only instantiate it. Each
// compiling it again took hundreds of milliseconds on 2 busy CPUs, while
// the layers waited.
let wasmModule;
let loading;
// `specs`: the build with the run specs' reader (../web-specs/, the `specs`
// feature), fetched only when a spec is given: the first load stays within
// its size budget. One worker uses one build, and its layer workers too.
// Literal paths, so that bundlers find both.
function load(module, specs = false) {
  loading ??= (specs ? import('../web-specs/rootless_check.js') : import('./rootless_check.js')).then(async (glue) => {
    if (typeof glue.default === 'function') {
      if (module === undefined) {
        const url = specs
          ? new URL('../web-specs/rootless_check_bg.wasm', import.meta.url)
          : new URL('./rootless_check_bg.wasm', import.meta.url);
        const response = await fetch(url);
        if (!response.ok) throw new Error(`${response.status} ${response.statusText} fetching the .wasm`);
        module = await WebAssembly.compile(await response.arrayBuffer());
      }
      await glue.default({ module_or_path: module });
      wasmModule = module;
    }
    wasm = glue;
  });
  return loading;
}
let usesSpecs = false;

function errorData(err) {
  if (err && typeof err.code === 'string' && err.code.startsWith('E_')) {
    const { code, message, entry, offset, file, line, column } = err;
    return { code, message, entry, offset, file, line, column };
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

// `read(offset, length, layer, into)` for the wasm over a Blob: one
// FileReaderSync call per block (each costs about a millisecond), copied
// straight into the wasm's memory. `onRead(end, count, layer)` follows it.
function blobReader(blob, onRead) {
  const reader = new FileReaderSync();
  return (offset, length, layer, into) => {
    const bytes = new Uint8Array(reader.readAsArrayBuffer(blob.slice(offset, offset + length)));
    into.set(bytes);
    onRead(offset + bytes.length, bytes.length, layerName(layer));
    return bytes.length;
  };
}

// Streams read a File several times faster than FileReaderSync (about
// 1 GB/s against 400-560 MB/s in four workers on 2 CPUs, bench/browser-read.mjs),
// but only asynchronously. A layer is therefore summarised in steps
// (wasm.LayerScan): the stream fills a window of the layer, the wasm walks
// it (gunzipping a gzip layer as it goes) until it needs bytes beyond, and
// says from where to go on.
// Bytes gathered before each step (at most blockSize). 1 MiB: the window
// stays in the caches between the stream's copy and the wasm's. Measured
// with bench/browser.mjs (scale 1, 2 busy CPUs, medians of 5, three
// interleaved rounds): 1.26, 1.25 and 1.29 s against 1.40, 1.39 and 1.36 s
// with 4 MiB on the OCI archive of gzip layers (W1); 1.25, 1.38 and 1.27 s
// against 1.09, 1.45 and 1.25 s on the docker save (W2).
const STREAM_WINDOW = 1 << 20;

// Summarise the layer {name, offset, size} of `blob` (uncompressed or gzip)
// through streams; resolves with the summary's bytes. `onRead(count, layer)`
// follows the reading.
async function scanLayerStreamed(blob, { name, offset, size, allowance }, blockSize, onRead) {
  const end = offset + size;
  const window = Math.max(64 << 10, Math.min(blockSize, STREAM_WINDOW));
  // A gap (a big file's content skipped) up to this long is read through;
  // after a longer one a new stream starts where the walk goes on (each
  // start costs about a millisecond, as a FileReaderSync call).
  const readThrough = window / 4;
  let buffer = new ArrayBuffer(window);
  // The window: bytes [start, start + length) of the blob, at buffer[0..length).
  let start = offset;
  let length = 0;
  let reader = null;
  let streamAt = offset; // the blob offset of the stream's next byte
  let ended = false;
  const open = (at) => {
    if (reader) reader.cancel().catch(() => {});
    reader = blob.slice(at, end).stream().getReader({ mode: 'byob' });
    streamAt = at;
    ended = at >= end;
  };
  // Read from the stream into buffer[from..to); resolves with the count.
  const pull = async (from, to) => {
    const { done, value } = await reader.read(new Uint8Array(buffer, from, to - from));
    if (done) {
      ended = true;
      if (value) buffer = value.buffer;
      return 0;
    }
    buffer = value.buffer; // the read moved the buffer into a new ArrayBuffer
    streamAt += value.length;
    onRead(value.length, name);
    return value.length;
  };
  // Make the window start at `at`, keeping what it holds from there on, and
  // fill it.
  const fill = async (at) => {
    const kept = at >= start && at < start + length ? start + length - at : 0;
    const bytes = new Uint8Array(buffer);
    if (kept > 0) bytes.copyWithin(0, at - start, start + length);
    start = at;
    length = kept;
    // An entry bigger than half the window (long extension headers, a
    // captured file): a bigger window, so that the walk gets past it.
    if (kept > buffer.byteLength / 2) {
      const bigger = new Uint8Array(buffer.byteLength * 2);
      bigger.set(bytes.subarray(0, kept));
      buffer = bigger.buffer;
    }
    // The stream goes on from the window's end (kept bytes came from it),
    // or the walk skipped past it: read the gap through, or start anew.
    const next = start + length;
    if (reader === null || next < streamAt || next - streamAt > readThrough) {
      open(next);
    } else {
      while (streamAt < next && !ended) await pull(0, Math.min(buffer.byteLength, next - streamAt));
    }
    while (length < buffer.byteLength && !ended) length += await pull(length, buffer.byteLength);
  };
  const read = (at, want, layer, into) => {
    const rel = at - start;
    if (rel < 0) throw Object.assign(new Error('a layer step read before its window'), { code: 'E_INTERNAL' });
    if (rel < length) {
      const n = Math.min(want, length - rel);
      into.set(new Uint8Array(buffer, rel, n));
      return n;
    }
    return at >= end || ended ? 0 : -1;
  };
  const scan = new wasm.LayerScan(name, offset, size, window, allowance, false);
  try {
    let step = scan.resume(read);
    for (; typeof step === 'number'; step = scan.resume(read)) await fill(step);
    return step;
  } finally {
    scan.free();
    if (reader) reader.cancel().catch(() => {});
  }
}

// Summarise one layer of `blob`: through streams when it is uncompressed or
// gzip, else (zstd, or a compressed layer to digest) with FileReaderSync in
// `blockSize` blocks (that decompressor pulls its input; it cannot wait for
// a stream). `layer.allowance`: what its decoder may give (the budget left).
async function scanLayer(blob, layer, blockSize, onRead) {
  const head = new Uint8Array(await blob.slice(layer.offset, layer.offset + 8).arrayBuffer());
  const compression = wasm.sniffCompression(head);
  if (compression === 'none' || (compression === 'gzip' && !layer.digest)) {
    return scanLayerStreamed(blob, layer, blockSize, onRead);
  }
  const scan = new wasm.LayerScan(layer.name, layer.offset, layer.size, blockSize, layer.allowance, layer.digest);
  try {
    return scan.resume(blobReader(blob, (end, n, name) => onRead(n, name)));
  } finally {
    scan.free();
  }
}

// Summarise `layers` ({name, offset, size, digest}) of `blob`: in layer
// workers when they are big and there are CPUs to spare, else here. Each
// summary goes to `onSummary(name, summary)` as soon as it is made (decoded
// here while the layer workers read on); resolves when all have. Each layer
// may decode what `budgetLeft()` gives when it starts.
function scanLayers(blob, layers, blockSize, minParallelBytes, onBytes, onSummary, budgetLeft) {
  const total = layers.reduce((sum, l) => sum + l.size, 0);
  // Twice as many workers as CPUs: a worker waiting for its reads (the
  // browser process does the reading) leaves its CPU to another. Measured
  // with bench/browser.mjs on 2 CPUs (16 MiB blocks, medians of 3, two
  // rounds), 4 workers against 2: 2.35 and 2.01 s against 2.41 and 2.16 s on
  // the OCI archive of gzip layers, 2.41 and 2.36 s against 2.56 and 2.57 s
  // on the docker save. Each worker costs its own wasm memory (~40 MB).
  const count = Math.min(2 * (navigator.hardwareConcurrency || 1), layers.length, 8);
  if (count < 2 || total < minParallelBytes) {
    return (async () => {
      for (const layer of layers) {
        onSummary(layer.name, await scanLayer(blob, { ...layer, allowance: budgetLeft() }, blockSize, onBytes));
      }
    })();
  }
  const queue = [...layers].sort((a, b) => b.size - a.size);
  let summaries = 0;
  const workers = [];
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err) => {
      if (settled) return;
      settled = true;
      for (const w of workers) w.terminate();
      if (err) reject(err);
      else resolve();
    };
    const feed = (worker) => {
      const job = queue.shift();
      if (job) worker.postMessage({ type: 'layer', blob, blockSize, ...job, allowance: budgetLeft() });
    };
    for (let i = 0; i < count; i++) {
      const worker = new Worker(new URL(import.meta.url), { type: 'module' });
      workers.push(worker);
      // The compiled module, when there is one (see load()).
      worker.postMessage({ type: 'load', module: wasmModule, specs: usesSpecs });
      worker.onmessage = ({ data: msg }) => {
        if (settled) return; // sent before the worker was stopped
        if (msg.type === 'layer-progress') {
          onBytes(msg.bytes, layerName(msg.layer));
        } else if (msg.type === 'summary') {
          // The next layer first: this worker reads on while it is decoded.
          feed(worker);
          try {
            onSummary(msg.name, msg.summary);
          } catch (err) {
            finish(err);
            return;
          }
          if (++summaries === layers.length) finish();
        } else if (msg.type === 'error') {
          finish(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
        }
      };
      worker.onerror = (event) => {
        event.preventDefault();
        finish(Object.assign(new Error(`a layer worker failed: ${event.message}`), { code: 'E_INTERNAL' }));
      };
      feed(worker);
    }
  });
}

// A layer worker: summarise one layer of the Blob it is sent.
async function scanOneLayer({ blob, name, offset, size, allowance, digest, blockSize }) {
  try {
    await load(undefined, usesSpecs);
    const summary = await scanLayer(blob, { name, offset, size, allowance, digest }, blockSize, (bytes, layer) =>
      self.postMessage({ type: 'layer-progress', bytes, layer }));
    self.postMessage({ type: 'summary', name, summary }, [summary.buffer]);
  } catch (err) {
    self.postMessage({ type: 'error', error: errorData(err) });
  }
}

self.onmessage = async ({ data }) => {
  if (data.type === 'load') {
    // A layer worker: its first message. A failure shows at the first layer.
    usesSpecs = Boolean(data.specs);
    load(data.module, usesSpecs).catch(() => {});
    return;
  }
  if (data.type === 'layer') {
    await scanOneLayer(data);
    return;
  }
  const { blockSize = DEFAULT_BLOCK, progress, ignore, verify = false, outputs = false, spec } = data;
  // One source, or several held together against a spec (`names`: how each
  // is called in the report's warnings).
  const sources = data.sources || [data.source];
  const names = data.names || [];
  // The decompression budget: undefined (the default), Infinity (none) or bytes.
  const max = data.maxDecompressed;
  // Tests lower the threshold to run the layer workers on small archives.
  const { parallelMinBytes = PARALLEL_MIN_BYTES } = data;
  usesSpecs = Boolean(spec);
  try {
    await load(undefined, usesSpecs);
  } catch (err) {
    self.postMessage({ type: 'error', error: { code: 'E_INTERNAL', message: `cannot load the wasm: ${err && err.message}` } });
    return;
  }
  let specs = null;
  let analysis = null;
  try {
    // The spec first: a mistake in it shows before any archive is read.
    if (spec) specs = wasm.readSpecs(spec.kind, spec.text, spec.file, spec.env || {}, spec.dotenv);
    const totalBytes = sources.reduce((sum, s) => sum + (s.size ?? s.length), 0);
    let before = 0;
    for (const [i, source] of sources.entries()) {
      const report = (bytesRead, layer) => {
        if (progress) self.postMessage({ type: 'progress', progress: { bytesRead: before + bytesRead, totalBytes, layer } });
      };
      const next = await analyzeOne(source, { blockSize, verify, max, parallelMinBytes, report });
      before += source.size ?? source.length;
      if (analysis === null) analysis = next;
      else analysis.merge(next, names[i] || `source ${i + 1}`);
    }
    if (specs) {
      if (analysis === null) {
        throw Object.assign(new Error('no image to hold the runs against: give the archives of the images the spec names'), { code: 'E_USAGE' });
      }
      analysis.holdSpecs(specs, 'no archive given holds this image (a page cannot pull images from a registry)');
    }
    if (ignore && ignore.length > 0) analysis.applyIgnores(ignore, undefined);
    const json = analysis.json();
    // SARIF only when asked (analyzeWithOutputs): it is as big as the JSON.
    const sarif = outputs ? analysis.sarif() : undefined;
    self.postMessage({ type: 'report', json, sarif });
  } catch (err) {
    self.postMessage({ type: 'error', error: errorData(err) });
  } finally {
    if (analysis) analysis.free();
    if (specs) specs.free();
  }
};

// Analyse one File/Blob or Uint8Array: resolves with the wasm Analysis.
// `report(bytesRead, layer)` follows the reading.
async function analyzeOne(source, { blockSize, verify, max, parallelMinBytes, report }) {
  if (!(source instanceof Blob)) {
    const analysis = wasm.analyzeBytes(source, verify, max);
    report(source.length);
    return analysis;
  }
  const read = blobReader(source, (end, n, layer) => report(end, layer));
  if (verify) return wasm.analyzeCallback(read, source.size, blockSize, verify, undefined, max);
  const pending = wasm.planCallback(read, source.size, blockSize, max);
  try {
    const layers = pending
      .deferredLayers()
      .map(([name, offset, size, digest]) => ({ name, offset, size, digest }));
    // Bytes outside the layers were read or skipped while planning.
    let done = source.size - layers.reduce((sum, l) => sum + l.size, 0);
    const onBytes = (bytes, layer) => {
      done += bytes;
      report(Math.min(done, source.size), layer);
    };
    await scanLayers(
      source,
      layers,
      blockSize,
      parallelMinBytes,
      onBytes,
      (name, summary) => pending.addLayer(name, summary),
      () => pending.budgetLeft(),
    );
    return pending.finish();
  } finally {
    pending.free();
  }
}
