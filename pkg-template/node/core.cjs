'use strict';
// The Node side of the package, shared by index.cjs, index.mjs and cli.cjs.
// The analysis is synchronous wasm: a file is read through a callback with
// fs.readSync, one big block at a time, straight into the wasm's memory, and
// the contents of entries that do not matter are skipped without being read.
// The layers of a big uncompressed archive file are summarised in parallel
// worker threads (layer-pool.cjs).
//
// A string names a source as the native CLI reads it (source.cjs): an
// archive file, `oci:DIR[:REF]` (layout.cjs), `docker://REF` or a bare
// reference (registry.cjs), `docker-daemon:REF` (daemon.cjs).

const fs = require('node:fs');
const path = require('node:path');
const wasm = require('./rootless_check.js');
const { scanLayers, prestartWorkers, cpuCount } = require('./layer-pool.cjs');
const gunzipPipe = require('./gunzip-pipe.cjs');
const { codedError, normalizeError, checkAborted, readInto, layerName, budgetOption, ioMessage } = require('./common.cjs');
const { parseSource } = require('./source.cjs');
const { analyzeRegistry } = require('./registry.cjs');
const { analyzeLayout } = require('./layout.cjs');
const { analyzeDaemon } = require('./daemon.cjs');
const { runRemote } = require('./remote.cjs');

// 1 MiB: a block stays in the CPU's caches between the read that fills it
// and the inflater or tar walk that takes it, and a fresh block costs few
// page faults (each layer worker has its own). Measured (bench, scale 1,
// medians of 9 interleaved fresh processes, 2 CPUs, load average 3):
// `await analyze(FILE)` on W1 0.965 s against 1.029 s with 8 MiB blocks
// (CPU 1.15 s against 1.18 s), on W2 0.447 s against 0.470 s (CPU 0.56
// against 0.57).
const DEFAULT_BLOCK = 1 << 20;
// A gzip file (`docker save | gzip`) at least this big (`gunzipMinBytes`)
// is decoded on two threads when the machine has two CPUs and Node has
// zlib.crc32 (gunzip-pipe.cjs): the wasm's inflater in a worker, the CRC
// and the analysis here. Smaller ones, or without those, on the calling
// thread alone: a worker takes tens of milliseconds to start.
const GUNZIP_MIN_BYTES = gunzipPipe.available && cpuCount() >= 2 ? 32 << 20 : Infinity;

// What the wasm's reader will take the file for, from its first bytes.
function compressionOf(fd) {
  const head = Buffer.alloc(8);
  return wasm.sniffCompression(head.subarray(0, readInto(fd, head, head.length, 0)));
}

