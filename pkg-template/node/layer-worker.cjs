'use strict';
// A worker thread of layer-pool.cjs: summarises the layers it is sent, one
// at a time, reading them from the file descriptor it was given (or the
// layer's own).

const { parentPort, workerData } = require('node:worker_threads');
const wasm = require('./rootless_check.js');
const { normalizeError, readInto, scanLayer } = require('./common.cjs');

// `progress`: the caller wants to hear of every read.
const { fd, progress } = workerData;

// `jobs`: the layers {name, offset, size, digest, pathKey, fd?}, claimed one
// at a time through `next` (shared with the other threads); `budget`: the
// decompression budget left when a layer is claimed, its allowance (-1: none).
parentPort.on('message', ({ jobs, next, budget, blockSize }) => {
  for (let index = Atomics.add(next, 0, 1); index < jobs.length; index = Atomics.add(next, 0, 1)) {
    const { name, offset, size, digest, pathKey, fd: own } = jobs[index];
    const left = Atomics.load(budget, 0);
    const allowance = left < 0n ? undefined : Number(left);
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
      return;
    }
  }
});
