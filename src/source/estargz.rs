//! eStargz layers read through their table of contents: a few kilobytes
//! fetched with `Range` requests instead of the whole blob.
//!
//! An eStargz blob (containerd/stargz-snapshotter, docs/estargz.md) is a
//! gzip'd tar whose last entry, `stargz.index.json`, lists every entry's
//! name, type, mode, owner, link and xattrs; a 51-byte footer (an empty gzip
//! member) gives the TOC's offset in its Extra field. The TOC is trusted
//! only when its digest is the one the manifest's layer descriptor names
//! (`containerd.io/snapshot/stargz/toc.digest`), as the format specifies;
//! the files the analysis reads (`/etc/passwd`, `/etc/group`) are fetched
//! by their offsets and checked against their `chunkDigest`. Anything
//! missing or wrong: `None`, and the caller reads the whole blob.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use std::io::Read;

use base64::Engine;
use sha2::{Digest, Sha256};

use super::registry::Client;
use crate::analysis::config::Descriptor;
use crate::analysis::error::ErrorCode;
use crate::analysis::json::{key_is, Reader};
use crate::analysis::layer::{
    Compression, EntryKind, LayerBuilder, LayerLimits, LayerSummary, RawEntry,
};
use crate::archive::gzip::GzipReader;
use crate::archive::input::{DynInput, StreamInput};
use crate::archive::tar_walk::TarWalker;

pub const TOC_DIGEST: &str = "containerd.io/snapshot/stargz/toc.digest";
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
    chunk_digest: Option<String>,
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
                    "chunkDigest" => e.chunk_digest = Some(r.string()?),
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

fn sha256(bytes: &[u8]) -> String {
    let mut s = String::from("sha256:");
    for b in Sha256::digest(bytes) {
        s.push_str(&format!("{:02x}", b));
    }
    s
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
    let want = d.annotations.as_ref()?.get(TOC_DIGEST)?;
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
    if cut || sha256(&json) != *want {
        return None;
    }
    let entries = parse_toc(&json)?;
    let mut builder = LayerBuilder::new(limits);
    builder.set_compression(Compression::Gzip, size);
    // Where each payload's gzip member ends: the next one's start (or the TOC's).
    let mut starts: Vec<u64> = entries.iter().filter_map(|e| e.offset).collect();
    starts.push(toc_at);
    starts.sort_unstable();
    let the_toc = [TocEntry {
        name: String::from("stargz.index.json"),
        kind: String::from("reg"),
        mode: u64::from(toc_entry.mode),
        uid: toc_entry.uid,
        gid: toc_entry.gid,
        ..TocEntry::default()
    }];
    for e in entries.iter().chain(the_toc.iter()) {
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
            let content = if e.size == 0 {
                Vec::new()
            } else {
                let at = e.offset?;
                let end = starts.iter().copied().find(|&s| s > at)?;
                let bytes = gunzip(client.range(&d.digest, at, end - 1)?, e.size)?;
                if bytes.len() as u64 != e.size {
                    return None;
                }
                if e.chunk_digest
                    .as_deref()
                    .is_some_and(|c| c != sha256(&bytes))
                {
                    return None;
                }
                bytes
            };
            let cut = content.len() > limit;
            let mut content = content;
            content.truncate(limit);
            builder.capture(e.name.as_bytes(), content, cut);
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
