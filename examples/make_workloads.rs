//! Writes the benchmark workloads of issue 6 (see bench/README.md):
//!
//! - `w1-oci-gzip.tar`: an OCI image layout archive (oci-layout, index.json,
//!   then the manifest, config and layer blobs under blobs/sha256/, named by
//!   their real SHA-256) with 5 gzip layers, >= 300 MB compressed: the
//!   content is mostly pseudo-random bytes, so the compressed size is real.
//! - `w2-docker-save.tar`: a legacy `docker save` archive (`<id>/layer.tar`
//!   uncompressed, `<id>/json`, `<id>/VERSION`, `<sha>.json` config,
//!   `repositories`, and `manifest.json` LAST), >= 1 GiB and >= 100,000
//!   entries across its layers.
//! - `w2-half-docker-save.tar`: the same recipe at half the size.
//! - `w3-docker-save.tar.gz`: `w2-docker-save.tar` gzipped as a whole
//!   (flate2, default level 6).
//!
//! Every image has findings: setuid/setgid files, a file capability, an
//! /etc/passwd, a whiteout, and a non-root USER in the config.
//!
//! Deterministic: the content comes from a seeded xorshift64* generator and
//! every header field is fixed, so two runs write byte-identical files.
//! No network.
//!
//! cargo run --release --example make_workloads -- OUTDIR [--scale F]
//!
//! `--scale 0.01` writes tiny versions for testing. Besides the archives it
//! writes `<archive>.layers` (the layer members, in manifest order, one a
//! line: for the GNU tar baselines) and `workloads.tsv` (sizes and counts).

// The tests' archive builders: one PAX writer for tests, sample and workloads.
#[path = "../tests/common/mod.rs"]
mod common;

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;
use sha2::{Digest, Sha256};
use tar::{Builder, EntryType, Header};

const MIB: u64 = 1 << 20;
/// Every header's mtime (2024-01-01T00:00:00Z).
const MTIME: u64 = 1_704_067_200;

// ---------------------------------------------------------------- content

/// xorshift64* (Vigna), seeded through splitmix64 so that small seeds give
/// unrelated streams.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 1 } else { z })
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64) < p * (1u64 << 53) as f64
    }
}

const WORDS: &[&str] = &[
    "the",
    "container",
    "image",
    "layer",
    "root",
    "user",
    "file",
    "system",
    "config",
    "static",
    "library",
    "function",
    "return",
    "value",
    "error",
    "string",
    "module",
    "import",
    "export",
    "const",
    "struct",
    "impl",
    "public",
    "private",
    "lib",
    "usr",
    "share",
    "locale",
    "message",
    "default",
    "version",
    "license",
    "copyright",
    "permission",
    "granted",
    "software",
    "without",
    "warranty",
    "include",
    "define",
    "if",
    "else",
    "for",
    "while",
    "0x7f",
    "1024",
    "ENOENT",
];

/// `len` bytes of content as a reader: pseudo-random bytes (incompressible)
/// or pseudo-text (compresses about 3x). Independent of how it is read.
struct Content {
    rng: Rng,
    left: u64,
    text: bool,
    /// Random: bytes of the last word not yet used (low bytes first).
    carry: u64,
    carry_len: u32,
    /// Text: the token being written and how far.
    token: &'static [u8],
    token_pos: usize,
}

impl Content {
    fn new(seed: u64, len: u64, text: bool) -> Content {
        Content {
            rng: Rng::new(seed),
            left: len,
            text,
            carry: 0,
            carry_len: 0,
            token: b"",
            token_pos: 0,
        }
    }

    fn fill_random(&mut self, buf: &mut [u8]) {
        let mut i = 0;
        while self.carry_len > 0 && i < buf.len() {
            buf[i] = self.carry as u8;
            self.carry >>= 8;
            self.carry_len -= 1;
            i += 1;
        }
        let rest = &mut buf[i..];
        let mut chunks = rest.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.rng.next().to_le_bytes());
        }
        let tail = chunks.into_remainder();
        if !tail.is_empty() {
            let mut w = self.rng.next();
            for b in tail.iter_mut() {
                *b = w as u8;
                w >>= 8;
            }
            self.carry = w;
            self.carry_len = 8 - tail.len() as u32;
        }
    }

    fn fill_text(&mut self, buf: &mut [u8]) {
        let mut i = 0;
        while i < buf.len() {
            if self.token_pos == self.token.len() {
                // The next word, after a separator: mostly a space, sometimes a newline.
                let r = self.rng.next();
                self.token = WORDS[(r % WORDS.len() as u64) as usize].as_bytes();
                self.token_pos = 0;
                buf[i] = if (r >> 32) % 12 == 0 { b'\n' } else { b' ' };
                i += 1;
                continue;
            }
            let n = (self.token.len() - self.token_pos).min(buf.len() - i);
            buf[i..i + n].copy_from_slice(&self.token[self.token_pos..self.token_pos + n]);
            self.token_pos += n;
            i += n;
        }
    }
}

