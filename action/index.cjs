'use strict';
// The rootless-check GitHub Action (action.yml): analyses one image with the
// built package's Node API (pkg/node/, the wasm the Node CLI runs), prints the
// report in the `format` input, writes the Markdown report to the job summary,
// annotates findings, sets the outputs and exits as the CLI would (0, 1 a
// finding at or above fail-on, 2 unreadable or partial).
//
// No npm install at run time: pkg/ is a build output, and a release commits it
// beside this file (README, "GitHub Action": the release workflow runs
// `npm run build` and adds pkg/ to the tagged commit).
//
// Only Node's standard library and the package: GitHub's environment contract
// is small enough to follow here (INPUT_*, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
// RUNNER_TEMP, workflow commands on stdout).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');

const PKG = path.join(__dirname, '..', 'pkg', 'node', 'index.cjs');
const DEFAULT_IGNORE_FILE = '.rootless-check-ignore';
const FORMATS = ['text', 'json', 'sarif', 'markdown', 'junit', 'badge', 'shields'];
const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];

/** An input as the runner passes it: INPUT_ + the name with spaces as _, upper-cased (dashes kept). */
function input(name) {
  const value = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '';
  return value.trim();
}

// Workflow commands (https://docs.github.com/actions/reference/workflow-commands-for-github-actions):
// data escapes %, CR and LF; property values also : and ,.
function escapeData(text) {
  return String(text).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(text) {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
function command(name, properties, message) {
  const props = Object.entries(properties)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(v)}`)
    .join(',');
  process.stdout.write(`::${name}${props ? ` ${props}` : ''}::${escapeData(message)}\n`);
}

/** Append `name=value` to $GITHUB_OUTPUT; a multi-line value with a random delimiter. */
function setOutput(name, value) {
  const file = process.env.GITHUB_OUTPUT;
  if (!file) return;
  const text = String(value);
  if (!/[\r\n]/.test(text)) {
    fs.appendFileSync(file, `${name}=${text}\n`);
    return;
  }
  const delimiter = `ghadelimiter_${crypto.randomUUID()}`;
  fs.appendFileSync(file, `${name}<<${delimiter}\n${text}\n${delimiter}\n`);
}

class UsageError extends Error {}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${(r.stderr || '').trim()}`);
}

/**
 * The archive to analyse: a path as it is (docker-archive:/oci-archive:
 * prefixes taken off); docker-daemon:REF saved with docker save; a registry
 * reference copied with skopeo into RUNNER_TEMP.
 */
function archiveFor(image, platform) {
  for (const prefix of ['docker-archive:', 'oci-archive:']) {
    if (image.startsWith(prefix)) return image.slice(prefix.length);
  }
  if (fs.existsSync(image) || image === '-') {
    if (platform) command('notice', {}, `platform ${platform} is used only when fetching an image; ${image} is analysed as it is`);
    return image;
  }
  const temp = fs.mkdtempSync(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'rootless-check-'));
  const out = path.join(temp, 'image.tar');
  if (image.startsWith('docker-daemon:')) {
    const ref = image.slice('docker-daemon:'.length);
    run('docker', ['save', ...(platform ? ['--platform', platform] : []), '-o', out, ref]);
    return out;
  }
  if (/^(\/|\.\/|\.\.\/|~)|\.(tar|tar\.gz|tgz|tar\.zst)$/.test(image)) {
    throw new UsageError(`${image}: no such file`);
  }
  const ref = image.startsWith('docker://') ? image : `docker://${image}`;
  const overrides = [];
  if (platform) {
    const [os_, arch, variant] = platform.split('/');
    overrides.push('--override-os', os_, '--override-arch', arch);
    if (variant) overrides.push('--override-variant', variant);
  }
  run('skopeo', ['copy', ...overrides, ref, `docker-archive:${out}`]);
  return out;
}

function readInputs() {
  const image = input('image');
  if (!image) throw new UsageError('the image input is required');
  const format = input('format') || 'text';
  if (!FORMATS.includes(format)) throw new UsageError(`unknown format "${format}": use ${FORMATS.join(', ')}`);
  const failOn = input('fail-on') || 'high';
  if (failOn !== 'none' && !SEVERITIES.includes(failOn)) throw new UsageError(`unknown severity "${failOn}"`);
  const ignore = input('ignore')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const platform = input('platform');
  if (platform && !/^[a-z0-9_-]+\/[a-z0-9_-]+(\/[a-z0-9_-]+)?$/.test(platform)) {
    throw new UsageError(`platform takes OS/ARCH[/VARIANT], not "${platform}"`);
  }
  return { image, format, failOn, ignore, platform, sarif: input('sarif') };
}

function annotate(report, failOn) {
  const threshold = failOn === 'none' ? Infinity : SEVERITIES.indexOf(failOn);
  for (const image of report.images) {
    const name = image.tags[0] || (image.configDigest || 'image').slice(0, 19);
    for (const f of image.findings) {
      const level = SEVERITIES.indexOf(f.severity);
      if (f.severity === 'info') continue;
      const kind = level >= threshold ? 'error' : 'warning';
      const where = f.path ? ` (${f.path})` : '';
      command(kind, { title: `rootless-check ${f.rule} [${f.severity}] in ${name}` }, `${f.message}${where}\nFix: ${f.remediation}`);
    }
  }
}

async function main() {
  let inputs;
  let file;
  try {
    inputs = readInputs();
    file = archiveFor(inputs.image, inputs.platform);
  } catch (err) {
    command('error', { title: 'rootless-check' }, err.message);
    return 2;
  }
  const api = require(PKG);
  let ignoreFile;
  try {
    ignoreFile = fs.readFileSync(DEFAULT_IGNORE_FILE, 'utf8');
  } catch {
    ignoreFile = undefined;
  }
  let result;
  try {
    result = await api.check(file === '-' ? { fd: 0 } : file, {
      format: inputs.format,
      failOn: inputs.failOn,
      ignore: inputs.ignore,
      ignoreFile,
    });
  } catch (err) {
    command('error', { title: 'rootless-check' }, `${err.code || 'E_INTERNAL'}: ${err.message}`);
    return 2;
  }
  process.stdout.write(result.output);
  if (!result.output.endsWith('\n')) process.stdout.write('\n');
  annotate(result.report, inputs.failOn);
  for (const line of result.messages) command('error', { title: 'rootless-check' }, line);

  if (process.env.GITHUB_STEP_SUMMARY) fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${result.markdown}\n`);
  if (inputs.sarif) {
    fs.mkdirSync(path.dirname(path.resolve(inputs.sarif)), { recursive: true });
    fs.writeFileSync(inputs.sarif, result.sarif);
    setOutput('sarif', inputs.sarif);
  }
  setOutput('verdict', result.verdicts[0] || 'unknown');
  setOutput('verdicts', JSON.stringify(result.verdicts));
  setOutput('findings', result.report.images.reduce((n, i) => n + i.findings.length, 0));
  return result.status;
}

module.exports = { escapeData, escapeProperty, input };

if (require.main === module) {
  main().then(
    (status) => {
      process.exitCode = status;
    },
    (err) => {
      command('error', { title: 'rootless-check' }, err.stack || String(err));
      process.exitCode = 2;
    },
  );
}
