'use strict';
// Summarises the deferred layers of an archive file (see core.cjs). With big
// layers and more than one CPU, worker threads do it in parallel, each with
// its own wasm instance, reading its layers from the shared file descriptor
// at their offsets (positional reads share no file position), the largest
// layers first. Small jobs stay on the calling thread: a worker takes tens
// of milliseconds to start.

const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { codedError, abortReason, checkAborted, readInto, layerName, scanLayer } = require('./common.cjs');

// Below this many bytes of layers, starting workers costs more than it saves.
const PARALLEL_MIN_BYTES = 32 << 20;

function cpuCount() {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * Resolves with `[{ name, summary }]` (summary: the bytes of a wasm.LayerScan)
 * for every `{ name, offset, size }` of `layers`.
 */
async function scanLayers(
  fd,
  layers,
  { blockSize, signal, onProgress, totalBytes, wasm, threads = cpuCount(), minParallelBytes = PARALLEL_MIN_BYTES },
) {
  const layerBytes = layers.reduce((sum, l) => sum + l.size, 0);
  // Progress counts the bytes outside the layers as done: planning read or skipped them.
  let done = totalBytes - layerBytes;
  const progress = (layer, bytes) => {
    done += bytes;
    if (onProgress) onProgress({ bytesRead: Math.min(done, totalBytes), totalBytes, layer: layerName(layer) });
  };
  const count = Math.min(threads, layers.length);
  if (count < 2 || layerBytes < minParallelBytes) {
    return layers.map((job) => {
      const read = (at, length, layer, into) => {
        checkAborted(signal);
        const n = readInto(fd, into, length, at);
        progress(layer, n);
        return n;
      };
      return { name: job.name, summary: scanLayer(wasm, read, job, blockSize) };
    });
  }
  checkAborted(signal);
  const queue = [...layers].sort((a, b) => b.size - a.size);
  const results = [];
  const workers = [];
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err) => {
      if (settled) return;
      settled = true;
      for (const w of workers) w.terminate();
      if (signal) signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(results);
    };
    const onAbort = () => finish(abortReason(signal));
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    const feed = (worker) => {
      const job = queue.shift();
      if (job) worker.postMessage({ ...job, blockSize });
    };
    for (let i = 0; i < count; i++) {
      const worker = new Worker(path.join(__dirname, 'layer-worker.cjs'), { workerData: { fd } });
      workers.push(worker);
      worker.on('message', (msg) => {
        if (msg.type === 'progress') {
          progress(msg.layer, msg.bytes);
        } else if (msg.type === 'summary') {
          results.push({ name: msg.name, summary: msg.summary });
          if (results.length === layers.length) finish();
          else feed(worker);
        } else if (msg.type === 'error') {
          finish(codedError(msg.code, msg.message));
        }
      });
      worker.on('error', (err) => finish(codedError('E_INTERNAL', `a layer worker failed: ${err.message}`, err)));
      worker.on('exit', (code) => {
        if (code !== 0 && !settled) finish(codedError('E_INTERNAL', `a layer worker exited with status ${code}`));
      });
      feed(worker);
    }
  });
}

module.exports = { scanLayers, PARALLEL_MIN_BYTES };
