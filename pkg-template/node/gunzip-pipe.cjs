'use strict';
// A gzip file decoded on two cores. A worker thread (gunzip-worker.cjs)
// reads the file and inflates it with the wasm's decoder, leaving each
// member's CRC-32 and size to this thread, where the wasm's analysis reads
// the decoded tar, as from a pipe, out of a ring buffer they share, and
// Node's crc32 checks each member's bytes as they are taken. Inflating is
// most of the work (bench W3, a 928 MB gzip of a 1.25 GB docker save:
// inflate 1.4 s, CRC-32 0.37 s in the wasm, the tar walk and the rest about
// 0.3 s), so the two threads overlap almost all of what is not inflating.
// It needs zlib.crc32 (Node 20.15, 22.2); core.cjs takes this way for a gzip
// file of at least `gunzipMinBytes` when the machine has two CPUs or more.
//
// This way is trusted only when all went well: the decoder ended cleanly
// having taken every byte of the file, every member's CRC and size match,
// and the report is whole. Otherwise (a cut, corrupt or padded stream, a
// wrong CRC, an archive that is not one, a partial report) the result is
// null and the caller analyses the file again with the wasm's sequential
// decoder, whose errors and partial reports are the native CLI's. A report
// stopped by the decompression budget alone is kept: the budget is the same
// either way and the bytes up to it are the same (decoding them again would
// take up to twice the budget).

const path = require('node:path');
const { Worker } = require('node:worker_threads');
const zlib = require('node:zlib');
const { checkAborted, codedError, layerName } = require('./common.cjs');

const State = { RUNNING: 0, ENDED: 1, FAILED: 2 };
// Decoded bytes that may wait for the analysis.
const RING = 8 << 20;
// No new bytes for this long: the worker is gone (its errors cannot reach a
// thread that waits); give up on this way.
const STALL_MS = 30000;

// Member trailers that may wait for the analysis.
const RECORD_SLOTS = 1024;

// The shared memory: counters, the member records, then the ring. ctrl:
// [bytes in the ring, a sequence bumped at each change, the state, records
// written, records taken]; counts: [file bytes read]; records: per member,
// [decoded bytes at its end, its CRC-32, its size mod 2^32].
function layout(shared) {
  return {
    ctrl: new Int32Array(shared, 0, 8),
    counts: new Float64Array(shared, 32, 1),
    records: new Float64Array(shared, 64, RECORD_SLOTS * 3),
    ring: new Uint8Array(shared, 64 + RECORD_SLOTS * 24),
  };
}

// Indexes into ctrl.
const Slot = { AVAIL: 0, SEQ: 1, STATE: 2, RECORDS: 3, RECORDS_TAKEN: 4 };
const { AVAIL, SEQ, STATE, RECORDS, RECORDS_TAKEN } = Slot;

// This way can be taken: Node has crc32.
const available = typeof zlib.crc32 === 'function';

class Abandoned extends Error {}

/**
 * Analyse the gzip file `fd` of `size` bytes: resolves with the wasm
 * Analysis, or null (see above). Options as core.cjs's run().
 */
async function analyzeGzipFile(wasm, fd, size, { blockSize, verify, signal, onProgress, maxDecompressed, ringSize = RING }) {
  // ringSize: tests make it tiny, so that every read waits and writes wrap.
  const shared = new SharedArrayBuffer(64 + RECORD_SLOTS * 24 + ringSize);
  const { ctrl, counts, records, ring } = layout(shared);
  const worker = new Worker(path.join(__dirname, 'gunzip-worker.cjs'), { workerData: { fd, size, shared } });
  // Its failures show as State.FAILED; an 'error' event alone would go unheard here.
  worker.on('error', () => {});
  let readAt = 0;
  let next = 0;
  // Decoded bytes taken, and the current member's CRC-32 and size so far.
  let taken = 0;
  let crc = 0;
  let memberBytes = 0;
  let recordsTaken = 0;
  // Check the trailers of the members that end where the bytes taken end;
  // returns where the next member known to the worker ends (Infinity: none
  // known yet). The worker writes a member's record before any byte of the
  // next member, so bytes seen in the ring never run past an unknown end.
  const checkMemberEnds = () => {
    while (recordsTaken < Atomics.load(ctrl, RECORDS)) {
      const i = (recordsTaken % RECORD_SLOTS) * 3;
      if (records[i] > taken) return records[i];
      if (records[i] < taken || records[i + 1] !== crc || records[i + 2] !== memberBytes % 2 ** 32) {
        throw new Abandoned();
      }
      crc = 0;
      memberBytes = 0;
      recordsTaken++;
      Atomics.store(ctrl, RECORDS_TAKEN, recordsTaken);
      Atomics.notify(ctrl, RECORDS_TAKEN);
    }
    return Infinity;
  };
  // Take up to `length` decoded bytes into `into`; 0 at the end. This thread
  // waits (Atomics.wait) while the ring is empty.
  const take = (length, into) => {
    for (;;) {
      const seq = Atomics.load(ctrl, SEQ);
      const avail = Atomics.load(ctrl, AVAIL);
      if (avail > 0) {
        const end = checkMemberEnds();
        const n = Math.min(avail, length, ring.length - readAt, end - taken);
        const bytes = ring.subarray(readAt, readAt + n);
        crc = zlib.crc32(bytes, crc);
        if (into) into.set(bytes);
        readAt = (readAt + n) % ring.length;
        taken += n;
        memberBytes += n;
        Atomics.sub(ctrl, AVAIL, n);
        Atomics.notify(ctrl, AVAIL);
        checkMemberEnds();
        return n;
      }
      const state = Atomics.load(ctrl, STATE);
      if (state === State.ENDED) {
        // Every byte belongs to a member whose trailer was checked.
        if (checkMemberEnds() !== Infinity || memberBytes !== 0) throw new Abandoned();
        return 0;
      }
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

module.exports = { analyzeGzipFile, available, layout, Slot, State, RECORD_SLOTS };
