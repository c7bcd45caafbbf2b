'use strict';
// Summarises the deferred layers of an archive file (see core.cjs). With big
// layers and more than one CPU, worker threads do it in parallel, each with
// its own wasm instance, reading its layers from the shared file descriptor
// at their offsets (positional reads share no file position), the largest
// layers first. Small jobs stay on the calling thread: a worker takes tens
// of milliseconds to start. With a signal they never do: a small gzip layer
// may be a bomb, and the calling thread busy decoding it could not hear the
// abort (which terminates the workers) until it was done.

const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { codedError, abortReason, checkAborted, readInto, layerName, scanLayer } = require('./common.cjs');

// Below this many bytes of layers, starting workers costs more than it saves.
const PARALLEL_MIN_BYTES = 32 << 20;
// Workers started before the archive's layers are known (prestartWorkers).
const MAX_PRESTART = 4;
// Deno's worker threads do not share the file descriptors of the thread that
// opened them (a read there fails with EBADF): under Deno the layers are
// summarised on the calling thread.
const SHARED_FDS = !process.versions.deno;

function cpuCount() {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

// A layer worker reading from `fd`; `progress`: it tells of every read.
function startWorker(fd, progress) {
  return new Worker(path.join(__dirname, 'layer-worker.cjs'), { workerData: { fd, progress } });
}

// Layer workers started before their layers are known, while the calling
// thread reads the archive's structure (a worker takes tens of
// milliseconds to start): for a file of `size` bytes that will likely need
// them, none otherwise. `take(count)` gives at most `count` of them to
// scanLayers and stops the others; `stop()` stops them all.
function prestartWorkers(fd, size, { threads = cpuCount(), minParallelBytes = PARALLEL_MIN_BYTES, progress = false } = {}) {
  let workers = [];
  if (SHARED_FDS && threads >= 2 && size >= minParallelBytes) {
    // The calling thread takes layers too (scanLayers, without a signal,
    // which is when workers are prestarted); no more than the layers of a
    // typical image would keep busy.
    for (let i = 0; i < Math.min(threads - 1, MAX_PRESTART); i++) {
      const worker = startWorker(fd, progress);
      // What befalls it before scanLayers listens, told to scanLayers then.
      worker.early = {};
      worker.on('error', (err) => {
        worker.early.error = err;
      });
      worker.once('exit', (code) => {
        worker.early.exit = code;
      });
      workers.push(worker);
    }
  }
  const stop = (list) => {
    for (const w of list) w.terminate();
  };
  return {
    take(count) {
      const given = workers.slice(0, count);
      stop(workers.slice(count));
      workers = [];
      return given;
    },
    stop() {
      stop(workers);
      workers = [];
    },
  };
}

/**
 * Resolves with `[{ name, summary }]` (summary: the bytes of a wasm.LayerScan)
 * for every `{ name, offset, size, digest }` of `layers` (a layer with its own `fd`,
 * a file of an OCI layout directory, is read from that one rather than from
 * `fd`); or, with `onSummary`, hands
 * each summary to `onSummary(name, summary)` as soon as it is made (the
 * caller decodes it while other layers are still being read) and resolves
 * with `[]`; or, with `pending` (the wasm.Pending they go to), adds each
 * summary to it (on this thread without encoding it) and resolves with `[]`. `budgetLeft()`: the decompression budget left (Infinity: none)
 * when a layer starts, its allowance. In parallel, the calling thread
 * takes layers too, unless `callingThread` is false or a signal is given.
 */
async function scanLayers(
  fd,
  layers,
  {
    blockSize,
    signal,
    onProgress,
    onSummary,
    pending,
    totalBytes,
    wasm,
    budgetLeft = () => Infinity,
    threads = cpuCount(),
    minParallelBytes = PARALLEL_MIN_BYTES,
    prestarted = null,
    callingThread = true,
  },
) {
  const layerBytes = layers.reduce((sum, l) => sum + l.size, 0);
  // Progress counts the bytes outside the layers as done: planning read or skipped them.
  let done = totalBytes - layerBytes;
  const progress = (layer, bytes) => {
    done += bytes;
    if (onProgress) onProgress({ bytesRead: Math.min(done, totalBytes), totalBytes, layer: layerName(layer) });
  };
  const results = [];
  const take = (name, summary) => {
    if (pending) pending.addLayer(name, summary);
    else if (onSummary) onSummary(name, summary);
    else results.push({ name, summary });
  };
  // A read callback for `job` on this thread.
  const readerFor = (job) => (at, length, layer, into) => {
    checkAborted(signal);
    const n = readInto(job.fd ?? fd, into, length, at);
    progress(layer, n);
    return n;
  };
  const count = Math.min(threads, layers.length);
  // Under Deno (no shared fds) layers stay on this thread, signal or not.
  if (!SHARED_FDS || (!signal && (count < 2 || layerBytes < minParallelBytes))) {
    if (prestarted) prestarted.stop();
    for (const job of layers) {
      const summary = scanLayer(wasm, readerFor(job), { ...job, allowance: budgetLeft() }, blockSize, pending);
      if (!pending) take(job.name, summary);
    }
    return results;
  }
  // The calling thread summarises layers too, from the same queue: from the
  // start, while the workers start (tens of milliseconds), and on. Not with
  // a signal: busy in the wasm, it could not hear the abort. (Tests turn it
  // off with `callingThread: false`, to give every layer to the workers.)
  const calling = callingThread && !signal;
  const workerCount = calling ? count - 1 : count;
  const ready = prestarted ? prestarted.take(workerCount) : [];
  try {
    checkAborted(signal);
  } catch (err) {
    for (const w of ready) w.terminate();
    throw err;
  }
  // The largest first. Each thread claims the next job itself (`next`), so a
  // worker goes on without waiting for this thread, which may be busy with
  // a layer of its own; `budget`: the decompression budget left, a claimed
  // layer's allowance (-1: none), updated as summaries are added.
  const queue = [...layers].sort((a, b) => b.size - a.size);
  const next = new Int32Array(new SharedArrayBuffer(4));
  const budget = new BigInt64Array(new SharedArrayBuffer(8));
  const updateBudget = () => {
    const left = budgetLeft();
    Atomics.store(budget, 0, Number.isFinite(left) ? BigInt(Math.max(0, Math.floor(left))) : -1n);
  };
  updateBudget();
  const workers = [];
  let summaries = 0;
  let settled = false;
  return new Promise((resolve, reject) => {
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
    const taken = (name, summary) => {
      try {
        if (summary !== undefined) take(name, summary);
        updateBudget();
      } catch (err) {
        finish(err);
        return;
      }
      if (++summaries === layers.length) finish();
    };
    for (let i = 0; i < workerCount; i++) {
      const worker = i < ready.length ? ready[i] : startWorker(fd, Boolean(onProgress));
      workers.push(worker);
      worker.on('message', (msg) => {
        if (settled) return; // a message sent before the worker was stopped
        if (msg.type === 'progress') progress(msg.layer, msg.bytes);
        else if (msg.type === 'summary') taken(msg.name, msg.summary);
        else if (msg.type === 'error') finish(codedError(msg.code, msg.message));
      });
      worker.on('error', (err) => finish(codedError('E_INTERNAL', `a layer worker failed: ${err.message}`, err)));
      worker.on('exit', (code) => {
        if (code !== 0 && !settled) finish(codedError('E_INTERNAL', `a layer worker exited with status ${code}`));
      });
      // A prestarted worker may have failed before these listeners.
      if (worker.early && worker.early.error) {
        finish(codedError('E_INTERNAL', `a layer worker failed: ${worker.early.error.message}`, worker.early.error));
        return;
      }
      if (worker.early && worker.early.exit !== undefined) {
        finish(codedError('E_INTERNAL', `a layer worker exited with status ${worker.early.exit}`));
        return;
      }
      worker.postMessage({ jobs: queue, next, budget, blockSize });
    }
    if (!calling) return;
    // This thread's share: one layer at a time, then the event loop, where
    // the workers' summaries and errors wait.
    const work = () => {
      if (settled) return;
      const index = Atomics.add(next, 0, 1);
      if (index >= queue.length) return;
      const job = queue[index];
      let summary;
      try {
        summary = scanLayer(wasm, readerFor(job), { ...job, allowance: budgetLeft() }, blockSize, pending);
      } catch (err) {
        finish(err);
        return;
      }
      taken(job.name, summary);
      setImmediate(work);
    };
    work();
  });
}

module.exports = { scanLayers, prestartWorkers, cpuCount, PARALLEL_MIN_BYTES };
