// A minimal ustar writer for tests that need a hand-made archive (e.g. one
// whose names carry HTML/JS payloads). Names must fit in 100 bytes.

import crypto from 'node:crypto';

function field(buf, offset, length, text) {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > length) throw new Error(`tar field too long: ${text}`);
  bytes.copy(buf, offset);
}

const octal = (n, width) => `${n.toString(8).padStart(width - 1, '0')}\0`;

/** One entry: `{ name, data?, mode?, uid?, gid?, type? }` (type '0' file, '5' dir). */
function entry({ name, data = Buffer.alloc(0), mode = 0o644, uid = 0, gid = 0, type = '0' }) {
  const header = Buffer.alloc(512);
  field(header, 0, 100, name);
  field(header, 100, 8, octal(mode, 8));
  field(header, 108, 8, octal(uid, 8));
  field(header, 116, 8, octal(gid, 8));
  field(header, 124, 12, octal(data.length, 12));
  field(header, 136, 12, octal(0, 12));
  field(header, 148, 8, '        ');
  field(header, 156, 1, type);
  field(header, 257, 6, 'ustar\0');
  field(header, 263, 2, '00');
  let sum = 0;
  for (const b of header) sum += b;
  field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return Buffer.concat([header, padded]);
}

/** A tar archive of the entries, with its two zero blocks at the end. */
export function tar(entries) {
  return Buffer.concat([...entries.map(entry), Buffer.alloc(1024)]);
}

/** A `docker save`-style archive: manifest.json, one config, one layer. */
export function dockerSave({ tags, config, layerEntries }) {
  const layer = tar(layerEntries);
  const diffId = `sha256:${crypto.createHash('sha256').update(layer).digest('hex')}`;
  const fullConfig = { ...config, rootfs: { type: 'layers', diff_ids: [diffId] } };
  const configBytes = Buffer.from(JSON.stringify(fullConfig));
  const configName = `${crypto.createHash('sha256').update(configBytes).digest('hex')}.json`;
  const manifest = [{ Config: configName, RepoTags: tags, Layers: ['layer0/layer.tar'] }];
  return tar([
    { name: configName, data: configBytes },
    { name: 'layer0/', type: '5', mode: 0o755 },
    { name: 'layer0/layer.tar', data: layer },
    { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
  ]);
}
