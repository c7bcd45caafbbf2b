// Decompression bombs for the tests (limits.test.mjs, browser.test.mjs): a
// docker save whose gzip layer holds a file of zeros of any multiple of
// 64 MiB, made in a moment (one gzip member of 64 MiB of zeros, repeated).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { tar } from './tar.mjs';

export const CHUNK = 64 << 20;

// A ustar header of a regular file of `size` bytes (up to 8 GiB - 1: octal,
// or base-256 above, as GNU tar writes big sizes).
export function header(name, size, mode = 0o644) {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'latin1');
  h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100, 8, 'latin1');
  h.write('0000000\0', 108, 8, 'latin1');
  h.write('0000000\0', 116, 8, 'latin1');
  if (size < 8 ** 11) {
    h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
  } else {
    h[124] = 0x80;
    let n = BigInt(size);
    for (let i = 135; i > 124; i--, n >>= 8n) h[i] = Number(n & 0xffn);
  }
  h.write('00000000000\0', 136, 12, 'latin1');
  h.write('        ', 148, 8, 'latin1');
  h.write('0', 156, 1, 'latin1');
  h.write('ustar\x0000', 257, 8, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

export const gzipBest = (data) => zlib.gzipSync(data, { level: 9 });
let zeroMember;
// One gzip member of 64 MiB of zeros, made once.
export function zeros() {
  zeroMember ??= gzipBest(Buffer.alloc(CHUNK));
  return zeroMember;
}

// The parts of a layer tar holding a file of `bytes` zeros (a multiple of
// 64 MiB), then a setuid /usr/bin/su: its head, the count of 64 MiB chunks
// of zeros, its tail.
export function zeroLayerParts(bytes) {
  assert.equal(bytes % CHUNK, 0);
  return {
    head: header('zeros', bytes),
    chunks: bytes / CHUNK,
    tail: Buffer.concat([header('usr/bin/su', 0, 0o4755), Buffer.alloc(1024)]),
  };
}

// That layer as a multi-member gzip stream: made in a moment, whatever its size.
export function gzipBomb(bytes) {
  const { head, chunks, tail } = zeroLayerParts(bytes);
  return Buffer.concat([gzipBest(head), ...Array(chunks).fill(zeros()), gzipBest(tail)]);
}

export const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

// A docker save (legacy layout, manifest.json last) of the given layer blobs.
export function dockerSave(layers) {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { User: '1000', Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: [] },
      history: layers.map((_, i) => ({ created_by: `RUN step ${i}` })),
    }),
  );
  const configName = `${sha256(config)}.json`;
  const names = layers.map((l) => `${sha256(l)}/layer.tar`);
  const manifest = [{ Config: configName, RepoTags: ['bomb:1'], Layers: names }];
  return tar([
    ...layers.map((data, i) => ({ name: names[i], data })),
    { name: configName, data: config },
    { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
  ]);
}
