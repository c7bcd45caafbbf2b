'use strict';
// The Node side of the package, shared by index.cjs, index.mjs and cli.cjs.
// The analysis is synchronous wasm: a file is read through a callback with
// fs.readSync, one big block at a time, and the contents of entries that do
// not matter are skipped without being read.

const fs = require('node:fs');
const wasm = require('./rootless_check.js');

const DEFAULT_BLOCK = 8 << 20;

function codedError(code, message, cause) {
  const err = new Error(message, cause === undefined ? undefined : { cause });
  err.code = code;
  return err;
}

// Errors from the wasm already carry an E_ code. A trap is a bug in the
// analysis; anything else was thrown by our read callback (fs): E_IO.
function normalizeError(err) {
  if (err && typeof err.code === 'string' && err.code.startsWith('E_')) return err;
  if (err && err.name === 'AbortError') return err;
  if (err instanceof WebAssembly.RuntimeError) {
    return codedError('E_INTERNAL', `the analysis failed: ${err.message}`, err);
  }
  return codedError('E_IO', `cannot read the input: ${err && err.message}`, err);
}

function checkAborted(signal) {
  if (signal && signal.aborted) {
    throw signal.reason !== undefined
      ? signal.reason
      : new DOMException('This operation was aborted', 'AbortError');
  }
}

// Read `length` bytes at `position` (null: the current one, for pipes),
// fewer only at the end. A non-blocking stdin may say EAGAIN: wait and retry.
function readFull(fd, length, position) {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    let n;
    try {
      n = fs.readSync(fd, buf, done, length - done, position === null ? null : position + done);
    } catch (err) {
      if (err.code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      throw err;
    }
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

// Only a string is passed on to onProgress.
function layerName(layer) {
  return typeof layer === 'string' ? layer : undefined;
}

// Analyse an open file descriptor. Regular files are read at offsets (skips
// are free); pipes and character devices are read straight through.
function runFd(fd, options) {
  const { onProgress, signal, blockSize = DEFAULT_BLOCK } = options;
  const stat = fs.fstatSync(fd);
  const seekable = stat.isFile();
  const size = seekable ? stat.size : undefined;
  let next = 0;
  // `layer`: the archive member being read, when the reader says.
  const read = (offset, length, layer) => {
    checkAborted(signal);
    if (!seekable && offset !== next) {
      // The reader never goes back; without a size it reads everything.
      throw codedError('E_INTERNAL', `a pipe cannot be read at offset ${offset}`);
    }
    const bytes = readFull(fd, length, seekable ? offset : null);
    next = offset + bytes.length;
    if (onProgress) onProgress({ bytesRead: next, totalBytes: size, layer: layerName(layer) });
    return bytes;
  };
  return wasm.analyzeCallback(read, size, blockSize, Boolean(options.verify));
}

function runPath(path, options) {
  let fd;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    // The native CLI's wording: "cannot open PATH: reason".
    throw codedError('E_IO', `cannot open ${path}: ${err.message}`, err);
  }
  try {
    return runFd(fd, options);
  } finally {
    fs.closeSync(fd);
  }
}

function runBytes(bytes, options) {
  const { onProgress, signal } = options;
  const verify = Boolean(options.verify);
  if (!signal && !onProgress) return wasm.analyzeBytes(bytes, verify);
  // Through the callback so that progress and abort work too.
  const read = (offset, length, layer) => {
    checkAborted(signal);
    const view = bytes.subarray(offset, offset + length);
    if (onProgress) onProgress({ bytesRead: offset + view.length, totalBytes: bytes.length, layer: layerName(layer) });
    return view;
  };
  return wasm.analyzeCallback(read, bytes.length, 1 << 20, verify);
}

// Analyse `source`: returns the wasm Analysis (the caller frees it). Shared
// by analyze() and the CLI, which renders it in other formats too.
function run(source, options = {}) {
  const { signal } = options;
  checkAborted(signal);
  let analysis;
  try {
    if (typeof source === 'string' || source instanceof URL) {
      analysis = runPath(source, options);
    } else if (source instanceof ArrayBuffer) {
      analysis = runBytes(new Uint8Array(source), options);
    } else if (source instanceof Uint8Array) {
      analysis = runBytes(source, options);
    } else if (source && typeof source.fd === 'number') {
      analysis = runFd(source.fd, options);
    } else {
      throw codedError('E_USAGE', 'analyze() takes a file path, a URL, a Uint8Array or an ArrayBuffer');
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

/** Analyse an image archive: resolves with the report (see index.d.ts). */
async function analyze(source, options = {}) {
  const analysis = run(source, options);
  try {
    if (options.ignore && options.ignore.length > 0) analysis.applyIgnores(options.ignore, undefined);
    return JSON.parse(analysis.json());
  } finally {
    analysis.free();
  }
}

/** The same analysis; resolves with the report and its JSON and SARIF texts. */
async function analyzeWithOutputs(source, options = {}) {
  const analysis = run(source, options);
  try {
    if (options.ignore && options.ignore.length > 0) analysis.applyIgnores(options.ignore, undefined);
    const json = analysis.json();
    return { report: JSON.parse(json), json, sarif: analysis.sarif() };
  } finally {
    analysis.free();
  }
}

function version() {
  return wasm.version();
}

module.exports = { analyze, analyzeWithOutputs, version, run, wasm };
