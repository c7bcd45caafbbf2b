#!/usr/bin/env node
// The "Node's native zlib + a plain JavaScript tar walk" baseline of
// bench/run.sh: how fast Node itself can go through an image archive,
// without wasm and without any analysis.
//
//   node bench/node-walk.mjs ARCHIVE
//
// - A gzip-compressed archive (W3) is streamed through zlib.createGunzip()
//   and its tar headers walked; uncompressed members that are tars
//   (`layer.tar`) are walked in the same stream, their contents skipped.
// - An uncompressed archive is a regular file: it is read with positional
//   fs.readSync calls through a 64 KiB window, so skipping contents (of the
//   outer archive and of uncompressed layers, W2) costs no reading.
// - A member that starts with the gzip magic (the layers of W1) is read in
//   1 MiB chunks and piped through zlib.createGunzip(); the tar headers of
//   its output are walked.
// Members are recognised by content (gzip magic, or "ustar" at offset 257),
// not by name. PAX and GNU long-name records are skipped, not applied.
// Prints one JSON line: layers walked, entries in them, setuid/setgid
// regular files, and the sum of entry sizes.

import fs from 'node:fs';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';

const WINDOW = 64 << 10;
const CHUNK = 1 << 20;

// A regular file: positional reads, free skips.
class FileReader {
  constructor(fd, size) {
    this.fd = fd;
    this.size = size;
    this.pos = 0;
    this.buf = Buffer.alloc(0);
    this.bufPos = 0;
  }
  readSome(max) {
    if (this.pos >= this.size || max <= 0) return null;
    let off = this.pos - this.bufPos;
    if (off < 0 || off >= this.buf.length) {
      const want = Math.min(Math.max(max, WINDOW), this.size - this.pos);
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const n = fs.readSync(this.fd, buf, got, want - got, this.pos + got);
        if (n === 0) break;
        got += n;
      }
      if (got === 0) return null;
      this.buf = buf.subarray(0, got);
      this.bufPos = this.pos;
      off = 0;
    }
    const n = Math.min(max, this.buf.length - off);
    this.pos += n;
    return this.buf.subarray(off, off + n);
  }
  skip(n) {
    const k = Math.min(n, this.size - this.pos);
    this.pos += k;
    return k;
  }
}

// An async iterable of Buffers (a gunzip stream).
class StreamReader {
  constructor(iterable) {
    this.it = iterable[Symbol.asyncIterator]();
    this.cur = null;
    this.off = 0;
  }
  async readSome(max) {
    while (this.cur === null || this.off >= this.cur.length) {
      const { value, done } = await this.it.next();
      if (done) return null;
      this.cur = value;
      this.off = 0;
    }
    const n = Math.min(max, this.cur.length - this.off);
    const view = this.cur.subarray(this.off, this.off + n);
    this.off += n;
    return view;
  }
  async skip(n) {
    let left = n;
    while (left > 0) {
      const b = await this.readSome(Math.min(left, Number.MAX_SAFE_INTEGER));
      if (b === null) break;
      left -= b.length;
    }
    return n - left;
  }
}

// The next `n` bytes of a parent reader (a tar member's contents).
class Limited {
  constructor(parent, n) {
    this.parent = parent;
    this.left = n;
  }
  async readSome(max) {
    if (this.left <= 0) return null;
    const b = await this.parent.readSome(Math.min(max, this.left));
    if (b === null) return null;
    this.left -= b.length;
    return b;
  }
  async skip(n) {
    const k = await this.parent.skip(Math.min(n, this.left));
    this.left -= k;
    return k;
  }
  async finish() {
    await this.skip(this.left);
  }
}

// Bytes already read (a sniffed prefix), then the rest of a reader.
class Prefixed {
  constructor(prefix, rest) {
    this.prefix = prefix;
    this.rest = rest;
  }
  async readSome(max) {
    if (this.prefix !== null && this.prefix.length > 0) {
      const b = this.prefix.subarray(0, max);
      this.prefix = this.prefix.subarray(b.length);
      return b;
    }
    return this.rest.readSome(max);
  }
  async skip(n) {
    let done = 0;
    if (this.prefix !== null && this.prefix.length > 0) {
      done = Math.min(n, this.prefix.length);
      this.prefix = this.prefix.subarray(done);
    }
    return done + (await this.rest.skip(n - done));
  }
}

