'use strict';
// A byte pipe between two threads over a SharedArrayBuffer, for the wasm's
// readers that pull synchronously (the archive reader of a `docker save`
// stream, a zstd layer's decoder) while the bytes arrive asynchronously on
// another thread (a socket, a fetch). The reader blocks in Atomics.wait
// while the ring is empty; the writer waits (Atomics.waitAsync, so its
// event loop keeps running) while it is full. Memory: the ring, whatever
// the stream's length. gunzip-pipe.cjs works the same way with its own ring.

const State = { RUNNING: 0, ENDED: 1, FAILED: 2, CLOSED: 3 };
// ctrl: [bytes in the ring, a sequence bumped at each change, the state];
// counts: [bytes the writer took from its source].
const AVAIL = 0;
const SEQ = 1;
const STATE = 2;

function createRing(size) {
  return new SharedArrayBuffer(64 + size);
}

function view(shared) {
  return {
    ctrl: new Int32Array(shared, 0, 4),
    counts: new Float64Array(shared, 16, 1),
    ring: new Uint8Array(shared, 64),
  };
}

class RingFailed extends Error {}

// Tell the other side something changed (bytes or the state).
function bump(ctrl) {
  Atomics.add(ctrl, SEQ, 1);
  Atomics.notify(ctrl, SEQ);
  Atomics.notify(ctrl, AVAIL);
}

function setState(shared, state) {
  const { ctrl } = view(shared);
  if (Atomics.compareExchange(ctrl, STATE, State.RUNNING, state) === State.RUNNING) bump(ctrl);
}

class RingReader {
  // stallMs: no change for this long means the writer is gone: RingFailed.
  constructor(shared, stallMs) {
    Object.assign(this, view(shared));
    this.stallMs = stallMs;
    this.readAt = 0;
  }

  get sourceBytes() {
    return this.counts[0];
  }

  // Up to `length` bytes into `into` (dropped when null); 0 at the end.
  // Throws RingFailed when the writer failed, stopped or stalled.
  take(length, into) {
    const { ctrl, ring } = this;
    for (;;) {
      const seq = Atomics.load(ctrl, SEQ);
      const avail = Atomics.load(ctrl, AVAIL);
      if (avail > 0) {
        const n = Math.min(avail, length, ring.length - this.readAt);
        if (into) into.set(ring.subarray(this.readAt, this.readAt + n));
        this.readAt = (this.readAt + n) % ring.length;
        Atomics.sub(ctrl, AVAIL, n);
        bump(ctrl);
        return n;
      }
      const state = Atomics.load(ctrl, STATE);
      if (state === State.ENDED) return 0;
      if (state !== State.RUNNING) throw new RingFailed('the writer failed');
      if (Atomics.wait(ctrl, SEQ, seq, this.stallMs) === 'timed-out') throw new RingFailed('the writer stalled');
    }
  }
}

class RingWriter {
  constructor(shared) {
    Object.assign(this, view(shared));
    this.shared = shared;
    this.writeAt = 0;
  }

  get state() {
    return Atomics.load(this.ctrl, STATE);
  }

  // Copy `chunk` in, waiting for room. Resolves false (dropping the rest)
  // once the ring is no longer running: the reader is done or gone.
  async put(chunk) {
    const { ctrl, ring } = this;
    let done = 0;
    while (done < chunk.length) {
      if (Atomics.load(ctrl, STATE) !== State.RUNNING) return false;
      const avail = Atomics.load(ctrl, AVAIL);
      const room = ring.length - avail;
      if (room === 0) {
        const wait = Atomics.waitAsync(ctrl, AVAIL, avail, 1000);
        if (wait.async) await wait.value;
        continue;
      }
      const n = Math.min(room, chunk.length - done, ring.length - this.writeAt);
      ring.set(chunk.subarray(done, done + n), this.writeAt);
      this.writeAt = (this.writeAt + n) % ring.length;
      done += n;
      Atomics.add(ctrl, AVAIL, n);
      bump(ctrl);
    }
    return true;
  }

  end() {
    setState(this.shared, State.ENDED);
  }

  fail() {
    setState(this.shared, State.FAILED);
  }

  // The reader needs no more: a waiting put() gives up.
  close() {
    setState(this.shared, State.CLOSED);
  }
}

module.exports = { createRing, RingReader, RingWriter, RingFailed, State, setState };
