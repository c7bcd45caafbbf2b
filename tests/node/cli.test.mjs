// The Node CLI against the native one: on every fixture of EXPECTED.json and
// on broken inputs, the same stdout (JSON and text), stderr and exit code.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixtureFiles, nativeCli, pkgDir, requirePkg, runCli, tempDir } from './helpers.mjs';

const nodeCli = path.join(pkgDir, 'node', 'cli.cjs');

// A ustar header for a regular file.
function tarHeader(name, size) {
  const h = Buffer.alloc(512);
  const field = (text, at, len) => h.write(text, at, len, 'latin1');
  field(name, 0, 100);
  field('0000644\0', 100, 8);
  field('0000000\0', 108, 8);
  field('0000000\0', 116, 8);
  field(`${size.toString(8).padStart(11, '0')}\0`, 124, 12);
  field('00000000000\0', 136, 12);
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\0' + '00', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

function both(args, options) {
  return [runCli(nativeCli, args, options), runCli(process.execPath, [nodeCli, ...args], options)];
}

function assertSame(args, options) {
  const [native, node] = both(args, options);
  assert.equal(node.stdout, native.stdout, 'stdout');
  assert.equal(node.stderr, native.stderr, 'stderr');
  assert.equal(node.status, native.status, 'exit status');
  return native;
}

before(() => {
  requirePkg();
  assert.ok(fs.existsSync(nativeCli), `no native CLI at ${nativeCli}: run cargo build --release or set NATIVE_CLI`);
});

describe('every fixture', () => {
  const files = fixtureFiles();
  test('EXPECTED.json lists fixtures', () => assert.ok(files.length > 0));
  for (const file of files) {
    const name = path.relative(path.dirname(path.dirname(file)), file);
    test(`${name}: same JSON`, () => {
      const native = assertSame(['--format', 'json', file]);
      assert.equal(JSON.parse(native.stdout).schemaVersion, 1);
    });
    test(`${name}: same text, and SARIF with --verify`, () => {
      assertSame([file]);
      assertSame(['--verify', '--format', 'sarif', '--fail-on', 'none', file]);
    });
    test(`${name}: same markdown and JUnit (failures at --fail-on)`, () => {
      assertSame(['--format', 'markdown', file]);
      assertSame(['--format=junit', '--fail-on', 'medium', file]);
    });
  }
});

describe('badge and shields', () => {
  for (const name of ['s6-overlay-real.docker-archive.tar', 's6-overlay-real-root.docker-archive.tar', 'bb.docker20-save.tar']) {
    const file = fixtureFiles().find((f) => f.endsWith(`/${name}`));
    test(`${name}: the same SVG badge and shields.io JSON`, () => {
      const badge = assertSame(['--format', 'badge', file]);
      assert.match(badge.stdout, /^<svg [^>]*role="img" aria-label="rootless-check: [a-z-]+"><title>rootless-check: /);
      const shields = JSON.parse(assertSame(['-f', 'shields', '--fail-on', 'none', file]).stdout);
      assert.equal(shields.schemaVersion, 1);
    });
  }
});

describe('stdin and usage', () => {
  const file = fixtureFiles().find((f) => f.endsWith('.tar.gz'));
  test('- reads standard input (a pipe: nothing can be skipped)', () => {
    const input = fs.readFileSync(file);
    assertSame(['--format=json', '-'], { input });
  });
  for (const args of [[], ['--format'], ['--format', 'yaml'], ['--format', 'markdown', '--fail-on', 'none', file], ['--bogus'], ['a', 'b'], ['--help'], ['-V'],
    ['--fail-on', 'severe', file], ['--fail-on=none', file], ['--fail-on', 'info', file],
    ['--ignore', 'no-such-rule', file], ['--ignore', 'setuid-root:', file], ['--ignore=setuid-root', file]]) {
    test(`rootless-check ${args.map((a) => path.basename(a)).join(' ')}`, () => {
      assertSame(args);
    });
  }

  test('--ignore-file, good and bad', () => {
    const dir = tempDir('ignore');
    try {
      const good = path.join(dir, 'good');
      fs.writeFileSync(good, '# accepted\nsetuid-root:/bin/*\n\n');
      assertSame(['--ignore-file', good, '--format', 'json', file]);
      const bad = path.join(dir, 'bad');
      fs.writeFileSync(bad, 'setuid-root\nno-such-rule # typo\n');
      const native = assertSame(['--ignore-file', bad, file]);
      assert.equal(native.status, 2);
      // The default file is read from the working directory when it exists.
      fs.writeFileSync(path.join(dir, '.rootless-check-ignore'), 'no-such-rule\n');
      assert.equal(assertSame([file], { cwd: dir }).status, 2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('broken input', () => {
  let dir;
  const made = {};
  before(() => {
    dir = tempDir('broken');
    const files = fixtureFiles();
    const plain = fs.readFileSync(files.find((f) => f.endsWith('bb-filecap.docker-archive.tar')));
    const gz = fs.readFileSync(files.find((f) => f.endsWith('bb-alpinelike.docker-archive.tar.gz')));
    const write = (name, bytes) => {
      made[name] = path.join(dir, name);
      fs.writeFileSync(made[name], bytes);
    };
    write('empty', Buffer.alloc(0));
    write('zip', Buffer.from('PK\x03\x04 not a tar'));
    write('cut.tar', plain.subarray(0, Math.floor(plain.length / 2)));
    write('cut.tar.gz', gz.subarray(0, Math.floor(gz.length / 3)));
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 4096, 8192);
    write('corrupt.tar.gz', corrupt);
    // One digit of the config's timestamp changed: still valid, but altered.
    const oci = Buffer.from(fs.readFileSync(files.find((f) => f.endsWith('bb-filecap.oci-archive.tar'))));
    const at = oci.indexOf('"created":"') + '"created":"'.length;
    oci[at + 3] = oci[at + 3] === 0x39 ? 0x38 : oci[at + 3] + 1;
    write('altered.tar', oci);
    // No end-of-archive blocks after a member bigger than a read block, which
    // is skipped: the reader then reads at the very end, far past its cache.
    const big = 9 << 20;
    write('no-end.tar', Buffer.concat([tarHeader('dir/big.bin', big), Buffer.alloc(big)]));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const name of ['empty', 'zip', 'cut.tar', 'cut.tar.gz', 'corrupt.tar.gz']) {
    test(`${name}: same output and exit status 2`, () => {
      const native = assertSame(['--format', 'json', made[name]]);
      assert.equal(native.status, 2);
      assert.match(native.stderr, /^rootless-check: E_[A-Z_]+: /);
    });
  }

  test('no-end.tar: same output (a read at the end after a long skip)', () => {
    assertSame(['--format', 'json', made['no-end.tar']]);
  });

  test('altered.tar: --verify finds the digest mismatch in both', () => {
    const native = assertSame(['--verify', '--format', 'json', made['altered.tar']]);
    assert.equal(native.status, 2);
    assert.match(native.stderr, /E_DIGEST_MISMATCH/);
  });

  test('a missing file: E_IO and exit status 2 from both', () => {
    const [native, node] = both([path.join(dir, 'nope.tar')]);
    assert.equal(native.status, 2);
    assert.equal(node.status, 2);
    assert.match(node.stderr, /^rootless-check: E_IO: cannot open .*nope\.tar: /);
    assert.match(native.stderr, /^rootless-check: E_IO: cannot open .*nope\.tar: /);
  });
});
