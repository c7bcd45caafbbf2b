// The GitHub Action (action.yml, action/index.cjs) run as the runner runs it:
// inputs as INPUT_* variables with GitHub's name mangling (upper case, spaces
// to _, dashes kept: INPUT_FAIL-ON), outputs appended to $GITHUB_OUTPUT, the
// job summary to $GITHUB_STEP_SUMMARY, temp files under $RUNNER_TEMP, and
// workflow commands on stdout.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fixturesDir, requirePkg, root, tempDir } from './helpers.mjs';

const entry = path.join(root, 'action', 'index.cjs');
const pseudo = path.join(fixturesDir, 'built', 's6-overlay-real.docker-archive.tar');
const rootImage = path.join(fixturesDir, 'built', 's6-overlay-real-root.docker-archive.tar');

/** Run the action's entry with `inputs` ({ 'fail-on': 'none', … }) in a fresh runner environment. */
function runAction(inputs, options = {}) {
  const dir = tempDir('action');
  const env = {
    PATH: process.env.PATH,
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md'),
    RUNNER_TEMP: path.join(dir, 'tmp'),
    GITHUB_WORKSPACE: dir,
  };
  fs.mkdirSync(env.RUNNER_TEMP);
  fs.writeFileSync(env.GITHUB_OUTPUT, '');
  fs.writeFileSync(env.GITHUB_STEP_SUMMARY, '');
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const r = spawnSync(process.execPath, [entry], { cwd: options.cwd || dir, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const read = (f) => fs.readFileSync(f, 'utf8');
  const outputText = read(env.GITHUB_OUTPUT);
  const outputs = {};
  for (const line of outputText.split('\n')) {
    const m = /^([a-z]+)=(.*)$/.exec(line);
    if (m) outputs[m[1]] = m[2];
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, outputText, outputs, summary: read(env.GITHUB_STEP_SUMMARY), dir };
}

before(() => requirePkg());

describe('action.yml', () => {
  test('a node24 action whose main is the committed entry; the inputs and outputs the entry reads', () => {
    const yml = fs.readFileSync(path.join(root, 'action.yml'), 'utf8');
    assert.match(yml, /^runs:\n {2}using: node24\n {2}main: action\/index\.cjs$/m);
    for (const name of ['image', 'format', 'fail-on', 'ignore', 'sarif', 'platform']) assert.match(yml, new RegExp(`^ {2}${name}:$`, 'm'));
    for (const name of ['verdict', 'verdicts', 'findings', 'sarif']) assert.match(yml, new RegExp(`^ {2}${name}:\n {4}description:`, 'm'));
  });
});

describe('on a pseudo-rootless image', () => {
  test('writes verdict=pseudo-rootless, the summary and the SARIF file; fail-on none exits 0', () => {
    const r = runAction({ image: pseudo, 'fail-on': 'none', sarif: 'results/rootless.sarif', format: 'text' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.outputs.verdict, 'pseudo-rootless');
    assert.deepEqual(JSON.parse(r.outputs.verdicts), ['pseudo-rootless']);
    assert.equal(r.outputs.findings, '9');
    assert.equal(r.outputs.sarif, 'results/rootless.sarif');
    const sarif = JSON.parse(fs.readFileSync(path.join(r.dir, 'results', 'rootless.sarif'), 'utf8'));
    assert.equal(sarif.version, '2.1.0');
    assert.ok(sarif.runs[0].results.some((x) => x.ruleId === 'setuid-root'));
    assert.match(r.summary, /\*\*Verdict: ⚠️ pseudo-rootless\*\*/);
    assert.match(r.summary, /s6\\-overlay\\-suexec/);
    assert.match(r.stdout, /VERDICT: PSEUDO-ROOTLESS/);
    // Nothing is at or above none: warnings, no errors.
    assert.match(r.stdout, /^::warning title=rootless-check setuid-root \[high\] in s6-overlay-real%3Auser1000::/m);
    assert.doesNotMatch(r.stdout, /^::error/m);
  });

  test('the default fail-on (high) fails as the CLI does, with error annotations', () => {
    const r = runAction({ image: `docker-archive:${pseudo}` });
    assert.equal(r.status, 1);
    assert.equal(r.outputs.verdict, 'pseudo-rootless');
    assert.match(r.stdout, /^::error title=rootless-check setuid-root \[high\] in s6-overlay-real%3Auser1000::.*setuid root.*%0AFix: RUN chmod u-s /m);
    // Medium is below high: a warning.
    assert.match(r.stdout, /^::warning title=rootless-check s6-overlay \[medium\]/m);
    assert.equal(r.outputs.sarif, undefined);
  });

  test('ignore, one per line, accepts findings: exit 0', () => {
    const r = runAction({ image: pseudo, ignore: 'setuid-root\n# a comment\n\n  ' });
    assert.equal(r.status, 0, r.stdout);
    assert.equal(r.outputs.findings, '8');
    assert.match(r.summary, /Suppressed \(1\)/);
  });

  test('format selects what the log shows: junit', () => {
    const r = runAction({ image: pseudo, format: 'junit', 'fail-on': 'medium' });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="rootless-check" tests="\d+" failures="3"/);
  });
});

describe('other images and mistakes', () => {
  test('a root image: verdict=root', () => {
    const r = runAction({ image: rootImage, 'fail-on': 'none' });
    assert.equal(r.status, 0);
    assert.equal(r.outputs.verdict, 'root');
  });

  test('a bad input, a bad ignore or a missing file exit 2 with an error annotation', () => {
    for (const inputs of [
      { image: pseudo, 'fail-on': 'severe' },
      { image: pseudo, format: 'xml' },
      { image: pseudo, ignore: 'no-such-rule' },
      { image: '/nonexistent/image.tar' },
      {},
    ]) {
      const r = runAction(inputs);
      assert.equal(r.status, 2, JSON.stringify(inputs));
      assert.match(r.stdout, /^::error title=rootless-check::/m, JSON.stringify(inputs));
      assert.equal(r.outputText, '');
    }
  });
});

describe('workflow command escaping', () => {
  test('%, CR and LF in data; also : and , in properties', async () => {
    const { escapeData, escapeProperty } = await import(entry);
    assert.equal(escapeData('50% a\r\nb'), '50%25 a%0D%0Ab');
    assert.equal(escapeProperty('a:b,c%\n'), 'a%3Ab%2Cc%25%0A');
    // A finding message cannot start a new workflow command.
    assert.ok(!escapeData('x\n::error::forged').includes('\n'));
  });
});
