'use strict';
// A gzip file analysed with Node's own zlib. A worker thread
// (gunzip-worker.cjs) reads and decodes the file, and the wasm's analysis
// reads the decoded tar on this thread, as from a pipe, out of a ring buffer
// they share: the two run at once. Measured on a 928 MB gzip of a 1.25 GB
// docker save (bench W3), in one process, two rounds: 3.93 and 4.04 s this
// way against 4.39 and 5.18 s with the wasm's zlib-rs decoding on this
// thread; Node's gunzip alone takes 3.2 s. Since then Node's wasm is built
// for speed, and the wasm's decoder alone beats this way (core.cjs's
// GUNZIP_MIN_BYTES), which is taken only when `gunzipMinBytes` asks.
//
// Node's decoder is trusted only when all went well: it ended cleanly having
// taken every byte of the file, and the report is whole. Otherwise (a cut,
// corrupt or padded stream, an archive that is not one, a partial report)
// the result is null and the caller analyses the file again with the wasm's
// own decoder, whose errors and partial reports are the native CLI's. A
// report stopped by the decompression budget alone is kept: the budget is
// the same either way and the bytes up to it are the same (decoding them
// again would take up to twice the budget).

const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { checkAborted, codedError, layerName } = require('./common.cjs');

const State = { RUNNING: 0, ENDED: 1, FAILED: 2 };
// Decoded bytes that may wait for the analysis.
const RING = 8 << 20;
// No new bytes for this long: the worker is gone (its errors cannot reach a
// thread that waits); give up on this way.
const STALL_MS = 30000;

// The shared memory: counters, then the ring. ctrl: [bytes in the ring, a
// sequence bumped at each change, the state]; counts: [file bytes read].
function layout(shared) {
  return {
    ctrl: new Int32Array(shared, 0, 4),
    counts: new Float64Array(shared, 16, 1),
    ring: new Uint8Array(shared, 64),
  };
}

// Indexes into ctrl.
const Slot = { AVAIL: 0, SEQ: 1, STATE: 2 };
const { AVAIL, SEQ, STATE } = Slot;

class Abandoned extends Error {}

/**
 * Analyse the gzip file `fd` of `size` bytes: resolves with the wasm
 * Analysis, or null (see above). Options as core.cjs's run().
 */
async function analyzeGzipFile(wasm, fd, size, { blockSize, verify, signal, onProgress, maxDecompressed, ringSize = RING }) {
  // ringSize: tests make it tiny, so that every read waits and writes wrap.
  const shared = new SharedArrayBuffer(64 + ringSize);
  const { ctrl, counts, ring } = layout(shared);
  const worker = new Worker(path.join(__dirname, 'gunzip-worker.cjs'), { workerData: { fd, size, shared } });
  // Its failures show as State.FAILED; an 'error' event alone would go unheard here.
  worker.on('error', () => {});
  let readAt = 0;
  let next = 0;
  // Take up to `length` decoded bytes into `into`; 0 at the end. This thread
  // waits (Atomics.wait) while the ring is empty.
  const take = (length, into) => {
    for (;;) {
      const seq = Atomics.load(ctrl, SEQ);
      const avail = Atomics.load(ctrl, AVAIL);
      if (avail > 0) {
        const n = Math.min(avail, length, ring.length - readAt);
        if (into) into.set(ring.subarray(readAt, readAt + n));
        readAt = (readAt + n) % ring.length;
        Atomics.sub(ctrl, AVAIL, n);
        Atomics.notify(ctrl, AVAIL);
        return n;
      }
      const state = Atomics.load(ctrl, STATE);
      if (state === State.ENDED) return 0;
      if (state === State.FAILED) throw new Abandoned();
      if (Atomics.wait(ctrl, SEQ, seq, STALL_MS) === 'timed-out') throw new Abandoned();
    }
  };
  const read = (offset, length, layer, into) => {
    checkAborted(signal);
    if (offset !== next) throw codedError('E_INTERNAL', `a pipe cannot be read at offset ${offset}`);
    const n = take(length, into);
    next += n;
    if (onProgress) onProgress({ bytesRead: counts[0], totalBytes: size, layer: layerName(layer) });
    return n;
  };
  let analysis = null;
  try {
    // The budget is the gzip file's, and the bytes Node decodes count against it.
    analysis = wasm.analyzeCallback(read, undefined, blockSize, Boolean(verify), size, maxDecompressed);
    if (analysis.exitStatus('none') === 2) {
      // Partial or altered: kept only when the budget stopped it (E_LIMIT),
      // as the wasm's decoder would have, at the same byte.
      const { errors } = JSON.parse(analysis.json());
      if (errors.length === 0 || !errors.every((e) => e.code === 'E_LIMIT')) throw new Abandoned();
      const result = analysis;
      analysis = null;
      return result;
    }
    // The rest of the stream (after the tar's end), so that its end is known.
    while (take(ring.length, null) > 0);
    const result = analysis;
    analysis = null;
    return result;
  } catch (err) {
    if (err instanceof Abandoned) return null;
    // An abort or an fs error of this thread's own is the caller's; anything
    // the wasm made of the decoded bytes is judged again on the wasm's own.
    if (err && err.name === 'AbortError') throw err;
    checkAborted(signal);
    return null;
  } finally {
    if (analysis) analysis.free();
    await worker.terminate();
  }
}

module.exports = { analyzeGzipFile, layout, Slot, State };
