'use strict';
// What a source string names, by the native CLI's rules (src/source/mod.rs,
// `Source::parse` and `is_bare_reference`):
//
//   PATH, -                               an archive file (or stdin)
//   docker-archive:PATH, oci-archive:PATH an archive, named explicitly
//   oci:DIR[:REF]                         an OCI image layout directory
//   docker://REF                          a registry
//   docker-daemon:REF                     the Docker Engine API on DOCKER_HOST
//   REF                                   a registry, when no such file exists
//                                         and it does not look like a path
//
// References are parsed by the wasm (src/analysis/reference.rs), so both
// CLIs normalise them alike.

const fs = require('node:fs');
const wasm = require('./rootless_check.js');
const { codedError } = require('./common.cjs');

// Endings that make a name a file's, even when no such file exists (so a
// mistyped file name is not looked up on Docker Hub).
const ARCHIVE_ENDINGS = ['.tar', '.tar.gz', '.tgz', '.tar.zst', '.gz', '.zst'];

function looksLikeReference(text) {
  try {
    wasm.parseReference(text);
    return true;
  } catch {
    return false;
  }
}

/** Whether a name that is not an existing file reads as a reference. */
function isBareReference(text) {
  const looksLikePath =
    ['/', './', '../', '~'].some((p) => text.startsWith(p)) || ARCHIVE_ENDINGS.some((e) => text.endsWith(e));
  return !looksLikePath && looksLikeReference(text);
}

function usage(message) {
  return codedError('E_USAGE', message);
}

function exists(path) {
  try {
    fs.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parse a source as given. Returns one of
 *   { type: 'archive', path }
 *   { type: 'oci-layout', dir, name }      (name: null when absent)
 *   { type: 'registry', reference }        (reference: wasm.parseReference's)
 *   { type: 'daemon', name }
 * Throws E_USAGE (the message the native CLI shows above its usage).
 */
function parseSource(text, { exists: fileExists = exists } = {}) {
  if (text === '-') return { type: 'archive', path: '-' };
  const reference = (r, prefix) => {
    try {
      return wasm.parseReference(r);
    } catch (err) {
      throw usage(`${prefix}${r}: ${err.message}`);
    }
  };
  if (text.startsWith('docker://')) {
    return { type: 'registry', reference: reference(text.slice('docker://'.length), 'docker://') };
  }
  if (text.startsWith('docker-daemon:')) {
    const rest = text.slice('docker-daemon:'.length);
    if (rest === '') throw usage('docker-daemon: needs an image name or ID');
    return { type: 'daemon', name: rest };
  }
  for (const prefix of ['docker-archive:', 'oci-archive:']) {
    if (text.startsWith(prefix)) {
      const rest = text.slice(prefix.length);
      if (rest === '') throw usage(`${prefix} needs a path`);
      return { type: 'archive', path: rest };
    }
  }
  if (text.startsWith('oci:')) {
    // containers/image splits at the first ':': a directory whose name holds
    // one cannot be named with a reference.
    const rest = text.slice('oci:'.length);
    const at = rest.indexOf(':');
    const dir = at === -1 ? rest : rest.slice(0, at);
    const name = at === -1 ? null : rest.slice(at + 1) || null;
    if (dir === '') throw usage('oci: needs a directory');
    return { type: 'oci-layout', dir, name };
  }
  if (!fileExists(text) && isBareReference(text)) {
    return { type: 'registry', reference: reference(text, '') };
  }
  return { type: 'archive', path: text };
}

module.exports = { parseSource, isBareReference, ARCHIVE_ENDINGS };