impl Read for Content {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        if self.text {
            self.fill_text(&mut buf[..n]);
        } else {
            self.fill_random(&mut buf[..n]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

// ---------------------------------------------------------------- hashing

/// A writer that hashes and counts what goes through it.
struct HashW<W: Write> {
    inner: W,
    hash: Sha256,
    len: u64,
}

impl<W: Write> HashW<W> {
    fn new(inner: W) -> HashW<W> {
        HashW {
            inner,
            hash: Sha256::new(),
            len: 0,
        }
    }
    fn done(self) -> (W, String, u64) {
        (self.inner, hex(&self.hash.finalize()), self.len)
    }
}

impl<W: Write> Write for HashW<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{:02x}", b)).collect()
}

fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

// ---------------------------------------------------------------- tar entries

fn header(kind: EntryType, mode: u32, uid: u64, gid: u64, size: u64) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(uid);
    h.set_gid(gid);
    h.set_mtime(MTIME);
    h.set_size(size);
    h
}

/// Writes one layer and counts its entries (as `tar -t` lists them).
struct Layer<W: Write> {
    b: Builder<W>,
    entries: u64,
}

impl<W: Write> Layer<W> {
    fn dir(&mut self, path: &str, uid: u64) -> io::Result<()> {
        let mut h = header(EntryType::Directory, 0o755, uid, uid, 0);
        self.b.append_data(&mut h, path, io::empty())?;
        self.entries += 1;
        Ok(())
    }
    fn file(
        &mut self,
        path: &str,
        mode: u32,
        uid: u64,
        gid: u64,
        data: impl Read,
        len: u64,
    ) -> io::Result<()> {
        let mut h = header(EntryType::Regular, mode, uid, gid, len);
        self.b.append_data(&mut h, path, data)?;
        self.entries += 1;
        Ok(())
    }
    fn bytes(&mut self, path: &str, mode: u32, uid: u64, gid: u64, data: &[u8]) -> io::Result<()> {
        self.file(path, mode, uid, gid, data, data.len() as u64)
    }
    fn link(&mut self, kind: EntryType, path: &str, target: &str) -> io::Result<()> {
        let mode = if kind == EntryType::Symlink {
            0o777
        } else {
            0o644
        };
        let mut h = header(kind, mode, 0, 0, 0);
        self.b.append_link(&mut h, path, target)?;
        self.entries += 1;
        Ok(())
    }
    /// A PAX extended header (not counted: `tar -t` does not list it).
    fn pax(&mut self, records: &[(&str, &[u8])]) -> io::Result<()> {
        let body = common::pax_body(records);
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::XHeader);
        h.set_mode(0o644);
        h.set_mtime(MTIME);
        h.set_size(body.len() as u64);
        self.b
            .append_data(&mut h, "PaxHeaders.0/entry", body.as_slice())
    }
}

/// What goes into one layer, at scale 1.
#[derive(Clone, Copy)]
struct LayerSpec {
    /// Small files, 0..SMALL_MAX bytes each, 100 a directory.
    small: u64,
    /// Big files (always pseudo-random) and their size in MiB.
    big: u64,
    big_mib: u64,
    /// The share of small files that are pseudo-text rather than random.
    text: f64,
}

const SMALL_MAX: u64 = 12 * 1024;

