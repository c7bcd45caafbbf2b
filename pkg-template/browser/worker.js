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
// A gzip file at least this big is inflated by a worker of its own while
// this one walks the decoded tar (analyzeGzipStream), where the browser has
// JSPI and two CPUs: below it, fetching and compiling the stream build (about
// 480 KiB of wasm) costs more than it saves.
const GUNZIP_MIN_BYTES = 32 << 20;
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
// Which build: 'web' (./, the first load), 'specs' (../web-specs/: with the
// run specs' reader, the `specs` feature), or 'stream' (../web-stream/: the
// specs too, and the two-worker gunzip of analyzeGzipStream below, which
// needs JSPI). The last two are fetched only when needed, so that the first
// load stays within its size budget. One worker uses one build, and the
// workers it starts too. Literal paths, so that bundlers find them all.
const GLUE = {
  web: () => import('./rootless_check.js'),
  specs: () => import('../web-specs/rootless_check.js'),
  stream: () => import('../web-stream/rootless_check.js'),
};
const WASM = {
  web: () => new URL('./rootless_check_bg.wasm', import.meta.url),
  specs: () => new URL('../web-specs/rootless_check_bg.wasm', import.meta.url),
  stream: () => new URL('../web-stream/rootless_check_bg.wasm', import.meta.url),
};
// A load that failed is forgotten, so that another build can be loaded.
function load(module, build = 'web') {
  loading ??= GLUE[build]().then(async (glue) => {
    if (typeof glue.default === 'function') {
      if (module === undefined) {
        const response = await fetch(WASM[build]());
        if (!response.ok) throw new Error(`${response.status} ${response.statusText} fetching the .wasm`);
        module = await WebAssembly.compile(await response.arrayBuffer());
      }
      await glue.default({ module_or_path: module });
      wasmModule = module;
    }
    wasm = glue;
  }).catch((err) => {
    loading = undefined;
    throw err;
  });
  return loading;
}
let build = 'web';

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
      worker.postMessage({ type: 'load', module: wasmModule, build });
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
    await load(undefined, build);
    const summary = await scanLayer(blob, { name, offset, size, allowance, digest }, blockSize, (bytes, layer) =>
      self.postMessage({ type: 'layer-progress', bytes, layer }));
    self.postMessage({ type: 'summary', name, summary }, [summary.buffer]);
  } catch (err) {
    self.postMessage({ type: 'error', error: errorData(err) });
  }
}

