//! Builders for tiny image archives, written with the `tar` crate (an
//! independent writer), for the cases no fixture has.
#![allow(dead_code)]

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use tar::{EntryType, Header};

pub fn fixtures_dir() -> PathBuf {
    match std::env::var_os("ROOTLESS_CHECK_FIXTURES") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"),
    }
}

/// One entry of a generated layer.
#[derive(Clone)]
pub struct E {
    pub path: String,
    pub kind: EntryType,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub link: String,
    pub data: Vec<u8>,
    pub pax: Vec<(String, Vec<u8>)>,
}

pub fn file(path: &str, mode: u32) -> E {
    E {
        path: path.into(),
        kind: EntryType::Regular,
        mode,
        uid: 0,
        gid: 0,
        link: String::new(),
        data: b"#!/bin/sh\n".to_vec(),
        pax: vec![],
    }
}
pub fn dir(path: &str) -> E {
    E {
        kind: EntryType::Directory,
        data: vec![],
        ..file(path, 0o755)
    }
}
pub fn symlink(path: &str, target: &str) -> E {
    E {
        kind: EntryType::Symlink,
        link: target.into(),
        data: vec![],
        ..file(path, 0o777)
    }
}
pub fn hardlink(path: &str, target: &str) -> E {
    E {
        kind: EntryType::Link,
        link: target.into(),
        data: vec![],
        ..file(path, 0o644)
    }
}
pub fn whiteout(path: &str) -> E {
    E {
        data: vec![],
        ..file(path, 0o644)
    }
}
pub fn with_data(mut e: E, data: &[u8]) -> E {
    e.data = data.to_vec();
    e
}
pub fn owned(mut e: E, uid: u64, gid: u64) -> E {
    e.uid = uid;
    e.gid = gid;
    e
}
pub fn with_caps(mut e: E, raw: &[u8]) -> E {
    e.pax
        .push(("SCHILY.xattr.security.capability".into(), raw.to_vec()));
    e
}
/// cap_net_bind_service+ep, vfs_cap_data revision 2.
pub const NET_BIND_EP: [u8; 20] = [1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// The body of a PAX extended header: `"LEN key=value\n"` records, where LEN
/// counts itself.
pub fn pax_body<K: AsRef<str>, V: AsRef<[u8]>>(records: &[(K, V)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in records {
        let (k, v) = (k.as_ref(), v.as_ref());
        let rest = 1 + k.len() + 1 + v.len() + 1; // ' ' key '=' value '\n'
        let mut len = rest + 1;
        while len != rest + len.to_string().len() {
            len = rest + len.to_string().len();
        }
        body.extend_from_slice(format!("{} {}=", len, k).as_bytes());
        body.extend_from_slice(v);
        body.push(b'\n');
    }
    body
}

/// A layer tar. `ustar` picks POSIX headers (prefix field) over GNU ones.
pub fn layer_with(entries: &[E], ustar: bool) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        if !e.pax.is_empty() {
            let body = pax_body(&e.pax);
            let mut h = Header::new_ustar();
            h.set_entry_type(EntryType::XHeader);
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, "PaxHeaders/x", body.as_slice())
                .unwrap();
        }
        let mut h = if ustar {
            Header::new_ustar()
        } else {
            Header::new_gnu()
        };
        h.set_entry_type(e.kind);
        h.set_mode(e.mode);
        h.set_uid(e.uid);
        h.set_gid(e.gid);
        h.set_mtime(0);
        h.set_size(e.data.len() as u64);
        match e.kind {
            EntryType::Symlink | EntryType::Link => {
                b.append_link(&mut h, &e.path, &e.link).unwrap();
            }
            _ => {
                b.append_data(&mut h, &e.path, e.data.as_slice()).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub fn layer(entries: &[E]) -> Vec<u8> {
    layer_with(entries, false)
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut g = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    g.write_all(data).unwrap();
    g.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{:02x}", b))
        .collect()
}

pub fn config_json(user: Option<&str>, steps: &[&str]) -> Vec<u8> {
    let history: Vec<serde_json::Value> = steps
        .iter()
        .map(|s| serde_json::json!({"created_by": s}))
        .collect();
    let mut cfg = serde_json::json!({"Cmd": ["/bin/sh"]});
    if let Some(u) = user {
        cfg["User"] = serde_json::json!(u);
    }
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": cfg, "history": history,
        "rootfs": {"type": "layers", "diff_ids": []}
    }))
    .unwrap()
}

