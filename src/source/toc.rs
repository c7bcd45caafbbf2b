//! eStargz and zstd:chunked layers read through their table of contents:
//! a few kilobytes fetched with `Range` requests instead of the whole blob.
//!
//! An eStargz blob (containerd/stargz-snapshotter, docs/estargz.md) is a
//! gzip'd tar whose last entry, `stargz.index.json`, lists every entry's
//! name, type, mode, owner, link and xattrs; a 51-byte footer (an empty gzip
//! member) gives the TOC's offset in its Extra field. The TOC is trusted
//! only when its digest is the one the manifest's layer descriptor names
//! (`containerd.io/snapshot/stargz/toc.digest`), as the format specifies;
//! the files the analysis reads (`/etc/passwd`, `/etc/group`) are fetched
//! by their offsets and checked against their `chunkDigest`.
//!
//! zstd:chunked (containers/storage, `docs/containers-storage-zstd-chunked.md`)
//! keeps the same kind of TOC, zstd-compressed in a skippable frame whose
//! place the descriptor gives (`io.github.containers.zstd-chunked.manifest-position`,
//! `offset:length:uncompressed length:type`) with the digest of its
//! compressed bytes (`…manifest-checksum`); each regular file's content is
//! one zstd frame from `offset` to `endOffset`, checked against `digest`.
//!
//! Anything missing or wrong: `None`, and the caller reads the whole blob.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use std::io::Read;

use base64::Engine;

use super::registry::Client;
use crate::analysis::config::Descriptor;
use crate::analysis::error::ErrorCode;
use crate::analysis::json::{key_is, Reader};
use crate::analysis::layer::{
    Compression, EntryKind, LayerBuilder, LayerLimits, LayerSummary, RawEntry,
};
use crate::archive::gzip::GzipReader;
use crate::archive::hashing::sha256_digest;
use crate::archive::input::{DynInput, StreamInput};
use crate::archive::tar_walk::TarWalker;

pub const TOC_DIGEST: &str = "containerd.io/snapshot/stargz/toc.digest";
pub const ZSTD_MANIFEST_POSITION: &str = "io.github.containers.zstd-chunked.manifest-position";
pub const ZSTD_MANIFEST_CHECKSUM: &str = "io.github.containers.zstd-chunked.manifest-checksum";
const FOOTER: u64 = 51;
/// The most a TOC may take, compressed and decoded.
const MAX_TOC: u64 = 64 << 20;

/// One TOC entry, as much as the analysis needs.
#[derive(Default)]
struct TocEntry {
    name: String,
    kind: String,
    mode: u64,
    uid: u64,
    gid: u64,
    size: u64,
    link: String,
    offset: Option<u64>,
    /// zstd:chunked: where the content's frame ends (exclusive).
    end_offset: Option<u64>,
    chunk_digest: Option<String>,
    /// zstd:chunked: the digest of the whole content.
    digest: Option<String>,
    capability: Option<Vec<u8>>,
}

/// The TOC's offset, from the footer's Extra field (`%016xSTARGZ`).
fn footer_offset(footer: &[u8]) -> Option<u64> {
    let ok = footer.len() == FOOTER as usize
        && footer[..3] == [0x1f, 0x8b, 8]
        && footer[3] & 4 != 0
        && footer[10..12] == [26, 0]
        && footer[12..14] == *b"SG"
        && footer[14..16] == [22, 0]
        && footer[32..38] == *b"STARGZ";
    if !ok {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(&footer[16..32]).ok()?, 16).ok()
}