const CAP_NET_RAW_EP: [u8; 20] = [
    1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

fn fill_layer<W: Write>(
    l: &mut Layer<W>,
    index: usize,
    last: bool,
    spec: LayerSpec,
    scale: f64,
    seed: u64,
) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    if index == 0 {
        // The base: the files the analysis reports on.
        for d in ["bin", "etc", "usr", "usr/bin", "usr/sbin", "usr/lib"] {
            l.dir(d, 0)?;
        }
        l.bytes("bin/sh", 0o755, 0, 0, b"\x7fELF sh\n")?;
        l.bytes(
            "etc/passwd",
            0o644,
            0,
            0,
            b"root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/sbin/nologin\n\
              nobody:x:65534:65534:nobody:/:/sbin/nologin\napp:x:1000:1000:app:/app:/bin/sh\n",
        )?;
        l.bytes(
            "etc/group",
            0o644,
            0,
            0,
            b"root:x:0:\nshadow:x:42:\napp:x:1000:\n",
        )?;
        l.bytes("etc/shadow", 0o640, 0, 42, b"root:*:19000:0:99999:7:::\n")?;
        l.bytes("usr/bin/su", 0o4755, 0, 0, b"\x7fELF su\n")?;
        l.bytes("usr/bin/passwd", 0o4755, 0, 0, b"\x7fELF passwd\n")?;
        l.bytes("usr/bin/newgrp", 0o4755, 0, 0, b"\x7fELF newgrp\n")?;
        l.bytes("usr/bin/chage", 0o2755, 0, 42, b"\x7fELF chage\n")?;
        l.bytes(
            "usr/sbin/unix_chkpwd",
            0o2755,
            0,
            42,
            b"\x7fELF unix_chkpwd\n",
        )?;
        l.pax(&[("SCHILY.xattr.security.capability", &CAP_NET_RAW_EP)])?;
        l.bytes("usr/bin/ping", 0o755, 0, 0, b"\x7fELF ping\n")?;
    }
    if index == 1 {
        // A later layer deletes one of the setuid files.
        l.dir("usr", 0)?;
        l.dir("usr/bin", 0)?;
        l.bytes("usr/bin/.wh.newgrp", 0o644, 0, 0, b"")?;
    }
    let top = format!("opt/l{}", index);
    if index == 0 {
        l.dir("opt", 0)?;
    }
    l.dir(&top, 0)?;
    let small = (spec.small as f64 * scale).round() as u64;
    for i in 0..small {
        if i % 100 == 0 {
            l.dir(&format!("{}/d{:04}", top, i / 100), 0)?;
        }
        let text = rng.chance(spec.text);
        let len = rng.below(SMALL_MAX + 1);
        let path = format!(
            "{}/d{:04}/f{:06}.{}",
            top,
            i / 100,
            i,
            if text { "txt" } else { "bin" }
        );
        let mode = if text { 0o644 } else { 0o755 };
        l.file(&path, mode, 0, 0, Content::new(rng.next(), len, text), len)?;
        if i % 40 == 39 {
            let name = path.rsplit('/').next().unwrap().to_string();
            l.link(
                EntryType::Symlink,
                &format!("{}/d{:04}/s{:06}", top, i / 100, i),
                &name,
            )?;
        }
        if i % 97 == 96 {
            l.link(
                EntryType::Link,
                &format!("{}/d{:04}/h{:06}", top, i / 100, i),
                &path,
            )?;
        }
    }
    if spec.big > 0 {
        l.dir(&format!("{}/big", top), 0)?;
        let len = (spec.big_mib as f64 * MIB as f64 * scale).round() as u64;
        for k in 0..spec.big {
            let path = format!("{}/big/blob{:02}.bin", top, k);
            l.file(
                &path,
                0o644,
                0,
                0,
                Content::new(rng.next(), len, false),
                len,
            )?;
        }
    }
    if last {
        l.dir("app", 1000)?;
        l.file(
            "app/server",
            0o755,
            1000,
            1000,
            Content::new(seed ^ 0xA99, 64 << 10, false),
            64 << 10,
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------- outer archives

struct Built {
    /// The file of the layer (compressed or not), to be copied into the archive.
    tmp: PathBuf,
    /// sha256 of that file and its length.
    digest: String,
    size: u64,
    /// sha256 of the uncompressed layer (the diff_id) and its length.
    diff_id: String,
    tar_size: u64,
    entries: u64,
}

fn build_layer(
    tmp: &Path,
    index: usize,
    last: bool,
    spec: LayerSpec,
    scale: f64,
    seed: u64,
    gzip: bool,
) -> io::Result<Built> {
    let file = BufWriter::with_capacity(1 << 20, File::create(tmp)?);
    if gzip {
        let inner = HashW::new(file);
        let gz = GzEncoder::new(inner, Compression::default());
        let mut l = Layer {
            b: Builder::new(HashW::new(gz)),
            entries: 0,
        };
        fill_layer(&mut l, index, last, spec, scale, seed)?;
        let (gz, diff_id, tar_size) = l.b.into_inner()?.done();
        let (mut file, digest, size) = gz.finish()?.done();
        file.flush()?;
        Ok(Built {
            tmp: tmp.into(),
            digest,
            size,
            diff_id,
            tar_size,
            entries: l.entries,
        })
    } else {
        let mut l = Layer {
            b: Builder::new(HashW::new(file)),
            entries: 0,
        };
        fill_layer(&mut l, index, last, spec, scale, seed)?;
        let (mut file, digest, size) = l.b.into_inner()?.done();
        file.flush()?;
        Ok(Built {
            tmp: tmp.into(),
            digest: digest.clone(),
            size,
            diff_id: digest,
            tar_size: size,
            entries: l.entries,
        })
    }
}

fn build_layers(
    tmpdir: &Path,
    name: &str,
    specs: &[LayerSpec],
    scale: f64,
    seed: u64,
    gzip: bool,
) -> io::Result<Vec<Built>> {
    let mut out = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let tmp = tmpdir.join(format!("{}-{}.layer", name, i));
        let last = i + 1 == specs.len();
        out.push(build_layer(
            &tmp,
            i,
            last,
            *spec,
            scale,
            seed * 1000 + i as u64,
            gzip,
        )?);
    }
    Ok(out)
}

fn config_json(layers: &[Built]) -> Vec<u8> {
    let history: Vec<_> = (0..layers.len())
        .map(|i| json!({"created": "2024-01-01T00:00:00Z", "created_by": format!("/bin/sh -c #(nop) ADD layer{}.tar / # bench", i)}))
        .chain(std::iter::once(json!({"created": "2024-01-01T00:00:00Z", "created_by": "USER app", "empty_layer": true})))
        .collect();
    let diff_ids: Vec<_> = layers
        .iter()
        .map(|l| format!("sha256:{}", l.diff_id))
        .collect();
    serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"User": "app", "Cmd": ["/app/server"], "Env": ["PATH=/usr/bin:/bin"], "WorkingDir": "/app"},
        "history": history,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

/// The outer archive, written member by member.
struct Outer {
    b: Builder<BufWriter<File>>,
    members: u64,
}

impl Outer {
    fn create(path: &Path) -> io::Result<Outer> {
        Ok(Outer {
            b: Builder::new(BufWriter::with_capacity(1 << 20, File::create(path)?)),
            members: 0,
        })
    }
    fn dir(&mut self, path: &str) -> io::Result<()> {
        let mut h = header(EntryType::Directory, 0o755, 0, 0, 0);
        self.b.append_data(&mut h, path, io::empty())?;
        self.members += 1;
        Ok(())
    }
    fn bytes(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        let mut h = header(EntryType::Regular, 0o644, 0, 0, data.len() as u64);
        self.b.append_data(&mut h, path, data)?;
        self.members += 1;
        Ok(())
    }
    fn copy(&mut self, path: &str, from: &Path) -> io::Result<()> {
        let f = File::open(from)?;
        let len = f.metadata()?.len();
        let mut h = header(EntryType::Regular, 0o644, 0, 0, len);
        self.b
            .append_data(&mut h, path, io::BufReader::with_capacity(1 << 20, f))?;
        self.members += 1;
        fs::remove_file(from)
    }
    fn finish(self) -> io::Result<u64> {
        let mut w = self.b.into_inner()?;
        w.flush()?;
        Ok(self.members)
    }
}

struct Summary {
    name: String,
    bytes: u64,
    members: u64,
    layers: usize,
    entries: u64,
    tar_bytes: u64,
    note: String,
}

fn oci_gzip(
    out: &Path,
    tmpdir: &Path,
    name: &str,
    specs: &[LayerSpec],
    scale: f64,
    seed: u64,
) -> io::Result<Summary> {
    let layers = build_layers(tmpdir, name, specs, scale, seed, true)?;
    let config = config_json(&layers);
    let config_digest = sha256_hex(&config);
    let layer_descs: Vec<_> = layers
        .iter()
        .map(|l| {
            json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                   "digest": format!("sha256:{}", l.digest), "size": l.size})
        })
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": format!("sha256:{}", config_digest), "size": config.len()},
        "layers": layer_descs,
    }))
    .unwrap();
    let manifest_digest = sha256_hex(&manifest);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{}", manifest_digest),
            "size": manifest.len(),
            "annotations": {"io.containerd.image.name": "bench/w1:latest",
                            "org.opencontainers.image.ref.name": "latest"},
        }],
    }))
    .unwrap();

    let path = out.join(name);
    let mut o = Outer::create(&path)?;
    o.bytes("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    o.bytes("index.json", &index)?;
    o.dir("blobs/")?;
    o.dir("blobs/sha256/")?;
    o.bytes(&format!("blobs/sha256/{}", manifest_digest), &manifest)?;
    o.bytes(&format!("blobs/sha256/{}", config_digest), &config)?;
    let mut list = String::new();
    for l in &layers {
        let member = format!("blobs/sha256/{}", l.digest);
        o.copy(&member, &l.tmp)?;
        list.push_str(&member);
        list.push('\n');
    }
    let members = o.finish()?;
    fs::write(out.join(format!("{}.layers", name)), list)?;
    let compressed: u64 = layers.iter().map(|l| l.size).sum();
    Ok(Summary {
        name: name.into(),
        bytes: fs::metadata(&path)?.len(),
        members,
        layers: layers.len(),
        entries: layers.iter().map(|l| l.entries).sum(),
        tar_bytes: layers.iter().map(|l| l.tar_size).sum(),
        note: format!("gzip layers: {:.1} MB compressed", compressed as f64 / 1e6),
    })
}