// Analyse an open file descriptor. Regular files are read at offsets (skips
// are free) and their layers summarised in parallel; pipes and character
// devices are read straight through.
async function runFd(fd, options) {
  const { onProgress, signal, blockSize = DEFAULT_BLOCK } = options;
  const max = budgetOption(options.maxDecompressed);
  const stat = fs.fstatSync(fd);
  const seekable = stat.isFile();
  const size = seekable ? stat.size : undefined;
  // A file's first bytes, read once (a pipe's cannot be read twice).
  const compression = seekable ? compressionOf(fd) : undefined;
  // With a signal, an analysis that would keep this thread busy (only an
  // uncompressed file's layers go to workers) runs in a worker thread, which
  // an abort terminates at once (remote.cjs).
  if (signal && (!seekable || options.verify || compression !== 'none')) return runRemote({ fd }, options);
  let next = 0;
  // `layer`: the archive member being read, when the reader says; `into`: a
  // view of the wasm's memory to fill.
  const read = (offset, length, layer, into) => {
    checkAborted(signal);
    if (!seekable && offset !== next) {
      // The reader never goes back; without a size it reads everything.
      throw codedError('E_INTERNAL', `a pipe cannot be read at offset ${offset}`);
    }
    const n = readInto(fd, into, length, seekable ? offset : null);
    next = offset + n;
    if (onProgress) onProgress({ bytesRead: next, totalBytes: size, layer: layerName(layer) });
    return n;
  };
  if (seekable && gunzipPipe.available && size >= (options.gunzipMinBytes ?? GUNZIP_MIN_BYTES) && compression === 'gzip') {
    const analysis = await gunzipPipe.analyzeGzipFile(wasm, fd, size, { ...options, blockSize, maxDecompressed: max });
    if (analysis) return analysis;
  }
  if (!seekable || options.verify) {
    return wasm.analyzeCallback(read, size, blockSize, Boolean(options.verify), undefined, max);
  }
  // The archive's structure first; its layers (when it is uncompressed) are
  // left to scanLayers, then handed back. The layer workers a big
  // uncompressed file will likely need start meanwhile.
  const { parallelMinBytes } = options;
  const prestarted =
    !signal && compression === 'none'
      ? prestartWorkers(fd, size, {
        progress: Boolean(onProgress),
        ...(parallelMinBytes === undefined ? {} : { minParallelBytes: parallelMinBytes }),
      })
      : null;
  let pending;
  try {
    pending = wasm.planCallback(read, size, blockSize, max);
  } catch (err) {
    if (prestarted) prestarted.stop();
    throw err;
  }
  try {
    const pathKey = pending.pathKey();
    const layers = pending
      .deferredLayers()
      .map(([name, offset, length, digest]) => ({ name, offset, size: length, digest, pathKey }));
    if (layers.length > 0) {
      // Each summary is decoded as it comes, while later layers are read.
      await scanLayers(fd, layers, {
        blockSize,
        signal,
        onProgress,
        pending,
        budgetLeft: () => pending.budgetLeft(),
        totalBytes: size,
        wasm,
        prestarted,
        ...(parallelMinBytes === undefined ? {} : { minParallelBytes: parallelMinBytes }),
      });
    }
    return pending.finish();
  } finally {
    if (prestarted) prestarted.stop();
    pending.free();
  }
}

async function runPath(path, options) {
  let fd;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    // The native CLI's wording: "cannot open PATH: reason".
    throw codedError('E_IO', `cannot open ${path}: ${err.message}`, err);
  }
  try {
    return await runFd(fd, options);
  } finally {
    fs.closeSync(fd);
  }
}

function runBytes(bytes, options) {
  const { onProgress, signal } = options;
  const verify = Boolean(options.verify);
  const max = budgetOption(options.maxDecompressed);
  // With a signal, in a worker thread, which an abort terminates at once (remote.cjs).
  if (signal) return runRemote(bytes, options);
  if (!onProgress) return wasm.analyzeBytes(bytes, verify, max);
  // Through the callback, so that progress is told.
  const read = (offset, length, layer) => {
    const view = bytes.subarray(offset, offset + length);
    if (onProgress) onProgress({ bytesRead: offset + view.length, totalBytes: bytes.length, layer: layerName(layer) });
    return view;
  };
  return wasm.analyzeCallback(read, bytes.length, 1 << 20, verify, undefined, max);
}

// The options of sources named by reference, checked as the CLI checks them.
function checkSourceOptions(options) {
  const { platform, concurrency } = options;
  if (platform !== undefined && platform !== null) {
    const parts = String(platform).split('/');
    if (!(parts.length >= 2 && parts.length <= 3 && parts.every((p) => /^[a-z0-9_-]+$/.test(p)))) {
      throw codedError(
        'E_USAGE',
        `platform takes OS/ARCH[/VARIANT] (linux/amd64, linux/arm64/v8), not ${JSON.stringify(String(platform))}`,
      );
    }
  }
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64)) {
    throw codedError('E_USAGE', `concurrency takes 1 to 64, not ${JSON.stringify(concurrency)}`);
  }
}

// Analyse a source parsed by source.cjs's parseSource; `given` is the text it
// was parsed from (the report's input.source.reference).
async function runParsed(parsed, given, options) {
  switch (parsed.type) {
    case 'oci-layout':
      return analyzeLayout(parsed.dir, parsed.name, given, options);
    case 'registry':
      return analyzeRegistry(parsed.reference, given, options);
    case 'daemon':
      // Its stream is analysed synchronously: with a signal, in a worker thread (remote.cjs).
      return options.signal ? runRemote(given, options) : analyzeDaemon(parsed.name, given, options);
    default:
      return runPath(parsed.path, options);
  }
}

