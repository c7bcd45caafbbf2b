'use strict';
// The worker thread of gunzip-pipe.cjs: reads the gzip file it was given,
// decodes it with Node's zlib and writes the decoded bytes into the shared
// ring, waiting while the ring is full.

const fs = require('node:fs');
const { workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
const { layout, Slot, State } = require('./gunzip-pipe.cjs');

const { fd, size, shared } = workerData;
const { ctrl, counts, ring } = layout(shared);
const { AVAIL, SEQ, STATE } = Slot;

let writeAt = 0;

// Tell the reader something changed (bytes or the state).
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
    Atomics.add(ctrl, AVAIL, n);
    signal();
  }
}

const gunzip = zlib.createGunzip({ chunkSize: 256 << 10 });
gunzip.on('data', put);
// Clean only when every byte of the file went into the decoder: Node's zlib
// ends quietly before trailing zeros, which the wasm's decoder may refuse.
gunzip.on('end', () => finish(gunzip.bytesWritten === size ? State.ENDED : State.FAILED));
gunzip.on('error', () => finish(State.FAILED));

const CHUNK = 1 << 20;
async function feed() {
  for (let at = 0; at < size; ) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - at));
    const { bytesRead } = await new Promise((resolve, reject) =>
      fs.read(fd, chunk, 0, chunk.length, at, (err, n) => (err ? reject(err) : resolve({ bytesRead: n }))));
    if (bytesRead === 0) break; // the file shrank: the decoder sees a cut stream
    at += bytesRead;
    counts[0] = at;
    if (!gunzip.write(chunk.subarray(0, bytesRead))) await new Promise((resolve) => gunzip.once('drain', resolve));
  }
  gunzip.end();
}

feed().catch(() => finish(State.FAILED));
