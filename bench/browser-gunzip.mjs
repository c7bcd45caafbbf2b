#!/usr/bin/env node
// Which inflater for gzip layers? Times the gzip layers of FILE (an archive
// whose layers are gzip: bench W1) decoded four ways, in the same run:
//
//   chromium DecompressionStream   the browser's own inflater, in a module Web
//                                  Worker of headless Chromium, fed by
//                                  blob.stream() (decoded bytes counted, dropped)
//   node zlib                      Node's zlib (createGunzip), fed 1 MiB
//                                  positional reads (decoded bytes dropped)
//   node wasm LayerScan            the package's wasm (zlib-rs) as the layer
//                                  workers run it: inflate AND the tar walk
//                                  and summary, 8 MiB reads
//   chromium read only             blob.stream() alone: the floor under the first
//
//   node bench/browser-gunzip.mjs FILE [--runs N] [--pkg DIR]
//
// One layer after another on one thread each way (no parallelism), median
// of --runs (default 3) after one untimed run. The page's wasm is built for
// size (opt-level "z") but its inflater (zlib-rs) is at opt-level 3 in every
// build (Cargo.toml), and Chromium runs it with the same V8 as Node: the
// Node figure stands for the page's. Not part of run.sh.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { missing, pageWithFile } from '../tests/node/chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let file = null;
let runs = 3;
let pkg = path.join(root, 'pkg');
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--pkg') pkg = path.resolve(args[++i]);
  else if (!file) file = args[i];
}
if (!file || !fs.existsSync(file) || !(runs >= 1)) {
  console.error('usage: node bench/browser-gunzip.mjs FILE [--runs N] [--pkg DIR]');
  process.exit(2);
}
if (missing) {
  console.log(`not_measured=${missing}`);
  process.exit(3);
}

const require = createRequire(import.meta.url);
const wasm = require(path.join(pkg, 'node', 'rootless_check.js'));
const fd = fs.openSync(file, 'r');
const size = fs.fstatSync(fd).size;
const readAt = (offset, length, into) => {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, into, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return done;
};
const wasmRead = (offset, length, layer, into) => readAt(offset, length, into);
const pending = wasm.planCallback(wasmRead, size, 8 << 20, undefined);
const layers = pending.deferredLayers().map(([name, offset, length]) => ({ name, offset, size: length }));
pending.free();
const head = Buffer.alloc(8);
const gzipLayers = layers.filter((l) => readAt(l.offset, 8, head) === 8 && wasm.sniffCompression(head) === 'gzip');
if (gzipLayers.length === 0) {
  console.error(`${file}: no gzip layers`);
  process.exit(2);
}
const compressed = gzipLayers.reduce((sum, l) => sum + l.size, 0);

const WORKER = `
onmessage = async ({ data: { file, layers, inflate } }) => {
  let out = 0;
  for (const { offset, size } of layers) {
    let stream = file.slice(offset, offset + size).stream();
    if (inflate) stream = stream.pipeThrough(new DecompressionStream('gzip'));
    const reader = stream.getReader();
    for (;;) { const { done, value } = await reader.read(); if (done) break; out += value.length; }
  }
  postMessage(out);
};`;
const PAGE = `<!doctype html><meta charset="utf-8"><input type="file" id="file">
<script>
window.decode = (layers, inflate) => new Promise((resolve, reject) => {
  const file = document.getElementById('file').files[0];
  const worker = new Worker('/worker.js');
  const started = performance.now();
  worker.onmessage = ({ data: out }) => { worker.terminate(); resolve([(performance.now() - started) / 1000, out]); };
  worker.onerror = (e) => reject(new Error(e.message));
  worker.postMessage({ file, layers, inflate });
});
</script>`;

