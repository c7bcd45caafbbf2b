// Gzip files, sound and broken, for the tests of the two-thread (Node) and
// two-worker (browser) gunzip: each must give what the sequential decoder
// gives, and only the sound ones may be taken the fast way.

import zlib from 'node:zlib';
import { dockerSave } from './tar.mjs';

/** `gz` with its last trailer changed by `change(trailer)` (a copy). */
function withTrailer(gz, change) {
  const copy = Buffer.from(gz);
  change(copy.subarray(copy.length - 8));
  return copy;
}

/**
 * Name → bytes: `good` (a gzip file of an image archive) broken in every way
 * the fast decoders must leave to the sequential one, and re-gzipped in ways
 * they must take.
 */
export function gzipCases(good) {
  const tar = zlib.gunzipSync(good);
  const corrupt = Buffer.from(good);
  for (let i = 0; i < 64; i++) corrupt[Math.floor(good.length / 2) + i * 7] ^= 0x55;
  // A sound gzip of an archive whose layer has a broken entry header: a
  // partial report.
  const damaged = dockerSave({
    tags: ['damaged:1'],
    config: { config: { User: 'app' } },
    layerEntries: [
      { name: 'bin/su', data: Buffer.from('x'), mode: 0o4755 },
      { name: 'etc/broken-header', data: Buffer.from('y') },
    ],
  });
  // The tar padded with zeros to a whole number of MiB, as the browser's
  // inflating worker posts its bytes: a walk could then have every byte of
  // the archive before the decoder reaches the (wrong) CRC.
  const mib = 1 << 20;
  const padded = Buffer.concat([tar, Buffer.alloc(Math.ceil(tar.length / mib) * mib - tar.length)]);
  const at = damaged.indexOf('etc/broken-header');
  damaged[at + 148] ^= 0x01; // its checksum
  return {
    'a layer with a broken header': zlib.gzipSync(damaged),
    'cut in the middle': good.subarray(0, Math.floor(good.length / 2)),
    'cut before its trailer': good.subarray(0, good.length - 4),
    'corrupt in the middle': corrupt,
    'trailing zeros': Buffer.concat([good, Buffer.alloc(4096)]),
    'trailing garbage': Buffer.concat([good, Buffer.from('not gzip at all')]),
    'two members': Buffer.concat([zlib.gzipSync(tar.subarray(0, 10240)), zlib.gzipSync(tar.subarray(10240))]),
    'a cut tar, whole gzip': zlib.gzipSync(tar.subarray(0, Math.floor(tar.length * 0.6))),
    'not a tar': zlib.gzipSync(Buffer.from('{"hello": "world"}\n'.repeat(1000))),
    'only a header': good.subarray(0, 10),
    'a wrong CRC': withTrailer(good, (t) => t.writeUInt32LE((t.readUInt32LE(0) ^ 1) >>> 0, 0)),
    'a wrong size': withTrailer(good, (t) => t.writeUInt32LE(t.readUInt32LE(4) + 1, 4)),
    'a wrong CRC after whole MiBs': withTrailer(zlib.gzipSync(padded), (t) => t.writeUInt32LE((t.readUInt32LE(0) ^ 1) >>> 0, 0)),
    // Many members (more than Node's shared records hold), empty ones among them.
    'many members': Buffer.concat(
      Array.from({ length: Math.ceil(tar.length / 4) }, (_, i) => zlib.gzipSync(tar.subarray(i * 4, i * 4 + 4)))
        .flatMap((m, i) => (i % 3 === 0 ? [m, zlib.gzipSync(Buffer.alloc(0))] : [m])),
    ),
  };
}

/** The cases whose gzip stream itself is broken: a fast decoder must give up on each. */
export const BROKEN_STREAMS = [
  'a wrong CRC', 'a wrong CRC after whole MiBs', 'a wrong size', 'corrupt in the middle', 'cut before its trailer', 'cut in the middle',
  'only a header', 'trailing garbage', 'trailing zeros',
];