self.onmessage = async ({ data }) => {
  if (data.type === 'load') {
    // A layer or inflating worker: its first message. A failure shows at
    // its first task.
    build = data.build;
    load(data.module, build).catch(() => {});
    return;
  }
  if (data.type === 'inflate') {
    await inflate(data);
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
  // Tests lower the thresholds to run the workers on small archives.
  const { parallelMinBytes = PARALLEL_MIN_BYTES, gunzipMinBytes = GUNZIP_MIN_BYTES } = data;
  // A gzip file big enough for two workers, where the browser can (JSPI):
  // the stream build; else the one with the specs' reader when needed.
  const gunzipFiles = await gzipFilesFor(sources, gunzipMinBytes).catch(() => new Set());
  build = spec ? 'specs' : 'web';
  if (gunzipFiles.size > 0) {
    try {
      await load(undefined, 'stream');
      build = 'stream';
    } catch {
      // Not there (a bundler that was not told to emit web-stream/): the
      // sequential way, with the build it would have had.
      gunzipFiles.clear();
    }
  }
  try {
    await load(undefined, build);
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
      const gunzip = gunzipFiles.has(source);
      const next = await analyzeOne(source, { blockSize, verify, max, parallelMinBytes, gunzip, report });
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
async function analyzeOne(source, { blockSize, verify, max, parallelMinBytes, gunzip, report }) {
  if (!(source instanceof Blob)) {
    const analysis = wasm.analyzeBytes(source, verify, max);
    report(source.length);
    return analysis;
  }
  if (gunzip) {
    const analysis = await analyzeGzipStream(source, { blockSize, verify, max, report });
    if (analysis) return analysis;
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

// ---------------------------------------------------------------------------
// A gzip file on two workers (bench W3: `docker save | gzip`). An inflating
// worker (this script, sent an `inflate` message) reads the File through a
// stream, inflates it with the wasm's decoder (gunzipStream: zlib-rs, each
// member's CRC-32 and size checked) and posts the decoded bytes in
// transferred blocks; this worker's wasm walks them as a pipe
// (analyzeStream). Both wasms wait for bytes without blocking their threads
// through JS Promise Integration (WebAssembly.Suspending): a read or a write
// that answers with a Promise suspends the wasm until it settles. Without
// JSPI a worker could only wait with SharedArrayBuffer and Atomics.wait,
// which need a cross-origin-isolated page (COOP/COEP headers) that static
// hosts do not send.
//
// As Node's gunzip-pipe.cjs, this way is trusted only when all went well:
// the decoder ended cleanly having taken every byte of the file, and the
// report is whole (or stopped by the decompression budget alone). Otherwise
// the result is null and the caller analyses the file again with the
// sequential decoder, whose errors and partial reports are the native CLI's.

// Decoded bytes per block posted, and the blocks that may wait for the walk.
const INFLATED_BLOCK = 1 << 20;
const INFLATED_IN_FLIGHT = 8;
// Compressed bytes read from the File at a time (at most).
const INFLATE_READ = 2 << 20;

// Whether this browser can take the two-worker way: JSPI and a second CPU.
const canPipeGzip = () =>
  typeof WebAssembly.Suspending === 'function' &&
  typeof WebAssembly.promising === 'function' &&
  (navigator.hardwareConcurrency || 1) >= 2;

// The Blob sources that are gzip files of at least `minBytes` (an empty set
// where this browser cannot take that way).
async function gzipFilesFor(sources, minBytes) {
  const found = new Set();
  if (!canPipeGzip()) return found;
  for (const source of sources) {
    if (!(source instanceof Blob) || source.size < minBytes) continue;
    const head = new Uint8Array(await source.slice(0, 2).arrayBuffer());
    // gzip's magic; the wasm's sniffCompression says the same, but the
    // build is chosen before any wasm is loaded.
    if (head[0] === 0x1f && head[1] === 0x8b) found.add(source);
  }
  return found;
}

class Abandoned extends Error {}

// Analyse the gzip Blob `blob` on two workers: resolves with the wasm
// Analysis, or null (see above).
async function analyzeGzipStream(blob, { blockSize, verify, max, report }) {
  const inflater = new Worker(new URL(import.meta.url), { type: 'module' });
  inflater.postMessage({ type: 'load', module: wasmModule, build });
  // Decoded blocks received and not yet walked, the one being walked, and
  // how the inflater ended ('ended', 'failed').
  const blocks = [];
  let current = null;
  let at = 0;
  let end = null;
  let wake = null;
  inflater.onmessage = ({ data: msg }) => {
    if (msg.type === 'bytes') {
      blocks.push(msg);
      compressedRead = msg.read;
    } else {
      end = msg.type;
    }
    if (wake) wake();
  };
  inflater.onerror = (event) => {
    event.preventDefault();
    end = 'failed';
    if (wake) wake();
  };
  const arrival = () => new Promise((resolve) => { wake = resolve; });
  let next = 0;
  let compressedRead = 0;
  // Up to `length` decoded bytes into `into` (a view of the wasm's memory);
  // 0 at the end. A Promise of that while no block is there.
  const take = (length, into) => {
    if (current !== null && at === current.length) {
      // Walked: back to the inflater, to be filled again.
      inflater.postMessage({ type: 'walked', buffer: current.buffer }, [current.buffer]);
      current = null;
    }
    if (current === null && blocks.length > 0) {
      current = new Uint8Array(blocks[0].buffer, 0, blocks[0].length);
      blocks.shift();
      at = 0;
    }
    if (current !== null) {
      const n = Math.min(length, current.length - at);
      if (into) into.set(current.subarray(at, at + n));
      at += n;
      return n;
    }
    if (end === 'ended') return 0;
    if (end !== null) throw new Abandoned();
    return arrival().then(() => take(length, into));
  };
  const read = (offset, length, layer, into) => {
    if (offset !== next) throw Object.assign(new Error(`a pipe cannot be read at offset ${offset}`), { code: 'E_INTERNAL' });
    const got = take(length, into);
    const done = (n) => {
      next += n;
      report(compressedRead, layerName(layer));
      return n;
    };
    return typeof got === 'number' ? done(got) : got.then(done);
  };
  inflater.postMessage({ type: 'inflate', blob });
  let analysis = null;
  try {
    analysis = await wasm.analyzeStream(read, blockSize, Boolean(verify), blob.size, max);
    const { partial, errors, images } = JSON.parse(analysis.json());
    if (partial) {
      // Kept only when the budget stopped it (E_LIMIT), as the wasm's
      // decoder would have, at the same byte.
      if (errors.length === 0 || !errors.every((e) => e.code === 'E_LIMIT')) return null;
    } else {
      if (images.some((i) => i.verification && i.verification.some((v) => v.mismatches.length > 0))) return null;
      // The rest of the stream (after the tar's end): its end is known, and
      // so whether the decoder ended cleanly.
      for (;;) {
        const n = take(INFLATED_BLOCK, null);
        if ((typeof n === 'number' ? n : await n) === 0) break;
      }
    }
    const result = analysis;
    analysis = null;
    return result;
  } catch {
    // Anything the wasm made of the decoded bytes is judged again by the
    // sequential decoder.
    return null;
  } finally {
    if (analysis) analysis.free();
    inflater.terminate();
  }
}

// The inflating worker: inflate the gzip Blob it is sent, posting the decoded
// bytes in blocks of INFLATED_BLOCK, the compressed bytes read so far with
// each; then `ended` (a clean stream, every byte used) or `failed`.
async function inflate({ blob }) {
  let reader = null;
  try {
    await load(undefined, build);
    reader = blob.stream().getReader({ mode: 'byob' });
    // The File's bytes are read ahead: one stream read is always under way
    // while the wasm inflates what the one before gave (`chunk`).
    const spare = [new ArrayBuffer(INFLATE_READ), new ArrayBuffer(INFLATE_READ)];
    let pending = reader.read(new Uint8Array(spare.pop()));
    let chunk = null;
    let chunkAt = 0;
    let streamEnded = false;
    let read = 0;
    // Blocks walked, sent back to be filled again; the one being filled.
    const free = [];
    let inFlight = 0;
    let block = null;
    let filled = 0;
    let wake = null;
    self.onmessage = ({ data }) => {
      if (data.type !== 'walked') return;
      free.push(data.buffer);
      inFlight--;
      if (wake) wake();
    };
    const post = () => {
      self.postMessage({ type: 'bytes', buffer: block, length: filled, read }, [block]);
      inFlight++;
      block = null;
      filled = 0;
    };
    // The wasm reads the File from its start, in order: a Promise only
    // when the read under way has not given its bytes yet.
    const readStream = (offset, length, layer, into) => {
      if (chunk === null) {
        if (streamEnded) return 0;
        return pending.then(({ done, value }) => {
          if (done) {
            streamEnded = true;
            return 0;
          }
          // The read moved its buffer into `value`'s.
          chunk = value;
          chunkAt = 0;
          pending = reader.read(new Uint8Array(spare.pop()));
          return readStream(offset, length, layer, into);
        });
      }
      const n = Math.min(length, chunk.length - chunkAt);
      into.set(chunk.subarray(chunkAt, chunkAt + n));
      chunkAt += n;
      read += n;
      if (chunkAt === chunk.length) {
        spare.push(chunk.buffer);
        chunk = null;
      }
      return n;
    };
    // Copy `bytes` (a view of the wasm's memory) into blocks; a Promise
    // while too many blocks wait for the walk.
    const write = (bytes) => {
      for (let done = 0; done < bytes.length;) {
        if (block === null) {
          if (free.length === 0 && inFlight >= INFLATED_IN_FLIGHT) {
            // The view stays valid: this wasm waits, so its memory cannot grow.
            const rest = bytes.subarray(done);
            return new Promise((resolve) => { wake = resolve; }).then(() => write(rest));
          }
          block = free.pop() || new ArrayBuffer(INFLATED_BLOCK);
        }
        const n = Math.min(bytes.length - done, INFLATED_BLOCK - filled);
        new Uint8Array(block, filled, n).set(bytes.subarray(done, done + n));
        filled += n;
        done += n;
        if (filled === INFLATED_BLOCK) post();
      }
      return undefined;
    };
    const used = await wasm.gunzipStream(readStream, write);
    if (block !== null && filled > 0) post();
    self.postMessage({ type: used === blob.size ? 'ended' : 'failed' });
  } catch {
    self.postMessage({ type: 'failed' });
  } finally {
    if (reader) reader.cancel().catch(() => {});
  }
}