fn parse_toc(json: &[u8]) -> Option<Vec<TocEntry>> {
    let mut entries = Vec::new();
    let mut version = None;
    let mut r = Reader::new(json);
    let number = |r: &mut Reader| -> crate::analysis::json::Result<u64> {
        match r.number()?.parse::<u64>() {
            Ok(n) => Ok(n),
            Err(_) => r.fail("a non-negative integer"),
        }
    };
    r.object(&mut |r, key| {
        if key_is(key, "version") {
            version = Some(number(r)?);
            return Ok(());
        }
        if !key_is(key, "entries") {
            return r.skip();
        }
        r.array(&mut |r| {
            let mut e = TocEntry::default();
            r.object(&mut |r, k| {
                if r.null()? {
                    return Ok(());
                }
                match k {
                    "name" => e.name = r.string()?,
                    "type" => e.kind = r.string()?,
                    "mode" => e.mode = number(r)?,
                    "uid" => e.uid = number(r)?,
                    "gid" => e.gid = number(r)?,
                    "size" => e.size = number(r)?,
                    "linkName" => e.link = r.string()?,
                    "offset" => e.offset = Some(number(r)?),
                    "endOffset" => e.end_offset = Some(number(r)?),
                    "chunkDigest" => e.chunk_digest = Some(r.string()?),
                    "digest" => e.digest = Some(r.string()?),
                    "xattrs" => r.object(&mut |r, name| {
                        let value = r.string()?;
                        if name == "security.capability" {
                            e.capability =
                                base64::engine::general_purpose::STANDARD.decode(value).ok();
                        }
                        Ok(())
                    })?,
                    _ => r.skip()?,
                }
                Ok(())
            })?;
            entries.push(e);
            Ok(())
        })
    })
    .ok()?;
    r.finish().ok()?;
    (version == Some(1)).then_some(entries)
}

fn kind_of(kind: &str) -> Option<EntryKind> {
    Some(match kind {
        "dir" => EntryKind::Dir,
        "reg" => EntryKind::File,
        "symlink" => EntryKind::Symlink,
        "hardlink" => EntryKind::HardLink,
        "char" => EntryKind::CharDevice,
        "block" => EntryKind::BlockDevice,
        "fifo" => EntryKind::Fifo,
        _ => return None, // "chunk": more of the file before it
    })
}

