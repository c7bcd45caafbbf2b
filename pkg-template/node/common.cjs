'use strict';
// Helpers shared by the Node entry (core.cjs) and the layer workers.

const fs = require('node:fs');

function codedError(code, message, cause) {
  const err = new Error(message, cause === undefined ? undefined : { cause });
  err.code = code;
  return err;
}

// Errors from the wasm already carry an E_ code. A trap is a bug in the
// analysis; anything else was thrown by a read callback (fs): E_IO.
function normalizeError(err) {
  if (err && typeof err.code === 'string' && err.code.startsWith('E_')) return err;
  if (err && err.name === 'AbortError') return err;
  if (err instanceof WebAssembly.RuntimeError) {
    return codedError('E_INTERNAL', `the analysis failed: ${err.message}`, err);
  }
  return codedError('E_IO', `cannot read the input: ${err && err.message}`, err);
}

function abortReason(signal) {
  return signal.reason !== undefined ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}

function checkAborted(signal) {
  if (signal && signal.aborted) throw abortReason(signal);
}

// Fill `buf` (`length` bytes) from `position` (null: the current one, for
// pipes), fewer only at the end; returns the count. A non-blocking stdin may
// say EAGAIN: wait and retry.
function readInto(fd, buf, length, position) {
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
  return done;
}

// Only a string is passed on to onProgress.
function layerName(layer) {
  return typeof layer === 'string' ? layer : undefined;
}

// Summarise the deferred layer {name, offset, size, allowance, digest} in
// one go: reads here never wait (never return -1), so the wasm's LayerScan
// needs one step. `allowance`: what its decoder may give (the decompression
// budget left, Pending.budgetLeft()); `digest`: Pending.deferredLayers()'s
// flag. Returns the summary's bytes for Pending.addLayer.
function scanLayer(wasm, read, { name, offset, size, allowance, digest }, blockSize) {
  const scan = new wasm.LayerScan(name, offset, size, blockSize, allowance, digest);
  try {
    const summary = scan.resume(read);
    if (!(summary instanceof Uint8Array)) throw codedError('E_INTERNAL', 'a layer scan stopped half-way');
    return summary;
  } finally {
    scan.free();
  }
}

// The `maxDecompressed` option as the wasm takes it: undefined for the
// default budget, Infinity for 'none', else a number of bytes (which the
// wasm checks).
function budgetOption(max) {
  if (max === undefined || typeof max === 'number') return max;
  if (max === 'none') return Infinity;
  throw codedError('E_USAGE', "maxDecompressed must be a number of bytes or 'none'");
}

module.exports = { codedError, normalizeError, abortReason, checkAborted, readInto, layerName, scanLayer, budgetOption };