fn docker_save(
    out: &Path,
    tmpdir: &Path,
    name: &str,
    specs: &[LayerSpec],
    scale: f64,
    seed: u64,
) -> io::Result<Summary> {
    let layers = build_layers(tmpdir, name, specs, scale, seed, false)?;
    let config = config_json(&layers);
    let config_name = format!("{}.json", sha256_hex(&config));
    let path = out.join(name);
    let mut o = Outer::create(&path)?;
    let mut layer_paths = Vec::new();
    let mut parent: Option<String> = None;
    for l in &layers {
        // Legacy v1 ids; here simply the layer's digest.
        let id = &l.digest;
        o.dir(&format!("{}/", id))?;
        o.bytes(&format!("{}/VERSION", id), b"1.0")?;
        let mut v1 = json!({"id": id, "created": "2024-01-01T00:00:00Z",
                            "container_config": {"Cmd": null}, "os": "linux"});
        if let Some(p) = &parent {
            v1["parent"] = json!(p);
        }
        o.bytes(&format!("{}/json", id), &serde_json::to_vec(&v1).unwrap())?;
        let member = format!("{}/layer.tar", id);
        o.copy(&member, &l.tmp)?;
        layer_paths.push(member);
        parent = Some(id.clone());
    }
    o.bytes(&config_name, &config)?;
    let top = layers.last().map(|l| l.digest.clone()).unwrap_or_default();
    o.bytes(
        "repositories",
        &serde_json::to_vec(&json!({"bench/w2": {"latest": top}})).unwrap(),
    )?;
    let manifest =
        json!([{"Config": config_name, "RepoTags": ["bench/w2:latest"], "Layers": layer_paths}]);
    o.bytes("manifest.json", &serde_json::to_vec(&manifest).unwrap())?;
    let members = o.finish()?;
    fs::write(
        out.join(format!("{}.layers", name)),
        layer_paths.join("\n") + "\n",
    )?;
    Ok(Summary {
        name: name.into(),
        bytes: fs::metadata(&path)?.len(),
        members,
        layers: layers.len(),
        entries: layers.iter().map(|l| l.entries).sum(),
        tar_bytes: layers.iter().map(|l| l.tar_size).sum(),
        note: "uncompressed layers, manifest.json last".into(),
    })
}

