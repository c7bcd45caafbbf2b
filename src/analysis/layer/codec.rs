//! A compact binary form of [`LayerSummary`], so that layers summarised in
//! parallel (worker threads, Web Workers: separate wasm instances) can be
//! handed back to the one that assembles the images. Decoding checks every
//! length and span: a damaged buffer gives `None`, never a panic.

use alloc::string::String;
use alloc::vec::Vec;

use super::plain::{Group, PlainFile, PlainFiles};
use super::{CapturedFile, Compression, EntryKind, LayerSummary, PathKey, Record, Span};
use crate::analysis::caps::FileCaps;
use crate::analysis::error::{Error, ErrorCode};

/// First bytes of every encoded summary; bumped when the layout changes.
const MAGIC: &[u8; 4] = b"RLS3";

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn opt_u64(&mut self, v: Option<u64>) {
        self.u8(v.is_some() as u8);
        self.u64(v.unwrap_or(0));
    }
    fn opt_str(&mut self, v: Option<&str>) {
        self.u8(v.is_some() as u8);
        self.bytes(v.unwrap_or("").as_bytes());
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn bool(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }
    fn string(&mut self) -> Option<String> {
        Some(String::from(core::str::from_utf8(self.bytes()?).ok()?))
    }
    // An absent value is written as zero or empty, and must read so: one
    // summary has exactly one encoding.
    fn opt_u64(&mut self) -> Option<Option<u64>> {
        let some = self.bool()?;
        let v = self.u64()?;
        match (some, v) {
            (true, v) => Some(Some(v)),
            (false, 0) => Some(None),
            (false, _) => None,
        }
    }
    fn opt_string(&mut self) -> Option<Option<String>> {
        let some = self.bool()?;
        let v = self.string()?;
        match (some, v.is_empty()) {
            (true, _) => Some(Some(v)),
            (false, true) => Some(None),
            (false, false) => None,
        }
    }
    /// A count of items each at least `min_size` bytes long: never more than
    /// the bytes left could hold, so a bad count cannot allocate much.
    fn count(&mut self, min_size: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.0.len() / min_size.max(1)).then_some(n)
    }
}

const KINDS: [EntryKind; 7] = [
    EntryKind::File,
    EntryKind::Dir,
    EntryKind::Symlink,
    EntryKind::HardLink,
    EntryKind::CharDevice,
    EntryKind::BlockDevice,
    EntryKind::Fifo,
];

/// The groups and files of [`PlainFiles`], after their key.
fn decode_plain(
    r: &mut Reader<'_>,
    key: PathKey,
    span: &dyn Fn(u32, u32) -> Option<Span>,
) -> Option<PlainFiles> {
    let n = r.count(24)?;
    let mut groups = Vec::with_capacity(n);
    for _ in 0..n {
        let parent = span(r.u32()?, r.u32()?)?;
        let (first_seq, mode, uid, gid) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?);
        // Plain files have no setuid or setgid bit.
        if mode & !0o1777 != 0 {
            return None;
        }
        groups.push(Group {
            parent,
            first_seq,
            mode: mode as u16,
            uid,
            gid,
        });
    }
    let n = r.count(12)?;
    let mut files = Vec::with_capacity(n);
    for _ in 0..n {
        let (hash_lo, hash_hi, group) = (r.u32()?, r.u32()?, r.u32()?);
        if group as usize >= groups.len() {
            return None;
        }
        files.push(PlainFile {
            hash_lo,
            hash_hi,
            group,
        });
    }
    // One file per hash, in order: lookups rely on it.
    if files.windows(2).any(|w| w[0].hash() >= w[1].hash()) {
        return None;
    }
    Some(PlainFiles {
        key: Some(key),
        files,
        groups,
        open: false,
    })
}

const COMPRESSIONS: [Compression; 3] = [Compression::None, Compression::Gzip, Compression::Zstd];

fn index_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).unwrap_or(0) as u8
}

