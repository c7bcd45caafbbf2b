#!/usr/bin/env node
'use strict';
// The rootless-check CLI on Node: the same flags, output and exit codes as
// the native one (src/bin/rootless-check.rs). Both render with the same Rust
// code, so `--format json` prints the same bytes.

const fs = require('node:fs');
const { run, version, wasm, NO_IMAGE } = require('./core.cjs');
const { parseSource } = require('./source.cjs');

// Usage text, option parsing and the exit status come from the Rust side
// (src/cli.rs), which the native CLI uses too: one definition of the CLI.
const DEFAULT_IGNORE_FILE = '.rootless-check-ignore';

class UsageError extends Error {}

// Throws UsageError; returns null when help or the version was printed.
function parseArgs(argv) {
  let args;
  try {
    args = wasm.parseArgs(argv);
  } catch (err) {
    if (err.code === 'E_USAGE') throw new UsageError(err.message);
    throw err;
  }
  if (args.command === 'help') {
    process.stdout.write(`${wasm.usage()}\n`);
    return null;
  }
  if (args.command === 'version') {
    process.stdout.write(`rootless-check ${version()}\n`);
    return null;
  }
  // https://no-color.org: any non-empty NO_COLOR turns colour off.
  args.color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && !args.noColor;
  return args;
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
  let parsed;
  try {
    args = parseArgs(argv);
    if (args === null) return 0;
    ignoreText = readIgnoreFile(args);
    try {
      // `-` is standard input; every other source as the native CLI parses it.
      parsed = args.sources.map((given) => {
        const source = parseSource(given);
        return source.type === 'archive' && source.path === '-' ? { fd: 0, given } : { parsed: source, given };
      });
    } catch (err) {
      if (err.code === 'E_USAGE') throw new UsageError(err.message);
      throw err;
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`rootless-check: E_USAGE: ${err.message}\n\n${wasm.usage()}\n`);
    return 2;
  }

  let analysis;
  const progress = progressLine();
  try {
    // With a spec, every source (or none: the images it names are pulled).
    const spec = args.run !== undefined || args.compose !== undefined || args.k8s !== undefined;
    analysis = await run(spec ? parsed : parsed[0], {
      run: args.run,
      composeFile: args.compose,
      k8sFile: args.k8s,
      verify: args.verify,
      maxDecompressed: args.maxDecompressed,
      onProgress: progress.onProgress,
      platform: args.platform,
      allPlatforms: args.allPlatforms,
      creds: args.creds,
      authfile: args.authfile,
      tlsVerify: args.tlsVerify,
      concurrency: args.concurrency,
    });
  } catch (err) {
    progress.clear();
    // The native CLI says this one without a code.
    const code = err.message.startsWith(NO_IMAGE) ? '' : `${err.code || 'E_INTERNAL'}: `;
    process.stderr.write(`rootless-check: ${code}${err.message}\n`);
    return 2;
  }
  progress.clear();
  try {
    analysis.applyIgnores(args.ignores, ignoreText);
    // Every format but coloured text through the one renderer the native CLI uses (cli::render).
    const out = args.format === 'text' ? analysis.text(args.color) : analysis.render(args.format, args.failOn);
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