/// A member of an outer archive.
pub enum Member {
    File(String, Vec<u8>),
    Symlink(String, String),
    Hardlink(String, String),
}

pub fn archive(members: &[Member]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for m in members {
        let mut h = Header::new_gnu();
        h.set_mode(0o644);
        h.set_mtime(0);
        match m {
            Member::File(p, data) => {
                h.set_size(data.len() as u64);
                h.set_entry_type(EntryType::Regular);
                b.append_data(&mut h, p, data.as_slice()).unwrap();
            }
            Member::Symlink(p, t) => {
                h.set_size(0);
                h.set_entry_type(EntryType::Symlink);
                b.append_link(&mut h, p, t).unwrap();
            }
            Member::Hardlink(p, t) => {
                h.set_size(0);
                h.set_entry_type(EntryType::Link);
                b.append_link(&mut h, p, t).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// A legacy `docker save`: layers first, manifest.json last (as Docker writes it).
pub fn docker_save(user: Option<&str>, layers: &[Vec<u8>], tags: &[&str]) -> Vec<u8> {
    let steps: Vec<String> = (0..layers.len())
        .map(|i| format!("RUN step {}", i))
        .collect();
    let steps: Vec<&str> = steps.iter().map(|s| s.as_str()).collect();
    docker_save_with(&config_json(user, &steps), layers, tags)
}

/// A legacy `docker save` with a given config.
pub fn docker_save_with(config: &[u8], layers: &[Vec<u8>], tags: &[&str]) -> Vec<u8> {
    let config = config.to_vec();
    let config_name = format!("{}.json", sha256_hex(&config));
    let mut members = Vec::new();
    let mut layer_paths = Vec::new();
    for l in layers {
        let p = format!("{}/layer.tar", sha256_hex(l));
        members.push(Member::File(p.clone(), l.clone()));
        layer_paths.push(p);
    }
    members.push(Member::File(config_name.clone(), config));
    let manifest =
        serde_json::json!([{"Config": config_name, "RepoTags": tags, "Layers": layer_paths}]);
    members.push(Member::File(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    archive(&members)
}

/// An OCI image layout archive: oci-layout and index.json first, blobs after.
pub fn oci_archive(user: Option<&str>, layers: &[Vec<u8>], ref_name: &str) -> Vec<u8> {
    let steps: Vec<String> = (0..layers.len())
        .map(|i| format!("RUN step {}", i))
        .collect();
    let steps: Vec<&str> = steps.iter().map(|s| s.as_str()).collect();
    let config = config_json(user, &steps);
    let cfg_digest = format!("sha256:{}", sha256_hex(&config));
    let layer_descs: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{}", sha256_hex(l)), "size": l.len()}))
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_digest, "size": config.len()},
        "layers": layer_descs
    }))
    .unwrap();
    let man_digest = format!("sha256:{}", sha256_hex(&manifest));
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man_digest, "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": ref_name}}]});
    let mut members = vec![
        Member::File(
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        Member::File("index.json".into(), serde_json::to_vec(&index).unwrap()),
        Member::File(format!("blobs/sha256/{}", sha256_hex(&manifest)), manifest),
        Member::File(format!("blobs/sha256/{}", sha256_hex(&config)), config),
    ];
    for l in layers {
        members.push(Member::File(
            format!("blobs/sha256/{}", sha256_hex(l)),
            l.clone(),
        ));
    }
    archive(&members)
}

/// Returns at most one byte per read: catches parsers that assume `read` fills the buffer.
pub struct OneByte<R>(pub R);
impl<R: Read> Read for OneByte<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.0.read(&mut buf[..1])
    }
}

