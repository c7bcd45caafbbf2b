#!/usr/bin/env node
// How fast can a page read a local file at all? The floor under the browser
// column of bench/run.sh: every byte the analysis needs goes through one of
// these. Times reading FILE whole, in a module Web Worker of headless
// Chromium, by each way a worker can read a File, beside Node reading the
// same file with fs.readSync (the Node package's way) in the same run.
//
//   node bench/browser-read.mjs FILE [--runs N] [--block MiB] [--methods LIST]
//
// Methods (8 MiB blocks unless --block):
//   sync        FileReaderSync.readAsArrayBuffer per block (what the package does)
//   sync-2      the same in two workers, each reading half (the layer workers)
//   async       await blob.slice().arrayBuffer() per block, one at a time
//   async-3     the same with three blocks in flight
//   stream      blob.stream(), default reader
//   byob        blob.stream(), BYOB reader into one reused buffer
// Each figure is the median of --runs (default 3) reads, after one untimed
// read that warms the page cache. --methods (comma-separated, default all)
// times only those, e.g. `--methods byob` for the read floor that
// bench/run.sh puts beside the page. The last line is for scripts:
//   node_seconds=… byob_seconds=… (one METHOD_seconds per method timed; sync-2 as sync_2)

import fs from 'node:fs';
import { missing, pageWithFile } from '../tests/node/chromium.mjs';

const args = process.argv.slice(2);
let file = null;
let runs = 3;
let blockMiB = 8;
const ALL_METHODS = ['sync', 'sync-2', 'async', 'async-3', 'stream', 'byob'];
let methods = ALL_METHODS;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--block') blockMiB = Number(args[++i]);
  else if (args[i] === '--methods') methods = args[++i].split(',');
  else if (!file) file = args[i];
}
if (!file || !fs.existsSync(file) || !(runs >= 1) || !(blockMiB > 0) || !methods.every((m) => ALL_METHODS.includes(m))) {
  console.error(`usage: node bench/browser-read.mjs FILE [--runs N] [--block MiB] [--methods ${ALL_METHODS.join(',')}]`);
  process.exit(2);
}
if (missing) {
  console.log(`not_measured=${missing}`);
  process.exit(3);
}
const BLOCK = blockMiB << 20;

const WORKER = `
onmessage = async ({ data: { file, method, from, to, block } }) => {
  let bytes = 0;
  const take = (u8) => { bytes += u8.length; };
  if (method === 'sync') {
    const reader = new FileReaderSync();
    for (let at = from; at < to; at += block) {
      take(new Uint8Array(reader.readAsArrayBuffer(file.slice(at, Math.min(to, at + block)))));
    }
  } else if (method === 'async' || method === 'async-3') {
    const depth = method === 'async' ? 1 : 3;
    const pending = [];
    let at = from;
    const more = () => {
      if (at < to) pending.push(file.slice(at, Math.min(to, at + block)).arrayBuffer());
      at += block;
    };
    for (let i = 0; i < depth; i++) more();
    while (pending.length) { take(new Uint8Array(await pending.shift())); more(); }
  } else if (method === 'stream') {
    const reader = file.slice(from, to).stream().getReader();
    for (;;) { const { done, value } = await reader.read(); if (done) break; take(value); }
  } else if (method === 'byob') {
    const reader = file.slice(from, to).stream().getReader({ mode: 'byob' });
    let buffer = new ArrayBuffer(block);
    for (;;) {
      const { done, value } = await reader.read(new Uint8Array(buffer));
      if (done) break;
      take(value);
      buffer = value.buffer;
    }
  }
  postMessage(bytes);
};`;

const PAGE = `<!doctype html><meta charset="utf-8"><input type="file" id="file">
<script>
function inWorker(data) {
  return new Promise((resolve, reject) => {
    const worker = new Worker('/worker.js');
    worker.onmessage = ({ data: bytes }) => { worker.terminate(); resolve(bytes); };
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage(data);
  });
}
window.readWith = async (method, block) => {
  const file = document.getElementById('file').files[0];
  const started = performance.now();
  let bytes;
  if (method === 'sync-2') {
    const half = Math.floor(file.size / 2);
    const parts = await Promise.all([[0, half], [half, file.size]].map(([from, to]) =>
      inWorker({ file, method: 'sync', from, to, block })));
    bytes = parts[0] + parts[1];
  } else {
    bytes = await inWorker({ file, method, from: 0, to: file.size, block });
  }
  if (bytes !== file.size) throw new Error(method + ' read ' + bytes + ' of ' + file.size + ' bytes');
  return (performance.now() - started) / 1000;
};
</script>`;

const { page, close } = await pageWithFile(PAGE, WORKER, file);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const size = fs.statSync(file).size;
  const nodeRead = () => {
    const started = process.hrtime.bigint();
    const fd = fs.openSync(file, 'r');
    const buffer = Buffer.allocUnsafe(BLOCK);
    for (let at = 0; at < size;) at += fs.readSync(fd, buffer, 0, Math.min(BLOCK, size - at), at);
    fs.closeSync(fd);
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  nodeRead();
  const rows = [['node fs.readSync', median(Array.from({ length: runs }, nodeRead))]];
  for (const method of methods) {
    await page.evaluate(([m, b]) => window.readWith(m, b), [method, BLOCK]);
    const times = [];
    for (let i = 0; i < runs; i++) times.push(await page.evaluate(([m, b]) => window.readWith(m, b), [method, BLOCK]));
    rows.push([`chromium ${method}`, median(times), method]);
  }
  const mb = size / 1e6;
  console.log(`${file}: ${mb.toFixed(0)} MB, ${blockMiB} MiB blocks, median of ${runs}`);
  for (const [name, seconds] of rows) {
    console.log(`${name.padEnd(18)} ${seconds.toFixed(3)} s  ${(mb / seconds).toFixed(0).padStart(6)} MB/s  ${(seconds / rows[0][1]).toFixed(1).padStart(5)}x node`);
  }
  console.log(rows.map(([, seconds, method]) => `${(method || 'node').replace('-', '_')}_seconds=${seconds.toFixed(3)}`).join(' '));
} finally {
  await close();
}
