'use strict';
// A worker thread of layer-pool.cjs: summarises the layers it is sent, one
// at a time, reading them from the file descriptor it was given (or the
// layer's own).

const { parentPort, workerData } = require('node:worker_threads');
const wasm = require('./rootless_check.js');
const { normalizeError, readInto, scanLayer } = require('./common.cjs');

// `progress`: the caller wants to hear of every read.
const { fd, progress } = workerData;

parentPort.on('message', ({ name, offset, size, allowance, digest, pathKey, blockSize, fd: own }) => {
  try {
    const read = (at, length, layer, into) => {
      const n = readInto(own ?? fd, into, length, at);
      if (progress) parentPort.postMessage({ type: 'progress', layer, bytes: n });
      return n;
    };
    const summary = scanLayer(wasm, read, { name, offset, size, allowance, digest, pathKey }, blockSize);
    parentPort.postMessage({ type: 'summary', name, summary }, [summary.buffer]);
  } catch (err) {
    const e = normalizeError(err);
    parentPort.postMessage({ type: 'error', code: e.code, message: e.message });
  }
});