/// Gunzip `bytes` (one or more members), at most `limit` bytes out.
fn gunzip(bytes: Vec<u8>, limit: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    GzipReader::new(std::io::Cursor::new(bytes))
        .take(limit)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// The layer's summary from its TOC, or `None` to read the whole blob.
pub fn scan(client: &Client, d: &Descriptor, limits: LayerLimits) -> Option<LayerSummary> {
    let annotations = d.annotations.as_ref()?;
    if let Some(want) = annotations.get(TOC_DIGEST) {
        return estargz(client, d, want, limits);
    }
    let position = annotations.get(ZSTD_MANIFEST_POSITION)?;
    zstd_chunked(
        client,
        d,
        position,
        annotations.get(ZSTD_MANIFEST_CHECKSUM)?,
        limits,
    )
}

fn estargz(
    client: &Client,
    d: &Descriptor,
    want: &str,
    limits: LayerLimits,
) -> Option<LayerSummary> {
    let size = d.size.filter(|&s| s > FOOTER)?;
    let footer = client.range(&d.digest, size - FOOTER, size - 1)?;
    let toc_at =
        footer_offset(&footer).filter(|&o| o < size - FOOTER && size - FOOTER - o <= MAX_TOC)?;
    let member = client.range(&d.digest, toc_at, size - FOOTER - 1)?;
    // The TOC member holds the tar header of stargz.index.json and the JSON.
    let tar = gunzip(member, MAX_TOC)?;
    let input: DynInput<'_> = Box::new(StreamInput::new(std::io::Cursor::new(tar)));
    let mut walker = TarWalker::new(input, ErrorCode::CorruptGzip);
    let toc_entry = walker.next_entry().ok()??;
    if toc_entry.path != b"stargz.index.json" {
        return None;
    }
    let (json, cut) = walker.read_content(MAX_TOC as usize).ok()?;
    if cut || sha256_digest(&json) != want {
        return None;
    }
    let mut entries = parse_toc(&json)?;
    // Where each payload's gzip member ends: the next one's start (or the TOC's).
    let mut starts: Vec<u64> = entries.iter().filter_map(|e| e.offset).collect();
    starts.push(toc_at);
    starts.sort_unstable();
    // The TOC is a tar entry of the layer too, after every other.
    entries.push(TocEntry {
        name: String::from("stargz.index.json"),
        kind: String::from("reg"),
        mode: u64::from(toc_entry.mode),
        uid: toc_entry.uid,
        gid: toc_entry.gid,
        ..TocEntry::default()
    });
    let content = |e: &TocEntry| {
        let at = e.offset?;
        let end = starts.iter().copied().find(|&s| s > at)?;
        let bytes = gunzip(client.range(&d.digest, at, end - 1)?, e.size)?;
        (e.chunk_digest
            .as_deref()
            .is_none_or(|c| c == sha256_digest(&bytes)))
        .then_some(bytes)
    };
    summarise(&entries, Compression::Gzip, size, &content, limits)
}

fn zstd_chunked(
    client: &Client,
    d: &Descriptor,
    position: &str,
    want: &str,
    limits: LayerLimits,
) -> Option<LayerSummary> {
    let size = d.size?;
    let mut fields = position.split(':').map(|f| f.parse::<u64>().ok());
    let (at, length, plain, kind) = (
        fields.next()??,
        fields.next()??,
        fields.next()??,
        fields.next()??,
    );
    if kind != 1
        || length == 0
        || length > MAX_TOC
        || plain > MAX_TOC
        || at.checked_add(length)? > size
    {
        return None;
    }
    let compressed = client.range(&d.digest, at, at + length - 1)?;
    if sha256_digest(&compressed) != want {
        return None;
    }
    let json = unzstd(compressed, plain)?;
    let entries = parse_toc(&json)?;
    let content = |e: &TocEntry| {
        let (at, end) = (e.offset?, e.end_offset?);
        if end <= at || end > size {
            return None;
        }
        let bytes = unzstd(client.range(&d.digest, at, end - 1)?, e.size)?;
        (e.digest
            .as_deref()
            .is_none_or(|c| c == sha256_digest(&bytes)))
        .then_some(bytes)
    };
    summarise(&entries, Compression::Zstd, size, &content, limits)
}

/// Decode zstd frames, at most `limit` bytes out.
fn unzstd(bytes: Vec<u8>, limit: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    crate::archive::zstd::ZstdReader::new(std::io::Cursor::new(bytes))
        .take(limit)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// The summary of a layer from its TOC entries, in archive order; the
/// files the analysis reads are fetched with `content` (the whole content,
/// already checked against its digest).
fn summarise(
    entries: &[TocEntry],
    compression: Compression,
    size: u64,
    content: &dyn Fn(&TocEntry) -> Option<Vec<u8>>,
    limits: LayerLimits,
) -> Option<LayerSummary> {
    let mut builder = LayerBuilder::new(limits);
    builder.set_compression(compression, size);
    for e in entries {
        let Some(kind) = kind_of(&e.kind) else {
            continue;
        };
        let raw = RawEntry {
            path: e.name.as_bytes(),
            link: e.link.as_bytes(),
            kind,
            mode: (e.mode & 0o7777) as u32,
            uid: e.uid,
            gid: e.gid,
            capability: e.capability.as_deref(),
        };
        let wanted = builder.wants_content(&raw);
        if builder.add(raw).is_err() {
            return None;
        }
        if let Some(limit) = wanted {
            let mut bytes = if e.size == 0 { Vec::new() } else { content(e)? };
            if bytes.len() as u64 != e.size {
                return None;
            }
            let cut = bytes.len() > limit;
            bytes.truncate(limit);
            builder.capture(e.name.as_bytes(), bytes, cut);
        }
    }
    Some(builder.finish())
}

/// The footer and TOC parsers on untrusted bytes (`super::parse_untrusted`).
pub(crate) fn parse_untrusted(data: &[u8]) {
    if data.len() >= FOOTER as usize {
        let _ = footer_offset(&data[data.len() - FOOTER as usize..]);
    }
    if let Some(entries) = parse_toc(data) {
        for e in entries {
            let _ = kind_of(&e.kind);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footers() {
        let mut f = vec![
            0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 26, 0, b'S', b'G', 22, 0,
        ];
        f.extend_from_slice(b"00000000000004d2STARGZ");
        f.extend_from_slice(&[1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(f.len(), 51);
        assert_eq!(footer_offset(&f), Some(1234));
        let mut bad = f.clone();
        bad[32] = b'X';
        assert_eq!(footer_offset(&bad), None);
        assert_eq!(footer_offset(&f[1..]), None);
    }

    #[test]
    fn tocs() {
        let toc = br#"{"version":1,"entries":[{"name":"bin/su","type":"reg","mode":35309,"uid":0,"gid":0,"size":3,"offset":10,"xattrs":{"security.capability":"AQAAAgAEAAAAAAAAAAAAAAAAAAA="}},{"name":"x","type":"chunk"}]}"#;
        let e = parse_toc(toc).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].mode & 0o7777, 0o4755);
        assert_eq!(e[0].capability.as_deref().map(|c| c.len()), Some(20));
        assert!(parse_toc(br#"{"version":2,"entries":[]}"#).is_none());
        assert!(parse_toc(b"[").is_none());
    }
}
