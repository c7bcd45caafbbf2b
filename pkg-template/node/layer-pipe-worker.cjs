'use strict';
// The worker thread of layer-pipe.cjs: walks one layer with wasm.LayerScan,
// reading its bytes from the shared ring as they come.

const { parentPort, workerData } = require('node:worker_threads');
const wasm = require('./rootless_check.js');
const { codedError, normalizeError, newLayerScan } = require('./common.cjs');
const { RingReader, RingFailed } = require('./ring.cjs');

const { shared, name, size, blockSize, allowance, pathKey } = workerData;
// The writer ends or fails the ring itself; this only guards against a
// writer that is gone without a word.
const STALL_MS = 10 * 60 * 1000;
const reader = new RingReader(shared, STALL_MS);

let at = 0;
// Fill `into` (a view of the wasm's memory) from `offset`: the whole length
// unless the layer ends first. The decoder may skip ahead (skippable frames).
function read(offset, length, layer, into) {
  if (offset < at) throw codedError('E_INTERNAL', `a piped layer cannot be read again at offset ${offset}`);
  while (at < offset) {
    const n = reader.take(offset - at, null);
    if (n === 0) return 0;
    at += n;
  }
  let done = 0;
  while (done < length) {
    const n = reader.take(length - done, into.subarray(done));
    if (n === 0) break;
    done += n;
  }
  at += done;
  return done;
}

try {
  const scan = newLayerScan(wasm, { name, offset: 0, size, allowance, pathKey }, blockSize);
  let summary;
  try {
    summary = scan.resume(read);
  } finally {
    scan.free();
  }
  if (!(summary instanceof Uint8Array)) throw codedError('E_INTERNAL', 'a piped layer scan stopped half-way');
  parentPort.postMessage({ type: 'summary', summary }, [summary.buffer]);
} catch (err) {
  if (err instanceof RingFailed) {
    // The stream failed: the main thread has the error.
    parentPort.postMessage({ type: 'error', code: 'E_NETWORK', message: 'the layer stream stopped' });
  } else {
    const e = normalizeError(err);
    parentPort.postMessage({ type: 'error', code: e.code, message: e.message });
  }
}
