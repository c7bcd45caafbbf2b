'use strict';
// The worker thread of gunzip-pipe.cjs: reads the gzip file it was given,
// inflates its members with the wasm's decoder (gunzipSplit: zlib-rs, with
// the CRC-32 left to the reader) and writes the decoded bytes into the
// shared ring, and each member's trailer into the shared records, waiting
// while either is full.

const { workerData } = require('node:worker_threads');
const wasm = require('./rootless_check.js');
const { layout, Slot, State, RECORD_SLOTS } = require('./gunzip-pipe.cjs');
const { readInto } = require('./common.cjs');

const { fd, size, shared } = workerData;
const { ctrl, counts, records, ring } = layout(shared);
const { AVAIL, SEQ, STATE, RECORDS, RECORDS_TAKEN } = Slot;

let writeAt = 0;
// Decoded bytes written so far.
let written = 0;

// Tell the reader something changed (bytes, a record or the state).
function signal() {
  Atomics.add(ctrl, SEQ, 1);
  Atomics.notify(ctrl, SEQ);
}

function finish(state) {
  if (Atomics.load(ctrl, STATE) !== State.RUNNING) return;
  Atomics.store(ctrl, STATE, state);
  signal();
}

// Copy `chunk` into the ring, waiting for room (blocking this thread while
// the reader is behind holds the decoder back too).
function put(chunk) {
  let done = 0;
  while (done < chunk.length) {
    const avail = Atomics.load(ctrl, AVAIL);
    const room = ring.length - avail;
    if (room === 0) {
      Atomics.wait(ctrl, AVAIL, avail);
      continue;
    }
    const n = Math.min(room, chunk.length - done, ring.length - writeAt);
    ring.set(chunk.subarray(done, done + n), writeAt);
    writeAt = (writeAt + n) % ring.length;
    done += n;
    written += n;
    Atomics.add(ctrl, AVAIL, n);
    signal();
  }
}

// A member ended after `written` decoded bytes: its trailer, for the reader
// to check (before any byte of the next member is written).
function memberEnd(crc, memberSize) {
  for (;;) {
    const taken = Atomics.load(ctrl, RECORDS_TAKEN);
    if (Atomics.load(ctrl, RECORDS) - taken < RECORD_SLOTS) break;
    Atomics.wait(ctrl, RECORDS_TAKEN, taken);
  }
  const i = (Atomics.load(ctrl, RECORDS) % RECORD_SLOTS) * 3;
  records[i] = written;
  records[i + 1] = crc;
  records[i + 2] = memberSize;
  Atomics.add(ctrl, RECORDS, 1);
  signal();
}

const read = (offset, length, layer, into) => {
  const n = readInto(fd, into, length, offset);
  counts[0] = offset + n;
  return n;
};

try {
  // Clean only when every byte of the file was used.
  finish(wasm.gunzipSplit(read, put, memberEnd) === size ? State.ENDED : State.FAILED);
} catch {
  finish(State.FAILED);
}
