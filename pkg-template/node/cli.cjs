#!/usr/bin/env node
'use strict';
// The rootless-check CLI on Node: the same flags, output and exit codes as
// the native one (src/bin/rootless-check.rs). Both render with the same Rust
// code, so `--format json` prints the same bytes.

const fs = require('node:fs');
const { run, version, wasm } = require('./core.cjs');

const USAGE = `\
Usage: rootless-check [OPTIONS] FILE|-

Reads a container image archive (docker save, podman save, an OCI archive from
skopeo/buildah/buildx, gzip- or zstd-compressed or not, or a flattened
docker export) and says whether the image is truly rootless: root,
pseudo-rootless or rootless, with the evidence and the fix.
FILE '-' reads standard input: docker save IMAGE | rootless-check -

Options:
  -f, --format FORMAT      text (default), json or sarif
      --fail-on SEVERITY   exit 1 when a finding is at or above SEVERITY:
                           critical, high (default), medium, low, info, or none
      --ignore RULE[:GLOB] accept findings of RULE (at paths matching GLOB:
                           * within a path component, ** across, ? one char);
                           repeatable
      --ignore-file FILE   read ignores from FILE, one per line, # comments
                           (default: .rootless-check-ignore when it exists)
      --verify             check every layer, config and manifest digest against
                           the manifests (reads the whole archive); a mismatch
                           means the archive was altered: exit 2
      --no-color           no colours (also when NO_COLOR is set or not a terminal)
  -h, --help               this help
  -V, --version            the version

Exit status: 0 nothing at or above --fail-on; 1 something is; 2 the input is
unreadable, the report is partial, a digest does not match (--verify), or the
command line is wrong.`;

const DEFAULT_IGNORE_FILE = '.rootless-check-ignore';

class UsageError extends Error {}

// Rust's {:?} of a string, for the messages that quote user input.
const quote = (text) => JSON.stringify(text);

// Throws UsageError; returns null when help or the version was printed.
function parseArgs(argv) {
  const args = {
    format: 'text',
    file: undefined,
    failOn: 'high',
    ignores: [],
    ignoreFile: undefined,
    verify: false,
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq >= 2 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (name) => {
      const v = inline !== undefined ? inline : argv[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    switch (flag) {
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        return null;
      case '-V':
      case '--version':
        process.stdout.write(`rootless-check ${version()}\n`);
        return null;
      case '-f':
      case '--format': {
        const v = value('--format');
        if (!['text', 'json', 'sarif'].includes(v)) {
          throw new UsageError(`unknown format ${quote(v)}: use text, json or sarif`);
        }
        args.format = v;
        break;
      }
      case '--fail-on':
        args.failOn = value('--fail-on');
        wasmUsage(() => wasm.checkFailOn(args.failOn));
        break;
      case '--ignore': {
        const spec = value('--ignore');
        wasmUsage(() => wasm.checkIgnores([spec], undefined));
        args.ignores.push(spec);
        break;
      }
      case '--ignore-file':
        args.ignoreFile = value('--ignore-file');
        break;
      case '--verify':
        args.verify = true;
        break;
      case '--no-color':
        args.color = false;
        break;
      case '-':
        args.file = '-';
        break;
      default:
        if (flag.startsWith('-')) throw new UsageError(`unknown option ${quote(flag)}`);
        if (args.file !== undefined) throw new UsageError('give one archive');
        args.file = arg;
    }
  }
  if (args.file === undefined) throw new UsageError('no archive given');
  return args;
}

// A usage error found by the Rust side (E_USAGE): same message as natively.
function wasmUsage(check) {
  try {
    check();
  } catch (err) {
    if (err.code === 'E_USAGE') throw new UsageError(err.message);
    throw err;
  }
}

// The ignore file's text: the default one only when it exists.
function readIgnoreFile(args) {
  const explicit = args.ignoreFile !== undefined;
  const file = explicit ? args.ignoreFile : DEFAULT_IGNORE_FILE;
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (!explicit) return undefined;
    throw new UsageError(`cannot read ignore file ${file}: ${err.message}`);
  }
  try {
    wasm.checkIgnores([], text);
  } catch (err) {
    throw new UsageError(`${file}: ${err.message}`);
  }
  return text;
}

// A progress line on stderr, only when it is a terminal (never in pipes or
// CI logs). Member names come from the archive: control characters are
// replaced so that they cannot drive the terminal.
function progressLine() {
  if (!process.stderr.isTTY) return { onProgress: undefined, clear() {} };
  const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
  let last = 0;
  let shown = false;
  const onProgress = ({ bytesRead, totalBytes, layer }) => {
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    let line;
    if (totalBytes) {
      const part = Math.min(1, bytesRead / totalBytes);
      const filled = Math.round(part * 24);
      line = `[${'#'.repeat(filled)}${'.'.repeat(24 - filled)}] ${Math.floor(part * 100)}% ${mib(bytesRead)} of ${mib(totalBytes)}`;
    } else {
      line = `${mib(bytesRead)} read`;
    }
    if (layer) line += `  ${layer.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}`;
    const width = process.stderr.columns || 80;
    process.stderr.write(`\r${line.slice(0, width - 1)}\x1b[K`);
    shown = true;
  };
  return {
    onProgress,
    clear() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

async function main(argv) {
  let args;
  let ignoreText;
  try {
    args = parseArgs(argv);
    if (args === null) return 0;
    ignoreText = readIgnoreFile(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`rootless-check: E_USAGE: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }

  let analysis;
  const progress = progressLine();
  try {
    analysis = await run(args.file === '-' ? { fd: 0 } : args.file, {
      verify: args.verify,
      onProgress: progress.onProgress,
    });
  } catch (err) {
    progress.clear();
    process.stderr.write(`rootless-check: ${err.code || 'E_INTERNAL'}: ${err.message}\n`);
    return 2;
  }
  progress.clear();
  try {
    analysis.applyIgnores(args.ignores, ignoreText);
    const out =
      args.format === 'text' ? analysis.text(args.color) : args.format === 'json' ? analysis.json() : analysis.sarif();
    process.stdout.write(out);
    for (const line of analysis.exitLines(args.failOn)) process.stderr.write(`rootless-check: ${line}\n`);
    return analysis.exitStatus(args.failOn);
  } finally {
    analysis.free();
  }
}

// exitCode, not exit(): let stdout drain into a pipe first.
main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