fn gzip_file(from: &Path, to: &Path) -> io::Result<u64> {
    let mut r = io::BufReader::with_capacity(1 << 20, File::open(from)?);
    let w = BufWriter::with_capacity(1 << 20, File::create(to)?);
    let mut gz = GzEncoder::new(w, Compression::default());
    io::copy(&mut r, &mut gz)?;
    gz.finish()?.flush()?;
    Ok(fs::metadata(to)?.len())
}

// ---------------------------------------------------------------- recipes

/// W1: 5 gzip layers, ~390 MB of tar, 90% of small files random: >= 300 MB gzip.
const W1: &[LayerSpec] = &[
    LayerSpec {
        small: 5_000,
        big: 0,
        big_mib: 0,
        text: 0.1,
    },
    LayerSpec {
        small: 8_000,
        big: 2,
        big_mib: 40,
        text: 0.1,
    },
    LayerSpec {
        small: 6_000,
        big: 1,
        big_mib: 40,
        text: 0.1,
    },
    LayerSpec {
        small: 4_000,
        big: 2,
        big_mib: 40,
        text: 0.1,
    },
    LayerSpec {
        small: 2_000,
        big: 1,
        big_mib: 40,
        text: 0.1,
    },
];

/// W2: 5 uncompressed layers, ~113,000 entries, ~1.2 GB; half the small
/// files are pseudo-text, so W3 (W2 gzipped) compresses to about 2/3.
const W2: &[LayerSpec] = &[
    LayerSpec {
        small: 20_000,
        big: 0,
        big_mib: 0,
        text: 0.5,
    },
    LayerSpec {
        small: 35_000,
        big: 2,
        big_mib: 48,
        text: 0.5,
    },
    LayerSpec {
        small: 30_000,
        big: 3,
        big_mib: 48,
        text: 0.5,
    },
    LayerSpec {
        small: 15_000,
        big: 3,
        big_mib: 48,
        text: 0.5,
    },
    LayerSpec {
        small: 8_000,
        big: 2,
        big_mib: 48,
        text: 0.5,
    },
];

