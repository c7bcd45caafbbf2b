'use strict';
// OCI image layout directories (`oci:DIR[:REF]`: skopeo, buildx
// `type=oci,tar=false`, crane, ORAS), read as the native CLI reads them
// (src/source/layout.rs): a directory is an OCI archive unpacked. Its JSON
// documents are checked against their digests; its layers are summarised
// from their files by the archive machinery (layer-pool.cjs: positional
// reads, contents skipped, worker threads in parallel when they are big).

const crypto = require('node:crypto');
const fs = require('node:fs');
const wasm = require('./rootless_check.js');
const { scanLayers } = require('./layer-pool.cjs');
const { sourceError, ioMessage, budgetOption } = require('./common.cjs');
const { blobPath, parseDocument, platformString, platformMatches, indexImages, addImage, MAX_JSON_BYTES } =
  require('./registry.cjs');

/** The annotation that names an image in a layout (skopeo's `oci:DIR:REF`). */
const REF_NAME = 'org.opencontainers.image.ref.name';
const MAX_DEPTH = 4;
const DEFAULT_BLOCK = 8 << 20;

// Rust's Path::join, as the native messages show paths.
function join(dir, rel) {
  return dir.endsWith('/') ? `${dir}${rel}` : `${dir}/${rel}`;
}

function ioError(path, err) {
  return sourceError(err.code === 'ENOENT' ? 'E_NOT_FOUND' : 'E_IO', `cannot read ${path}: ${ioMessage(err)}`);
}

/** A JSON file of the layout, at most the analysis' JSON limit. */
function readJson(path) {
  let fd;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    throw ioError(path, err);
  }
  try {
    const chunks = [];
    let size = 0;
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      size += n;
      if (size > MAX_JSON_BYTES) throw sourceError('E_LIMIT', `${path} is larger than ${MAX_JSON_BYTES} bytes`);
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    return Buffer.concat(chunks, size);
  } catch (err) {
    if (err.code && err.code.startsWith('E_')) throw err;
    throw ioError(path, err);
  } finally {
    fs.closeSync(fd);
  }
}

/** A blob's JSON, checked against its digest (small: always checked). */
function readBlobJson(dir, digest) {
  const rel = blobPath(digest);
  if (rel === null) throw sourceError('E_BAD_JSON', 'a descriptor has a malformed digest', String(digest));
  const bytes = readJson(join(dir, rel));
  if (digest.startsWith('sha256:')) {
    const actual = crypto.createHash('sha256').update(bytes).digest('hex');
    if (actual !== digest.slice('sha256:'.length)) {
      throw sourceError(
        'E_DIGEST_MISMATCH',
        `${rel} has sha256:${actual} but ${digest} was expected: the layout was altered`,
      );
    }
  }
  return bytes;
}

function isFile(path) {
  try {
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path) {
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Analyse the layout at `dir`; `name` picks images by their reference name;
 * `given` is the source as the user wrote it. Resolves with the wasm
 * Analysis. options: { platform, blockSize, maxDecompressed, signal, onProgress,
 * parallelMinBytes }.
 */
async function analyzeLayout(dir, name, given, options = {}) {
  if (!isFile(join(dir, 'oci-layout'))) {
    throw sourceError(
      isDirectory(dir) ? 'E_NOT_ARCHIVE' : 'E_NOT_FOUND',
      `${dir} is not an OCI image layout directory (no oci-layout file)`,
    );
  }
  const index = parseDocument(readJson(join(dir, 'index.json')), 'index.json');
  let top = indexImages(index);
  if (name !== null && name !== undefined) {
    const refName = (d) => (d.annotations !== null ? d.annotations[REF_NAME] : undefined);
    top = top.filter((d) => refName(d) === name);
    if (top.length === 0) {
      const names = indexImages(index)
        .map(refName)
        .filter((n) => n !== undefined);
      throw sourceError(
        'E_NOT_FOUND',
        `${dir} has no image named '${name}'; it has: ${names.length ? names.join(', ') : 'no named images'}`,
      );
    }
  }
  const max = budgetOption(options.maxDecompressed);
  const pending = wasm.imagePlan();
  const fds = [];
  try {
    const images = [];
    const layers = [];
    const platforms = [];
    const stack = top.map((d) => ({ d, depth: 0 })).reverse();
    while (stack.length > 0) {
      const { d, depth } = stack.pop();
      if (depth > MAX_DEPTH) throw sourceError('E_LIMIT', 'image index nesting too deep or cyclic');
      const bytes = readBlobJson(dir, d.digest);
      const doc = parseDocument(bytes, d.digest);
      if (doc.manifests !== null) {
        for (const child of indexImages(doc).reverse()) stack.push({ d: child, depth: depth + 1 });
        pending.addDocument(d.digest, bytes);
        continue;
      }
      if (d.platform !== null) {
        platforms.push(platformString(d.platform));
        if (options.platform && !platformMatches(d.platform, options.platform)) continue;
      }
      if (doc.config !== null) pending.addDocument(doc.config.digest, readBlobJson(dir, doc.config.digest));
      for (const l of doc.layers ?? []) if (!layers.some((x) => x.digest === l.digest)) layers.push(l);
      pending.addDocument(d.digest, bytes);
      addImage(pending, d);
      images.push(d);
    }
    if (images.length === 0) {
      throw sourceError(
        'E_NOT_FOUND',
        `${dir} has no image for platform ${options.platform || 'any'}; it has: ${platforms.join(', ')}`,
      );
    }
    // Each layer from its own file; a missing one is left out, and the
    // analysis says E_MISSING_BLOB for it.
    const jobs = [];
    for (const l of layers) {
      const rel = blobPath(l.digest);
      if (rel === null) continue;
      let fd;
      try {
        fd = fs.openSync(join(dir, rel), 'r');
      } catch {
        continue;
      }
      fds.push(fd);
      const size = fs.fstatSync(fd).size;
      jobs.push({ name: pending.expectLayer(l.digest), offset: 0, size, fd, pathKey: pending.pathKey() });
    }
    const bytes = jobs.reduce((sum, j) => sum + j.size, 0);
    // The decompression budget, from the layers' sizes as their descriptors give them (as natively).
    pending.setBudget(max, layers.reduce((sum, l) => sum + (l.size || 0), 0));
    if (jobs.length > 0) {
      const { parallelMinBytes } = options;
      await scanLayers(undefined, jobs, {
        blockSize: options.blockSize ?? DEFAULT_BLOCK,
        signal: options.signal,
        onProgress: options.onProgress,
        pending,
        budgetLeft: () => pending.budgetLeft(),
        totalBytes: bytes,
        wasm,
        ...(parallelMinBytes === undefined ? {} : { minParallelBytes: parallelMinBytes }),
      });
    }
    pending.setSource(
      'oci-layout',
      given,
      name !== null && name !== undefined ? `${dir}:${name}` : dir,
      undefined,
      undefined,
      name ?? undefined,
      images.length === 1 ? images[0].digest : undefined,
      [],
      undefined,
      bytes,
    );
    return pending.finish();
  } finally {
    pending.free();
    for (const fd of fds) fs.closeSync(fd);
  }
}

module.exports = { analyzeLayout };
