'use strict';
// A layer whose decoder cannot wait for bytes (zstd: wasm.LayerScan walks it
// in one go, pulling its input) summarised from a stream that arrives
// asynchronously (a registry download): a worker thread
// (layer-pipe-worker.cjs) runs the LayerScan and reads synchronously from a
// shared ring, which this thread fills as the bytes arrive. This thread
// keeps its event loop (the other downloads go on); memory is the ring.

const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { codedError, abortReason } = require('./common.cjs');
const { createRing, RingWriter } = require('./ring.cjs');

const RING = 4 << 20;
const BLOCK = 4 << 20;

/**
 * Summarise the layer `name` of `size` bytes whose bytes `source.next()`
 * gives (a chunk, or null at the end). Resolves with the summary's bytes
 * once the worker has walked the layer; the caller drains the rest of the
 * source (the tar may end before the stream does). `allowance`: what its
 * decoder may give (Pending.budgetLeft(); undefined: no limit); `pathKey`:
 * Pending.pathKey(). An abort of
 * `signal` rejects at once and terminates the worker, even one busy
 * decoding a bomb that has all its bytes.
 */
async function scanPiped(name, size, source, { ringSize = RING, allowance, pathKey, signal } = {}) {
  const shared = createRing(ringSize);
  const writer = new RingWriter(shared);
  const worker = new Worker(path.join(__dirname, 'layer-pipe-worker.cjs'), {
    workerData: { shared, name, size, blockSize: BLOCK, allowance, pathKey },
  });
  let settled = false;
  let onAbort;
  const result = new Promise((resolve, reject) => {
    const settle = (fn, value) => {
      if (settled) return;
      settled = true;
      // A writer waiting for room gives up.
      writer.close();
      fn(value);
    };
    worker.on('message', (msg) => {
      if (msg.type === 'summary') settle(resolve, msg.summary);
      else settle(reject, codedError(msg.code, msg.message));
    });
    worker.on('error', (err) => settle(reject, codedError('E_INTERNAL', `a layer worker failed: ${err.message}`)));
    worker.on('exit', (code) => settle(reject, codedError('E_INTERNAL', `a layer worker exited with status ${code}`)));
    onAbort = () => settle(reject, abortReason(signal));
    if (signal && signal.aborted) onAbort();
    else if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
  result.catch(() => {}); // judged below
  try {
    for (;;) {
      if (settled) break;
      const chunk = await source.next();
      if (chunk === null) {
        writer.end();
        break;
      }
      if (!(await writer.put(chunk))) break;
    }
    return await result;
  } catch (err) {
    // The stream failed (or the worker did): the worker stops at its next read.
    writer.fail();
    throw err;
  } finally {
    if (signal) signal.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}

module.exports = { scanPiped };