// Analyse one source: resolves with the wasm Analysis (the caller frees it).
async function runOne(source, options) {
  const { signal } = options;
  checkAborted(signal);
  let analysis;
  try {
    if (typeof source === 'string') {
      checkSourceOptions(options);
      analysis = await runParsed(parseSource(source), source, options);
    } else if (source && source.parsed && typeof source.given === 'string') {
      checkSourceOptions(options);
      analysis = await runParsed(source.parsed, source.given, options);
    } else if (source instanceof URL) {
      analysis = await runPath(source, options);
    } else if (source instanceof ArrayBuffer) {
      analysis = await runBytes(new Uint8Array(source), options);
    } else if (source instanceof Uint8Array) {
      analysis = await runBytes(source, options);
    } else if (source && typeof source.fd === 'number') {
      analysis = await runFd(source.fd, options);
    } else {
      throw codedError(
        'E_USAGE',
        'analyze() takes a source (a file path, oci:DIR, docker://REF, docker-daemon:REF, a reference), a URL, a Uint8Array or an ArrayBuffer',
      );
    }
  } catch (err) {
    // An abort comes back out of the wasm as the signal's reason: pass it on as it is.
    checkAborted(signal);
    throw normalizeError(err);
  }
  if (signal && signal.aborted) analysis.free();
  checkAborted(signal);
  return analysis;
}

// ------------------------------------------------------------ run specs
// How the images will run (issue 15): `run` (docker run options), `compose`
// or `k8s` (the file's text), or `composeFile`/`k8sFile` (a path, read as the
// CLI reads it: a compose file's `.env` beside it). Read by the wasm as the
// native CLI reads them (src/analysis/spec/).
const SPEC_OPTIONS = ['run', 'compose', 'k8s', 'composeFile', 'k8sFile'];
const NO_IMAGE = 'no image to hold the runs against';

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw codedError('E_IO', `cannot read ${file}: ${ioMessage(err)}`, err);
  }
}

// The wasm Specs of `options`, or null without a spec. Throws E_BAD_SPEC
// (with file, line, column) or E_USAGE.
function readSpecs(options) {
  const given = SPEC_OPTIONS.filter((k) => options[k] !== undefined && options[k] !== null);
  if (given.length === 0) return null;
  if (given.length > 1) throw codedError('E_USAGE', `give one of ${SPEC_OPTIONS.join(', ')}, not ${given.join(' and ')}`);
  const key = given[0];
  const value = options[key];
  if (typeof value !== 'string') throw codedError('E_USAGE', `${key} takes a string`);
  const kind = { composeFile: 'compose', k8sFile: 'k8s' }[key] || key;
  const isFile = key !== kind;
  const text = isFile ? readText(value) : value;
  const name = options.specName ?? (isFile ? value : undefined);
  let { dotenv } = options;
  if (dotenv === undefined && key === 'composeFile') {
    // Compose reads `.env` beside the file; none is fine.
    try {
      dotenv = fs.readFileSync(path.join(path.dirname(value), '.env'), 'utf8');
    } catch {
      dotenv = undefined;
    }
  }
  const env = options.env === undefined ? process.env : options.env;
  return wasm.readSpecs(kind, text, name, env, dotenv);
}

// What the native CLI says of an image it could not pull.
function pullError(err) {
  return err && typeof err.code === 'string' ? `${err.code}: ${err.message}` : String(err && err.message);
}

// An image a spec names, pulled by reference as the native CLI does.
async function pull(name, options) {
  let reference;
  try {
    reference = wasm.parseReference(name);
  } catch (err) {
    throw codedError('E_USAGE', `${name}: ${err.message}`);
  }
  return analyzeRegistry(reference, name, options);
}

// How a source is named in the report's warnings: as given, else by its place.
function sourceName(source, i) {
  if (typeof source === 'string') return source;
  if (source instanceof URL) return source.href;
  if (source && typeof source.given === 'string') return source.given;
  return `source ${i + 1}`;
}