// CPU seconds (user + system) of this process and its descendants (Chromium's
// processes): on a busy machine the wall time says more about the scheduler
// than about the inflater, so both are printed.
const TICK = 100; // USER_HZ
function treeCpu() {
  const procs = new Map();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(pid), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICK });
    } catch {} // gone meanwhile
  }
  let sum = 0;
  for (const [pid, p] of procs) {
    for (let at = pid, hops = 0; at > 1 && hops < 64; at = procs.get(at)?.ppid ?? 0, hops++) {
      if (at === process.pid) { sum += p.cpu; break; }
    }
  }
  return sum;
}

function nodeZlib() {
  const started = process.hrtime.bigint();
  let out = 0;
  const chunk = Buffer.allocUnsafe(1 << 20);
  return (async () => {
    for (const { offset, size: length } of gzipLayers) {
      const gunzip = zlib.createGunzip({ chunkSize: 256 << 10 });
      gunzip.on('data', (d) => { out += d.length; });
      const ended = new Promise((resolve, reject) => { gunzip.on('end', resolve); gunzip.on('error', reject); });
      for (let at = 0; at < length;) {
        const n = readAt(offset + at, Math.min(chunk.length, length - at), chunk);
        at += n;
        // write copies nothing: wait for it to be taken before reusing the chunk
        await new Promise((resolve) => gunzip.write(Buffer.from(chunk.subarray(0, n)), resolve));
      }
      gunzip.end();
      await ended;
    }
    return [Number(process.hrtime.bigint() - started) / 1e9, out];
  })();
}

function nodeWasm() {
  const started = process.hrtime.bigint();
  for (const { name, offset, size: length } of gzipLayers) {
    const scan = new wasm.LayerScan(name, offset, length, 8 << 20, undefined, false);
    try {
      if (!(scan.resume(wasmRead) instanceof Uint8Array)) throw new Error('a layer scan stopped half-way');
    } finally {
      scan.free();
    }
  }
  return [Number(process.hrtime.bigint() - started) / 1e9, undefined];
}

const { page, close } = await pageWithFile(PAGE, WORKER, file);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const ways = {
    'chromium DecompressionStream': () => page.evaluate(([l]) => window.decode(l, true), [gzipLayers]),
    'chromium read only': () => page.evaluate(([l]) => window.decode(l, false), [gzipLayers]),
    'node zlib': nodeZlib,
    'node wasm LayerScan': async () => nodeWasm(),
  };
  const times = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  const outs = {};
  // Rounds interleave the ways, so that a busy moment of the machine falls on all of them.
  const cpus = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  for (let round = 0; round <= runs; round++) {
    for (const [name, way] of Object.entries(ways)) {
      const cpu0 = treeCpu();
      const [seconds, out] = await way();
      if (round > 0) times[name].push(seconds);
      if (round > 0) cpus[name].push(treeCpu() - cpu0);
      if (out !== undefined) outs[name] = out;
    }
  }
  const inflated = outs['chromium DecompressionStream'];
  if (inflated !== outs['node zlib']) throw new Error(`decoded ${inflated} bytes in Chromium, ${outs['node zlib']} in Node`);
  console.log(`${file}: ${gzipLayers.length} gzip layers, ${(compressed / 1e6).toFixed(1)} MB compressed, ` +
    `${(inflated / 1e6).toFixed(1)} MB decoded; median of ${runs}, one thread each`);
  const ref = median(times['node wasm LayerScan']);
  const refCpu = median(cpus['node wasm LayerScan']);
  for (const [name, ts] of Object.entries(times)) {
    const s = median(ts);
    const c = median(cpus[name]);
    console.log(`${name.padEnd(30)} wall ${s.toFixed(3)} s (${(s / ref).toFixed(2)}x wasm) ` +
      `cpu ${c.toFixed(2)} s (${(c / refCpu).toFixed(2)}x wasm)  [wall ${ts.map((t) => t.toFixed(2)).join(' ')}]`);
  }
  console.log('cpu: user + system seconds of this process and its children (Chromium), all threads (zlib: the libuv pool too)');
} finally {
  await close();
  fs.closeSync(fd);
}