fn main() -> io::Result<()> {
    let mut out: Option<PathBuf> = None;
    let mut scale = 1.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--scale" => {
                scale = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|v: &f64| *v > 0.0)
                    .unwrap_or_else(|| usage("--scale needs a positive number"))
            }
            _ if a.starts_with("--scale=") => {
                scale = a["--scale=".len()..]
                    .parse()
                    .ok()
                    .filter(|v: &f64| *v > 0.0)
                    .unwrap_or_else(|| usage("--scale needs a positive number"))
            }
            _ if a.starts_with('-') => usage(&format!("unknown option {}", a)),
            _ if out.is_none() => out = Some(PathBuf::from(a)),
            _ => usage("give one OUTDIR"),
        }
    }
    let out = out.unwrap_or_else(|| usage("no OUTDIR given"));
    fs::create_dir_all(&out)?;
    let tmpdir = out.join(".tmp");
    fs::create_dir_all(&tmpdir)?;

    let mut sums = Vec::new();
    let t = std::time::Instant::now();
    sums.push(oci_gzip(&out, &tmpdir, "w1-oci-gzip.tar", W1, scale, 1)?);
    eprintln!("w1 done ({:.1}s)", t.elapsed().as_secs_f64());
    sums.push(docker_save(
        &out,
        &tmpdir,
        "w2-docker-save.tar",
        W2,
        scale,
        2,
    )?);
    eprintln!("w2 done ({:.1}s)", t.elapsed().as_secs_f64());
    sums.push(docker_save(
        &out,
        &tmpdir,
        "w2-half-docker-save.tar",
        W2,
        scale * 0.5,
        2,
    )?);
    eprintln!("w2-half done ({:.1}s)", t.elapsed().as_secs_f64());
    let w2 = &sums[1];
    let w3_bytes = gzip_file(&out.join(&w2.name), &out.join("w3-docker-save.tar.gz"))?;
    fs::copy(
        out.join("w2-docker-save.tar.layers"),
        out.join("w3-docker-save.tar.gz.layers"),
    )?;
    sums.push(Summary {
        name: "w3-docker-save.tar.gz".into(),
        bytes: w3_bytes,
        members: w2.members,
        layers: w2.layers,
        entries: w2.entries,
        tar_bytes: w2.tar_bytes,
        note: "w2-docker-save.tar, gzip level 6 as a whole".into(),
    });
    eprintln!("w3 done ({:.1}s)", t.elapsed().as_secs_f64());
    fs::remove_dir(&tmpdir)?;

    let mut tsv =
        String::from("name\tbytes\tmembers\tlayers\tlayer_entries\tlayer_tar_bytes\tnote\n");
    println!("scale {}", scale);
    for s in &sums {
        tsv.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            s.name, s.bytes, s.members, s.layers, s.entries, s.tar_bytes, s.note
        ));
        println!(
            "{:<26} {:>9.1} MB  {:>3} members  {} layers  {:>7} entries in layers  {:>9.1} MB of layer tar  ({})",
            s.name,
            s.bytes as f64 / 1e6,
            s.members,
            s.layers,
            s.entries,
            s.tar_bytes as f64 / 1e6,
            s.note
        );
    }
    fs::write(out.join("workloads.tsv"), tsv)?;
    Ok(())
}

fn usage(message: &str) -> ! {
    eprintln!(
        "make_workloads: {}\nusage: make_workloads OUTDIR [--scale F]",
        message
    );
    std::process::exit(2)
}