// Analyse every source into one report (the first source's `input`), pull
// the images the specs name that none holds, and hold the runs.
async function runWithSpecs(sources, specs, options) {
  let analysis = null;
  try {
    for (const [i, source] of sources.entries()) {
      const next = await runOne(source, options);
      if (analysis === null) analysis = next;
      else analysis.merge(next, sourceName(source, i));
    }
    if (analysis === null) {
      // No source: the images the specs name, each pulled once.
      const why = [];
      for (const name of specs.images()) {
        try {
          const next = await pull(name, options);
          if (analysis === null) analysis = next;
          else analysis.merge(next, name);
        } catch (err) {
          checkAborted(options.signal);
          specs.failed(name, pullError(err));
          why.push(pullError(err));
        }
      }
      if (analysis === null) {
        throw codedError('E_USAGE', `${NO_IMAGE}${why.length > 0 ? `: ${why.join('; ')}` : ''}`);
      }
    }
    // Then what pairing still lacks; each name is asked for once.
    const asked = new Set();
    for (;;) {
      const names = specs.wanted(analysis).filter((n) => !asked.has(n));
      if (names.length === 0) break;
      for (const name of names) {
        asked.add(name);
        try {
          specs.fetched(name, await pull(name, options));
        } catch (err) {
          checkAborted(options.signal);
          specs.failed(name, pullError(err));
        }
      }
    }
    analysis.holdSpecs(specs, 'not pulled');
    return analysis;
  } catch (err) {
    if (analysis !== null) analysis.free();
    throw err;
  }
}

// Analyse `source` (and hold the options' run spec against it): resolves
// with the wasm Analysis (the caller frees it). Shared by analyze() and the
// CLI, which renders it in other formats too (the CLI parses its sources
// itself and passes `{ parsed, given }`). With a spec, `source` may be an
// array of sources, or null: the images the spec names are then pulled.
async function run(source, options = {}) {
  let specs;
  try {
    specs = readSpecs(options);
  } catch (err) {
    throw normalizeError(err);
  }
  if (specs === null) return runOne(source, options);
  try {
    const sources = source === undefined || source === null ? [] : Array.isArray(source) ? source : [source];
    return await runWithSpecs(sources, specs, options);
  } finally {
    specs.free();
  }
}

/** Analyse an image archive: resolves with the report (see index.d.ts). */
async function analyze(source, options = {}) {
  const analysis = await run(source, options);
  try {
    if (options.ignore && options.ignore.length > 0) analysis.applyIgnores(options.ignore, undefined);
    return JSON.parse(analysis.json());
  } finally {
    analysis.free();
  }
}

/** The same analysis; resolves with the report and its JSON and SARIF texts. */
async function analyzeWithOutputs(source, options = {}) {
  const analysis = await run(source, options);
  try {
    if (options.ignore && options.ignore.length > 0) analysis.applyIgnores(options.ignore, undefined);
    const json = analysis.json();
    return { report: JSON.parse(json), json, sarif: analysis.sarif() };
  } finally {
    analysis.free();
  }
}

/**
 * Analyse and render as the CLI does: resolves with `{ report, verdicts,
 * output, sarif, markdown, status, messages }`: `output` in
 * `options.format` (default "text", without colour), `status` the CLI's exit
 * status for `options.failOn` (default "high"), `messages` what the CLI says
 * on stderr after the report. Used by the GitHub Action (action/index.cjs).
 */
async function check(source, options = {}) {
  const format = options.format || 'text';
  const failOn = options.failOn || 'high';
  const analysis = await run(source, options);
  try {
    if ((options.ignore && options.ignore.length > 0) || options.ignoreFile !== undefined) {
      analysis.applyIgnores(options.ignore || [], options.ignoreFile);
    }
    const json = analysis.json();
    return {
      report: JSON.parse(json),
      verdicts: analysis.verdicts(),
      output: format === 'json' ? json : analysis.render(format, failOn),
      sarif: analysis.sarif(),
      markdown: analysis.render('markdown', failOn),
      status: analysis.exitStatus(failOn),
      messages: analysis.exitLines(failOn),
    };
  } finally {
    analysis.free();
  }
}

function version() {
  return wasm.version();
}

module.exports = { analyze, analyzeWithOutputs, check, version, run, wasm, NO_IMAGE };
