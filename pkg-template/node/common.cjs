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

// A wasm.LayerScan of the layer {name, offset, size, allowance, digest,
// pathKey} (see scanLayer), read `blockSize` bytes at a time.
function newLayerScan(wasm, { name, offset, size, allowance, digest, pathKey }, blockSize) {
  const scan = new wasm.LayerScan(name, offset, size, blockSize, allowance, digest);
  if (pathKey) scan.setPathKey(pathKey);
  return scan;
}

// Summarise the deferred layer {name, offset, size, allowance, digest} in
// one go: reads here never wait (never return -1), so the wasm's LayerScan
// needs one step. `allowance`: what its decoder may give (the decompression
// budget left, Pending.budgetLeft()); `digest`: Pending.deferredLayers()'s
// flag; `pathKey`: Pending.pathKey(), so that plain files are kept as hashes
// of their paths. Returns the summary's bytes for Pending.addLayer; or,
// given `pending` (a wasm.Pending of this thread), puts the summary straight
// into it (LayerScan.resumeInto: encoding it, copying it out and decoding it
// again would take three times its memory) and returns undefined.
function scanLayer(wasm, read, layer, blockSize, pending) {
  const { name } = layer;
  const scan = newLayerScan(wasm, layer, blockSize);
  try {
    const summary = pending ? scan.resumeInto(read, pending, name) : scan.resume(read);
    if (pending ? summary !== undefined : !(summary instanceof Uint8Array)) {
      throw codedError('E_INTERNAL', 'a layer scan stopped half-way');
    }
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

// Text as Rust's `str::escape_debug` writes it, which the native CLI's error
// lines use for their messages and entries: quotes, backslashes and
// control or invisible characters escaped.
function escapeDebug(text) {
  let out = '';
  for (const ch of String(text)) {
    const cp = ch.codePointAt(0);
    if (ch === '\\' || ch === '"' || ch === "'") out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\0') out += '\\0';
    else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp === 0xad || (cp >= 0x200b && cp <= 0x200f) ||
      (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) || cp === 0xfeff) {
      out += `\\u{${cp.toString(16)}}`;
    } else out += ch;
  }
  return out;
}

// An error made on the JS side as the Rust side makes them: the message as
// the native CLI's line has it after `CODE: ` (escaped, with the entry).
function sourceError(code, message, entry) {
  const suffix = entry === undefined ? '' : ` (entry "${escapeDebug(entry)}")`;
  const err = codedError(code, `${escapeDebug(message)}${suffix}`);
  if (entry !== undefined) err.entry = entry;
  return err;
}

// The error with the entry it is about, as Rust's `with_entry` adds it (an
// error that names one already keeps it).
function withEntry(err, entry) {
  if (!err || typeof err.code !== 'string' || !err.code.startsWith('E_') || err.entry !== undefined) return err;
  err.message = `${err.message} (entry "${escapeDebug(entry)}")`;
  err.entry = entry;
  return err;
}

// An fs or socket error as Rust's io::Error prints it: "No such file or
// directory (os error 2)", so that messages read as the native CLI's.
const OS_MESSAGES = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ETIMEDOUT: 'Connection timed out',
  EPIPE: 'Broken pipe',
  EMFILE: 'Too many open files',
  ENAMETOOLONG: 'File name too long',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EADDRNOTAVAIL: 'Cannot assign requested address',
};
function ioMessage(err) {
  if (err && typeof err.errno === 'number' && typeof err.code === 'string' && OS_MESSAGES[err.code]) {
    return `${OS_MESSAGES[err.code]} (os error ${Math.abs(err.errno)})`;
  }
  return (err && err.message) || String(err);
}

// Wait `ms`, or reject when the signal aborts first.
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

module.exports = {
  codedError,
  normalizeError,
  abortReason,
  checkAborted,
  readInto,
  layerName,
  newLayerScan,
  scanLayer,
  escapeDebug,
  sourceError,
  withEntry,
  ioMessage,
  sleep,
  budgetOption,
};