/// Counts the bytes actually read, to show that skipped contents are not read.
pub struct CountingSeek<R> {
    pub inner: R,
    pub read: u64,
}
impl<R: Read> Read for CountingSeek<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}
impl<R: Seek> Seek for CountingSeek<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// A gzip layer of `zeros` zero bytes in one file (`zeros`), then a setuid
/// `usr/bin/su`: a decompression bomb, written as a multi-member gzip stream
/// (one member compressed once, repeated), so that making a 16 GiB bomb
/// takes a moment, not minutes. `zeros`: a multiple of 64 MiB, or less.
pub fn zeros_bomb_gzip(zeros: u64) -> Vec<u8> {
    zeros_bomb(zeros, |data| {
        let mut g = GzEncoder::new(Vec::new(), flate2::Compression::best());
        g.write_all(data).unwrap();
        g.finish().unwrap()
    })
}

/// The same as a zstd layer (one frame repeated).
pub fn zeros_bomb_zstd(zeros: u64) -> Vec<u8> {
    zeros_bomb(zeros, zstd)
}

/// The uncompressed tar of that layer, `zeros` bytes of zeros in the
/// middle, as its parts: the prefix, the zeros' chunk and its count, and
/// the suffix (for archives compressed as a whole).
pub fn zeros_layer_parts(zeros: u64) -> (Vec<u8>, u64, u64, Vec<u8>) {
    const CHUNK: u64 = 64 << 20;
    let mut h = Header::new_gnu();
    h.set_path("zeros").unwrap();
    h.set_size(zeros);
    h.set_mode(0o644);
    h.set_entry_type(EntryType::Regular);
    h.set_mtime(0);
    h.set_cksum();
    let chunk = zeros.min(CHUNK);
    assert!(
        zeros <= CHUNK || zeros % CHUNK == 0,
        "zeros: a multiple of 64 MiB, or less"
    );
    let count = zeros.checked_div(chunk).unwrap_or(0);
    let mut tail = vec![0u8; ((512 - zeros % 512) % 512) as usize];
    tail.extend(layer(&[file("usr/bin/su", 0o4755)]));
    (h.as_bytes().to_vec(), chunk, count, tail)
}

fn zeros_bomb(zeros: u64, compress: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let (head, chunk, count, tail) = zeros_layer_parts(zeros);
    let mut out = compress(&head);
    let member = compress(&vec![0u8; chunk as usize]);
    for _ in 0..count {
        out.extend_from_slice(&member);
    }
    out.extend(compress(&tail));
    out
}

/// An OCI image layout directory at `dir` (emptied first) holding one
/// image, ref name `latest`, whose one layer is `layer_blob` with
/// `media_type` (and `annotations`, unless null). Returns the layer file.
pub fn write_oci_layout(
    dir: &Path,
    config: &[u8],
    layer_blob: &[u8],
    media_type: &str,
    annotations: serde_json::Value,
) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    let put = |bytes: &[u8]| {
        let path = dir.join("blobs/sha256").join(sha256_hex(bytes));
        std::fs::write(&path, bytes).unwrap();
        (format!("sha256:{}", sha256_hex(bytes)), bytes.len(), path)
    };
    let (config_digest, config_size, _) = put(config);
    let (layer_digest, layer_size, layer_path) = put(layer_blob);
    let mut layer =
        serde_json::json!({"mediaType": media_type, "digest": layer_digest, "size": layer_size});
    if !annotations.is_null() {
        layer["annotations"] = annotations;
    }
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [layer],
    }))
    .unwrap();
    let (manifest_digest, manifest_size, _) = put(&manifest);
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest_size,
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    layer_path
}

/// A folder of the calling test's own, removed with what it holds when
/// dropped. The tests of one file run in parallel in one process, so a
/// folder shared between them races: one test removed it, once empty,
/// while another was about to write into it (a CI run failed so).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "rootless-check-{}-{}-{}",
            what,
            std::process::id(),
            n
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A file named `name` in this folder, holding `bytes`.
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