impl LayerSummary {
    /// The summary as bytes for [`LayerSummary::decode`].
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(
            self.arena.len() + self.records.len() * 34 + self.plain.files.len() * 12 + 64,
        ));
        w.0.extend_from_slice(MAGIC);
        w.bytes(self.arena.as_bytes());
        w.u64(self.records.len() as u64);
        for r in &self.records {
            let link = r.link();
            for v in [r.path.start, r.path.len, link.start, link.len] {
                w.u32(v);
            }
            w.u8(index_of(&KINDS, &r.kind));
            for v in [u32::from(r.mode), r.uid, r.gid, r.caps, r.seq] {
                w.u32(v);
            }
            w.u8(r.link_resolved as u8);
        }
        // The key, then (only with one) the groups and the files.
        match self.plain.key {
            Some(key) => {
                let [k0, k1] = key.words();
                w.u8(1);
                w.u64(k0);
                w.u64(k1);
                w.u64(self.plain.groups.len() as u64);
                for g in &self.plain.groups {
                    for v in [
                        g.parent.start,
                        g.parent.len,
                        g.first_seq,
                        u32::from(g.mode),
                        g.uid,
                        g.gid,
                    ] {
                        w.u32(v);
                    }
                }
                w.u64(self.plain.files.len() as u64);
                for f in &self.plain.files {
                    for v in [f.hash_lo, f.hash_hi, f.group] {
                        w.u32(v);
                    }
                }
            }
            None => w.u8(0),
        }
        w.u64(self.caps.len() as u64);
        for c in &self.caps {
            w.u64(c.permitted);
            w.u64(c.inheritable);
            w.u8(c.effective as u8);
            w.u8(c.revision);
            w.opt_u64(c.root_id.map(u64::from));
        }
        for list in [&self.whiteouts, &self.opaque_dirs] {
            w.u64(list.len() as u64);
            for s in list {
                w.bytes(s.as_bytes());
            }
        }
        w.u64(self.captured.len() as u64);
        for c in &self.captured {
            w.bytes(c.path.as_bytes());
            w.bytes(&c.bytes);
            w.u8(c.truncated as u8);
        }
        w.u64(self.entry_count);
        w.u64(self.escaping_paths);
        w.u64(self.undecodable_caps);
        match self.compression {
            Some(c) => w.u8(1 + index_of(&COMPRESSIONS, &c)),
            None => w.u8(0),
        }
        w.u64(self.stored_size);
        w.u64(self.decompressed);
        w.u8(self.over_budget as u8);
        w.opt_str(self.diff_id.as_deref());
        w.u64(self.errors.len() as u64);
        for e in &self.errors {
            w.u8(index_of(&ErrorCode::ALL, &e.code));
            w.bytes(e.message.as_bytes());
            w.opt_str(e.entry.as_deref());
            w.opt_u64(e.offset);
        }
        w.0
    }

    /// A summary from [`LayerSummary::encode`]'s bytes; `None` if they are not
    /// exactly that (wrong magic, lengths, spans or values, trailing bytes).
    pub fn decode(bytes: &[u8]) -> Option<LayerSummary> {
        let mut r = Reader(bytes);
        if r.take(4)? != MAGIC {
            return None;
        }
        let arena = r.string()?;
        let span = |start: u32, len: u32| {
            let end = start.checked_add(len)? as usize;
            let ok = end <= arena.len()
                && arena.is_char_boundary(start as usize)
                && arena.is_char_boundary(end);
            ok.then_some(Span { start, len })
        };
        let n = r.count(34)?;
        let mut records = Vec::with_capacity(n);
        for _ in 0..n {
            let path = span(r.u32()?, r.u32()?)?;
            let link = span(r.u32()?, r.u32()?)?;
            // A record keeps its link right after its path (`Record::link`).
            if link.start != path.start + path.len {
                return None;
            }
            let kind = *KINDS.get(r.u8()? as usize)?;
            let (mode, uid, gid, caps, seq) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?, r.u32()?);
            let link_resolved = r.bool()?;
            records.push(Record {
                path,
                link_len: link.len,
                kind,
                mode: (mode <= 0o7777).then_some(mode as u16)?,
                uid,
                gid,
                caps,
                link_resolved,
                seq,
            });
        }
        let plain = match r.u8()? {
            0 => PlainFiles::default(),
            // A build without `compact-layers` refuses a key (and plain files).
            1 => {
                let key = PathKey::new([r.u64()?, r.u64()?])?;
                decode_plain(&mut r, key, &span)?
            }
            _ => return None,
        };
        let n = r.count(27)?;
        let mut caps = Vec::with_capacity(n);
        for _ in 0..n {
            caps.push(FileCaps {
                permitted: r.u64()?,
                inheritable: r.u64()?,
                effective: r.bool()?,
                revision: r.u8()?,
                root_id: match r.opt_u64()? {
                    Some(v) => Some(u32::try_from(v).ok()?),
                    None => None,
                },
            });
        }
        if records.iter().any(|rec| rec.caps as usize > caps.len()) {
            return None;
        }
        // One record per path, in path order: lookups and the merge rely on it.
        let text = |sp: Span| &arena[sp.range()];
        if records
            .windows(2)
            .any(|w| text(w[0].path) >= text(w[1].path))
        {
            return None;
        }
        let mut lists = [Vec::new(), Vec::new()];
        for list in lists.iter_mut() {
            let n = r.count(8)?;
            for _ in 0..n {
                list.push(r.string()?);
            }
        }
        let [whiteouts, opaque_dirs] = lists;
        let n = r.count(17)?;
        let mut captured = Vec::with_capacity(n);
        for _ in 0..n {
            captured.push(CapturedFile {
                path: r.string()?,
                bytes: r.bytes()?.to_vec(),
                truncated: r.bool()?,
            });
        }
        let entry_count = r.u64()?;
        let escaping_paths = r.u64()?;
        let undecodable_caps = r.u64()?;
        let compression = match r.u8()? {
            0 => None,
            k => Some(*COMPRESSIONS.get(k as usize - 1)?),
        };
        let stored_size = r.u64()?;
        let decompressed = r.u64()?;
        let over_budget = r.bool()?;
        let diff_id = r.opt_string()?;
        let n = r.count(27)?;
        let mut errors = Vec::with_capacity(n);
        for _ in 0..n {
            errors.push(Error {
                code: *ErrorCode::ALL.get(r.u8()? as usize)?,
                message: r.string()?,
                entry: r.opt_string()?,
                offset: r.opt_u64()?,
            });
        }
        if !r.0.is_empty() {
            return None;
        }
        Some(LayerSummary {
            arena,
            records,
            caps,
            plain,
            whiteouts,
            opaque_dirs,
            captured,
            entry_count,
            escaping_paths,
            undecodable_caps,
            compression,
            stored_size,
            decompressed,
            over_budget,
            diff_id,
            errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::layer::{LayerBuilder, LayerLimits, RawEntry};

    fn sample() -> LayerSummary {
        let mut b = LayerBuilder::new(LayerLimits {
            path_key: PathKey::new([3, 5]),
            ..LayerLimits::default()
        });
        let cap = [1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        type Spec<'a> = (&'a str, EntryKind, u32, &'a str, Option<&'a [u8]>);
        let entries: [Spec; 9] = [
            ("usr/bin", EntryKind::Dir, 0o755, "", None),
            ("usr/bin/ls", EntryKind::File, 0o755, "", None),
            ("usr/lib/libc.so", EntryKind::File, 0o644, "", None),
            ("usr/lib/libm.so", EntryKind::File, 0o644, "", None),
            ("usr/bin/su", EntryKind::File, 0o4755, "", None),
            ("usr/bin/ping", EntryKind::File, 0o755, "", Some(&cap)),
            ("usr/bin/sü", EntryKind::HardLink, 0, "usr/bin/su", None),
            ("bin", EntryKind::Symlink, 0o777, "usr/bin", None),
            ("etc/.wh..wh..opq", EntryKind::File, 0o644, "", None),
        ];
        for (path, kind, mode, link, capability) in entries {
            b.add(RawEntry {
                path: path.as_bytes(),
                link: link.as_bytes(),
                kind,
                mode,
                uid: 0,
                gid: 42,
                capability,
            })
            .unwrap();
        }
        b.add(RawEntry {
            path: b"etc/passwd",
            link: b"",
            kind: EntryKind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            capability: None,
        })
        .unwrap();
        b.capture(
            b"etc/passwd",
            b"root:x:0:0::/root:/bin/sh\n".to_vec(),
            false,
        );
        b.set_compression(Compression::Gzip, 12345);
        b.fail(Error::new(ErrorCode::CorruptGzip, "bad block").with_offset(99));
        let mut s = b.finish();
        s.decompressed = 1 << 33;
        s.over_budget = true;
        s.diff_id = Some(String::from("sha256:0123"));
        s
    }

    fn same(a: &LayerSummary, b: &LayerSummary) -> bool {
        alloc::format!("{:?}", a) == alloc::format!("{:?}", b)
    }

    #[test]
    fn round_trips() {
        let s = sample();
        assert_eq!(s.caps.len(), 1);
        assert_eq!(s.opaque_dirs.len(), 1);
        let back = LayerSummary::decode(&s.encode()).expect("decodes");
        assert!(same(&s, &back));
        assert_eq!(back.get("usr/bin/sü").unwrap().mode, 0o4755);
        // Plain files: kept as hashes, found by path.
        let plain = if cfg!(feature = "compact-layers") {
            3
        } else {
            0
        };
        assert_eq!(s.plain_len(), plain);
        assert_eq!(s.len() + s.plain_len(), 9);
        assert_eq!(back.get("usr/bin/ls").unwrap().mode, 0o755);
        assert_eq!(back.get("usr/lib/libm.so").unwrap().gid, 42);
        assert!(back.get("usr/lib/libz.so").is_none());
        let empty = LayerSummary::default();
        assert!(same(
            &empty,
            &LayerSummary::decode(&empty.encode()).unwrap()
        ));
    }

    #[test]
    fn damaged_bytes_are_refused_not_panicking() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(
                LayerSummary::decode(&bytes[..cut]).is_none(),
                "cut at {}",
                cut
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(LayerSummary::decode(&longer).is_none());
        // Every single-byte change either decodes to something consistent or is refused.
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0xa5;
            if let Some(s) = LayerSummary::decode(&b) {
                // Reading every entry touches every span and caps index.
                let caps = s.entries().filter(|e| e.caps.is_some()).count();
                assert!(caps <= s.entries().count());
                let groups = s.plain_group_dirs().count();
                assert!(s.plain_files().all(|(_, g)| g < groups));
            }
        }
    }
}