async function readExact(src, n) {
  const first = await src.readSome(n);
  if (first === null || first.length === n) return first;
  const parts = [first];
  let got = first.length;
  while (got < n) {
    const b = await src.readSome(n - got);
    if (b === null) break;
    parts.push(b);
    got += b.length;
  }
  return Buffer.concat(parts, got);
}

async function* chunks(src) {
  for (;;) {
    const b = await src.readSome(CHUNK);
    if (b === null) return;
    yield b;
  }
}

function gunzipReader(src) {
  const gunzip = zlib.createGunzip({ chunkSize: CHUNK });
  Readable.from(chunks(src), { objectMode: false }).pipe(gunzip);
  return new StreamReader(gunzip);
}

function octal(h, off, len) {
  if (h[off] & 0x80) {
    // GNU base-256.
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + h[i];
    return v;
  }
  let v = 0;
  for (let i = off; i < off + len; i++) {
    const c = h[i];
    if (c === 0 || c === 0x20) {
      if (v > 0) break;
      continue;
    }
    v = v * 8 + (c - 0x30);
  }
  return v;
}

function isZero(h) {
  for (let i = 0; i < 512; i++) if (h[i] !== 0) return false;
  return true;
}

const isGzip = (b) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
const isTar = (b) => b.length >= 262 && b.toString('latin1', 257, 262) === 'ustar';

const stats = { layers: 0, entries: 0, setuid: 0, setgid: 0, bytes: 0 };

// Walks a tar stream. Outer: members that are layers are walked as layers.
async function walk(src, outer) {
  for (;;) {
    const h = await readExact(src, 512);
    if (h === null || h.length < 512) return;
    if (isZero(h)) continue; // end-of-archive blocks (and, like tar -i, past them)
    const size = octal(h, 124, 12);
    const type = h[156];
    const padded = Math.ceil(size / 512) * 512;
    // x g: PAX records; L K: GNU long names: skipped, not listed by tar -t.
    if (type === 0x78 || type === 0x67 || type === 0x4c || type === 0x4b) {
      await src.skip(padded);
      continue;
    }
    const regular = type === 0x30 || type === 0;
    if (!outer) {
      stats.entries++;
      stats.bytes += size;
      if (regular) {
        const mode = octal(h, 100, 8);
        if (mode & 0o4000) stats.setuid++;
        if (mode & 0o2000) stats.setgid++;
      }
      await src.skip(padded);
      continue;
    }
    if (!regular || size === 0) {
      await src.skip(padded);
      continue;
    }
    const member = new Limited(src, size);
    const head = await readExact(member, Math.min(512, size));
    const body = new Prefixed(head, member);
    if (isGzip(head)) {
      stats.layers++;
      const inner = gunzipReader(body);
      await walk(inner, false);
      await inner.skip(Infinity); // drain, so that the member is read to its end
    } else if (isTar(head)) {
      stats.layers++;
      await walk(body, false);
    }
    await member.finish();
    await src.skip(padded - size);
  }
}

async function main() {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write('usage: node bench/node-walk.mjs ARCHIVE\n');
    process.exit(2);
  }
  const fd = fs.openSync(path, 'r');
  const size = fs.fstatSync(fd).size;
  const magic = Buffer.alloc(2);
  fs.readSync(fd, magic, 0, 2, 0);
  let src;
  if (isGzip(magic)) {
    const stream = fs.createReadStream(null, { fd, highWaterMark: CHUNK, autoClose: false });
    src = new StreamReader(stream.pipe(zlib.createGunzip({ chunkSize: CHUNK })));
  } else {
    src = new FileReader(fd, size);
  }
  await walk(src, true);
  fs.closeSync(fd);
  process.stdout.write(`${JSON.stringify(stats)}\n`);
}

await main();
