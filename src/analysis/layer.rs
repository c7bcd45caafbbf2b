//! Per-layer summaries: what the merge needs from one layer, never its file
//! contents. Entries that a rule or the merge may list (directories, links,
//! devices, setuid/setgid files, files with capabilities, captured files)
//! are kept whole: path, kind, mode, owner, link target and capabilities,
//! names in one string arena. Other regular files are kept as keyed hashes
//! of their paths (`plain.rs`). Whiteouts and opaque directories are kept
//! apart. Only a few small files are captured whole (`/etc/passwd`, `/etc/group`).

use alloc::string::String;
use alloc::vec::Vec;

use super::caps::FileCaps;
use super::error::{Error, ErrorCode, Result};
use super::path::{self, Whiteout};

mod codec;
mod plain;

use plain::{Group, PlainFiles};
pub use plain::{HashCursor, PathHashes, PathKey};

/// What kind of file an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    HardLink,
    CharDevice,
    BlockDevice,
    Fifo,
}

/// How a blob was compressed, detected from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// Sniff the first bytes of a stream.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Files whose contents the analysis reads, with the most bytes kept of each.
pub const CAPTURED_FILES: &[(&str, usize)] = &[("etc/passwd", 1 << 20), ("etc/group", 1 << 20)];

/// Directories whose entries a rule lists by name (s6-overlay's
/// `/package/admin/s6-overlay-<version>`): kept whole even when plain.
const LISTED_DIRS: &[&str] = &["package/admin"];

/// Limits that keep a hostile layer from exhausting memory.
#[derive(Clone, Copy, Debug)]
pub struct LayerLimits {
    /// Entries kept per layer.
    pub max_entries: usize,
    /// Bytes of names (paths and link targets) kept per layer.
    pub max_name_bytes: usize,
    /// Length of one path or link target.
    pub max_path_len: usize,
    /// Keep plain files as keyed hashes of their paths (see `plain.rs`);
    /// `None`: keep every entry whole. One key for all the layers of an image.
    pub path_key: Option<PathKey>,
}

impl Default for LayerLimits {
    fn default() -> Self {
        LayerLimits {
            max_entries: 4_000_000,
            max_name_bytes: 512 << 20,
            max_path_len: 64 << 10,
            path_key: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// Its bytes in the arena: `&arena[span.range()]`.
    fn range(self) -> core::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// One entry of a layer: 32 bytes, since a layer may hold millions.
#[derive(Clone, Copy, Debug)]
struct Record {
    path: Span,
    /// The link target's length: it lies in the arena right after the path.
    link_len: u32,
    uid: u32,
    gid: u32,
    /// Index into `caps` + 1; 0 = none.
    caps: u32,
    /// Order of appearance, to keep the last of duplicate paths.
    seq: u32,
    /// Permission bits and setuid/setgid/sticky (12 bits).
    mode: u16,
    kind: EntryKind,
    /// A hard link whose target was found in this layer: mode/owner/caps are the target's.
    link_resolved: bool,
}

impl Record {
    fn link(&self) -> Span {
        Span {
            start: self.path.start + self.path.len,
            len: self.link_len,
        }
    }
}

/// One entry as the merge sees it.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub path: &'a str,
    pub link: &'a str,
    pub kind: EntryKind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub caps: Option<&'a FileCaps>,
    pub link_resolved: bool,
}

#[derive(Clone, Debug)]
pub struct CapturedFile {
    pub path: String,
    pub bytes: Vec<u8>,
    /// The file was larger than what was kept.
    pub truncated: bool,
}

/// Everything kept about one layer.
#[derive(Clone, Debug, Default)]
pub struct LayerSummary {
    arena: String,
    /// Whole entries, sorted by path, one per path.
    records: Vec<Record>,
    caps: Vec<FileCaps>,
    /// Plain files, by the hash of their path (none without a `path_key`).
    plain: PlainFiles,
    /// Paths deleted from lower layers by `.wh.NAME` entries.
    pub whiteouts: Vec<String>,
    /// Directories whose lower contents are hidden (`.wh..wh..opq`).
    pub opaque_dirs: Vec<String>,
    pub captured: Vec<CapturedFile>,
    /// Tar headers read (including whiteouts and duplicates).
    pub entry_count: u64,
    /// Entries whose name tried to climb above the root with `..`.
    pub escaping_paths: u64,
    /// `security.capability` values that did not decode.
    pub undecodable_caps: u64,
    pub compression: Option<Compression>,
    /// Size of the blob as stored in the archive.
    pub stored_size: u64,
    /// Bytes its decoder gave (0 for an uncompressed layer), against the
    /// decompression budget.
    pub decompressed: u64,
    /// The decompression budget stopped its decoder.
    pub over_budget: bool,
    /// `sha256:<hex>` of its uncompressed stream (its diff_id), when the
    /// reader digested it (a compressed layer read before any manifest).
    pub diff_id: Option<String>,
    /// Problems met while reading this layer; the summary covers what came before them.
    pub errors: Vec<Error>,
}

/// One tar entry handed to the builder.
#[derive(Clone, Copy, Debug)]
pub struct RawEntry<'a> {
    pub path: &'a [u8],
    pub link: &'a [u8],
    pub kind: EntryKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub capability: Option<&'a [u8]>,
}

/// Builds a [`LayerSummary`] from entries in archive order.
pub struct LayerBuilder {
    summary: LayerSummary,
    limits: LayerLimits,
    seq: u32,
}

fn clamp_id(id: u64) -> u32 {
    u32::try_from(id).unwrap_or(u32::MAX)
}

impl LayerBuilder {
    // Not inlined: made in five places, it would be copied into each (the wasm's size).
    #[inline(never)]
    pub fn new(limits: LayerLimits) -> Self {
        let mut summary = LayerSummary::default();
        summary.plain.key = limits.path_key;
        LayerBuilder {
            summary,
            limits,
            seq: 0,
        }
    }

    fn intern(&mut self, text: &str) -> Result<Span> {
        if text.len() > self.limits.max_path_len {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                "a path or link name is longer than the limit",
            ));
        }
        if self.summary.arena.len() + text.len() > self.limits.max_name_bytes {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                "the names in one layer exceed the memory limit",
            ));
        }
        let start = self.summary.arena.len() as u32;
        self.summary.arena.push_str(text);
        Ok(Span {
            start,
            len: text.len() as u32,
        })
    }

    /// How many bytes of this entry's content the analysis wants (for the
    /// files in [`CAPTURED_FILES`]), or `None` to skip the content. Asked
    /// before [`LayerBuilder::add`], so that a walk can read the content
    /// first and stop inside an entry without having added half of it.
    pub fn wants_content(&self, raw: &RawEntry<'_>) -> Option<usize> {
        if raw.kind != EntryKind::File {
            return None;
        }
        // `add` normalises every path anyway; here (every file, before `add`)
        // only a path holding a captured file's name is. Normalising only
        // drops components, so a match has the name somewhere in the raw path.
        let holds = |name: &str| {
            let base = name.rsplit('/').next().unwrap_or(name).as_bytes();
            raw.path.windows(base.len()).any(|w| w == base)
        };
        if !CAPTURED_FILES.iter().any(|(name, _)| holds(name)) {
            return None;
        }
        let p = path::normalize(raw.path).path;
        CAPTURED_FILES
            .iter()
            .find(|(name, _)| *name == p)
            .map(|&(_, limit)| limit)
    }

    /// Add one entry.
    pub fn add(&mut self, raw: RawEntry<'_>) -> Result<()> {
        self.summary.entry_count += 1;
        let normalized = path::normalize(raw.path);
        if normalized.escaped {
            self.summary.escaping_paths += 1;
        }
        let p = normalized.path;
        if p.is_empty() {
            return Ok(()); // the root directory itself
        }
        match path::whiteout(&p) {
            Some(Whiteout::Delete(target)) => {
                self.summary.whiteouts.push(target);
                return Ok(());
            }
            Some(Whiteout::Opaque(dir)) => {
                self.summary.opaque_dirs.push(dir);
                return Ok(());
            }
            Some(Whiteout::Meta) => return Ok(()),
            None => {}
        }
        let count = self.summary.records.len() + self.summary.plain.files.len();
        if count >= self.limits.max_entries {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                "too many entries in one layer",
            ));
        }
        if let Some(key) = self.summary.plain.key {
            if self.is_plain(&raw, &p) {
                self.add_plain(key.hash(&p), &p, &raw)?;
                return Ok(());
            }
        }
        self.summary.plain.open = false;
        let link = match raw.kind {
            // Hard link names are relative to the archive root.
            EntryKind::HardLink => path::normalize(raw.link).path,
            EntryKind::Symlink => String::from_utf8_lossy(raw.link).into_owned(),
            _ => String::new(),
        };
        let caps = match raw.capability {
            Some(bytes) => match FileCaps::decode(bytes) {
                Some(c) => {
                    self.summary.caps.push(c);
                    self.summary.caps.len() as u32
                }
                None => {
                    self.summary.undecodable_caps += 1;
                    0
                }
            },
            None => 0,
        };
        // The link right after the path: `Record::link`.
        let path_span = self.intern(&p)?;
        let link_span = self.intern(&link)?;
        self.summary.records.push(Record {
            path: path_span,
            link_len: link_span.len,
            kind: raw.kind,
            mode: (raw.mode & 0o7777) as u16,
            uid: clamp_id(raw.uid),
            gid: clamp_id(raw.gid),
            caps,
            link_resolved: false,
            seq: self.seq,
        });
        self.seq = self.seq.wrapping_add(1);
        Ok(())
    }

    /// A regular file that no rule lists and whose content is not read: kept
    /// as the hash of its path.
    fn is_plain(&self, raw: &RawEntry<'_>, p: &str) -> bool {
        raw.kind == EntryKind::File
            && raw.mode & 0o6000 == 0
            && raw.capability.is_none()
            && !CAPTURED_FILES.iter().any(|(name, _)| *name == p)
            && !LISTED_DIRS.contains(&path::parent(p))
    }

    fn add_plain(&mut self, hash: u64, p: &str, raw: &RawEntry<'_>) -> Result<()> {
        let parent = path::parent(p);
        let (mode, uid, gid) = (
            (raw.mode & 0o7777) as u16,
            clamp_id(raw.uid),
            clamp_id(raw.gid),
        );
        let plain = &self.summary.plain;
        let last = plain.groups.last().copied();
        let same_dir = last.filter(|g| self.summary.text(g.parent) == parent);
        let joins =
            plain.open && same_dir.is_some_and(|g| (g.mode, g.uid, g.gid) == (mode, uid, gid));
        let group = if joins {
            None
        } else {
            // The directory is written in the arena once for a run of groups.
            let parent = match same_dir {
                Some(g) => g.parent,
                None => self.intern(parent)?,
            };
            Some(Group {
                parent,
                first_seq: self.seq,
                mode,
                uid,
                gid,
            })
        };
        self.summary.plain.push(hash, group);
        self.seq = self.seq.wrapping_add(1);
        Ok(())
    }

    /// Content of the entry just added, as far as `wants_content` asked for it.
    pub fn capture(&mut self, path: &[u8], bytes: Vec<u8>, truncated: bool) {
        let path = path::normalize(path).path;
        self.summary.captured.retain(|c| c.path != path);
        self.summary.captured.push(CapturedFile {
            path,
            bytes,
            truncated,
        });
    }

    /// Make room at once for the entries an uncompressed layer of `bytes`
    /// bytes can hold (each has a 512-byte header; at most 1 Mi of them, 32
    /// bytes each, and 32 bytes of names each, or 12 as plain files), so that
    /// the records, the names and the plain files do not grow by copying: in
    /// wasm, whose memory never shrinks, the blocks left behind by each copy
    /// would stay in the peak. Room never written to costs address space, not
    /// memory; `finish` gives the rest back.
    pub fn reserve_for_tar(&mut self, bytes: u64) {
        let entries = (bytes / 512).min(1 << 20) as usize;
        let entries = entries.min(self.limits.max_entries);
        if self.summary.plain.key.is_some() {
            self.summary.plain.files.reserve_exact(entries);
        } else {
            self.summary.records.reserve_exact(entries);
            self.summary.arena.reserve_exact(entries * 32);
        }
    }

    /// Record a problem that stopped reading this layer.
    pub fn fail(&mut self, error: Error) {
        self.summary.errors.push(error);
    }

    pub fn set_compression(&mut self, compression: Compression, stored_size: u64) {
        self.summary.compression = Some(compression);
        self.summary.stored_size = stored_size;
    }

    pub fn finish(self) -> LayerSummary {
        let mut s = self.summary;
        // One record per path, the last one written wins (as when extracting).
        {
            // Bytes, not str: the same order (str compares bytewise), without
            // str slicing's char-boundary checks in the sort's hot loop.
            let arena = s.arena.as_bytes();
            let text = |sp: Span| &arena[sp.range()];
            // `seq` is unique: an unstable sort gives the one order.
            s.records
                .sort_unstable_by(|a, b| text(a.path).cmp(text(b.path)).then(a.seq.cmp(&b.seq)));
            // In place: a second vector of records would double the peak.
            s.records.dedup_by(|later, kept| {
                let same = text(later.path) == text(kept.path);
                if same {
                    *kept = *later;
                }
                same
            });
        }
        s.plain.finish();
        drop_overwritten(&mut s);
        // What the summary keeps lives until the report: without the slack
        // the vectors grew with (up to half of each).
        s.records.shrink_to_fit();
        s.arena.shrink_to_fit();
        resolve_hard_links(&mut s);
        s
    }
}

/// A path written both as a whole entry and as a plain file (a tar may
/// repeat a name): keep the one written last, as when extracting. Groups
/// hold no whole entry, so a whole entry came before a plain file's group
/// or after all of it.
fn drop_overwritten(s: &mut LayerSummary) {
    let Some(key) = s.plain.key else {
        return;
    };
    if s.plain.files.is_empty() {
        return;
    }
    let LayerSummary {
        arena,
        records,
        plain,
        ..
    } = s;
    records.retain(|r| match plain.position(key.hash(&arena[r.path.range()])) {
        Some(i) if r.seq > plain.group_of(i).first_seq => {
            plain.files[i].group = STALE;
            true
        }
        Some(_) => false,
        None => true,
    });
    plain.files.retain(|f| f.group != STALE);
}

/// Marks a plain file that a later whole entry replaced.
const STALE: u32 = u32::MAX;

/// Give hard links in a layer their target's mode, owner and capabilities:
/// they are the same inode.
fn resolve_hard_links(s: &mut LayerSummary) {
    for i in 0..s.records.len() {
        if s.records[i].kind != EntryKind::HardLink {
            continue;
        }
        let mut target = s.records[i].link();
        // Links to links: follow a bounded chain.
        for _ in 0..8 {
            let Some(j) = s.find_index(s.text(target)) else {
                // A plain file: no special bits, no capabilities.
                let plain = s.plain_entry(s.text(target));
                if let Some((mode, uid, gid)) = plain.map(|e| (e.mode as u16, e.uid, e.gid)) {
                    let r = &mut s.records[i];
                    (r.mode, r.uid, r.gid, r.caps) = (mode, uid, gid, 0);
                    r.link_resolved = true;
                }
                break;
            };
            let t = s.records[j];
            if t.kind == EntryKind::File || (t.kind == EntryKind::HardLink && t.link_resolved) {
                let r = &mut s.records[i];
                r.mode = t.mode;
                r.uid = t.uid;
                r.gid = t.gid;
                r.caps = t.caps;
                r.link_resolved = true;
                break;
            }
            if t.kind != EntryKind::HardLink || j == i {
                break;
            }
            target = t.link();
        }
    }
}

impl LayerSummary {
    fn text(&self, sp: Span) -> &str {
        &self.arena[sp.range()]
    }

    fn find_index(&self, path: &str) -> Option<usize> {
        self.records
            .binary_search_by(|r| self.text(r.path).cmp(path))
            .ok()
    }

    fn entry(&self, r: &Record) -> Entry<'_> {
        Entry {
            path: self.text(r.path),
            link: self.text(r.link()),
            kind: r.kind,
            mode: u32::from(r.mode),
            uid: r.uid,
            gid: r.gid,
            caps: if r.caps == 0 {
                None
            } else {
                self.caps.get(r.caps as usize - 1)
            },
            link_resolved: r.link_resolved,
        }
    }

    /// Whole entries in path order, one per path (plain files are not listed).
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> + '_ {
        self.records.iter().map(move |r| self.entry(r))
    }

    /// The entry at `index` in path order (as [`LayerSummary::entries`] gives them).
    pub fn entry_at(&self, index: usize) -> Entry<'_> {
        self.entry(&self.records[index])
    }

    /// The path of the entry at `index` in path order.
    pub fn path_at(&self, index: usize) -> &str {
        self.text(self.records[index].path)
    }

    /// The entry at `path`, whole or plain.
    pub fn get(&self, path: &str) -> Option<Entry<'_>> {
        match self.find_index(path) {
            Some(i) => Some(self.entry(&self.records[i])),
            None => self.plain_entry(path),
        }
    }

    /// The whole entry at `path`.
    pub fn get_whole(&self, path: &str) -> Option<Entry<'_>> {
        self.find_index(path).map(|i| self.entry(&self.records[i]))
    }

    fn plain_entry(&self, path: &str) -> Option<Entry<'_>> {
        self.plain_by_hash(self.path_key()?.hash(path))
    }

    /// The plain file whose path hashes to `hash`, as an entry with an
    /// empty path (the path is not kept).
    pub fn plain_by_hash(&self, hash: u64) -> Option<Entry<'_>> {
        let g = self.plain.group_of(self.plain.position(hash)?);
        Some(Entry {
            path: "",
            link: "",
            kind: EntryKind::File,
            mode: u32::from(g.mode),
            uid: g.uid,
            gid: g.gid,
            caps: None,
            link_resolved: false,
        })
    }

    /// The key of the plain files' path hashes.
    pub fn path_key(&self) -> Option<PathKey> {
        self.plain.key
    }

    /// The plain files: the hash of each path and the index of its group,
    /// by hash ascending.
    pub fn plain_files(&self) -> impl Iterator<Item = (u64, usize)> + '_ {
        self.plain
            .files
            .iter()
            .map(|f| (f.hash(), f.group as usize))
    }

    /// The hashes of the plain files, ascending ([`Self::plain_files`]' order).
    pub fn plain_cursor(&self) -> HashCursor<'_> {
        HashCursor::over(&self.plain.files)
    }

    /// The directory of each group of plain files, by group index.
    pub fn plain_group_dirs(&self) -> impl Iterator<Item = &str> + '_ {
        self.plain.groups.iter().map(|g| self.text(g.parent))
    }

    pub fn plain_len(&self) -> usize {
        self.plain.files.len()
    }

    /// Number of whole entries (one per path; [`Self::plain_len`] counts the others).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.plain.files.is_empty()
    }

    pub fn captured(&self, path: &str) -> Option<&CapturedFile> {
        self.captured.iter().find(|c| c.path == path)
    }

    /// Whether reading this layer stopped early.
    pub fn is_partial(&self) -> bool {
        !self.errors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(path: &'a str, kind: EntryKind, mode: u32) -> RawEntry<'a> {
        RawEntry {
            path: path.as_bytes(),
            link: b"",
            kind,
            mode,
            uid: 0,
            gid: 0,
            capability: None,
        }
    }

    #[test]
    fn last_duplicate_wins_and_whiteouts_are_apart() {
        let mut b = LayerBuilder::new(LayerLimits::default());
        b.add(raw("./usr/bin/su", EntryKind::File, 0o4755)).unwrap();
        b.add(raw("usr/bin/.wh.passwd", EntryKind::File, 0))
            .unwrap();
        b.add(raw("etc/.wh..wh..opq", EntryKind::File, 0)).unwrap();
        b.add(raw("usr/bin/su", EntryKind::File, 0o755)).unwrap();
        let s = b.finish();
        assert_eq!(s.len(), 1);
        assert_eq!(s.get("usr/bin/su").unwrap().mode, 0o755);
        assert_eq!(s.whiteouts, ["usr/bin/passwd"]);
        assert_eq!(s.opaque_dirs, ["etc"]);
        assert_eq!(s.entry_count, 4);
    }

    #[test]
    fn plain_files_are_hashes_and_the_last_written_wins() {
        let mut b = LayerBuilder::new(LayerLimits {
            path_key: PathKey::new([1, 2]),
            ..LayerLimits::default()
        });
        // Plain, then setuid: the whole entry wins; setuid, then plain: the plain file.
        b.add(raw("bin/a", EntryKind::File, 0o755)).unwrap();
        b.add(raw("bin/a", EntryKind::File, 0o4755)).unwrap();
        b.add(raw("bin/b", EntryKind::File, 0o4755)).unwrap();
        b.add(raw("bin/b", EntryKind::File, 0o700)).unwrap();
        // Two plain files in groups of their own (another mode between).
        b.add(raw("bin/c", EntryKind::File, 0o644)).unwrap();
        b.add(raw("bin/d", EntryKind::File, 0o600)).unwrap();
        b.add(raw("bin/c", EntryKind::File, 0o755)).unwrap();
        // A hard link to a plain file takes its inode.
        let mut link = raw("bin/e", EntryKind::HardLink, 0);
        link.link = b"bin/c";
        b.add(link).unwrap();
        let s = b.finish();
        if cfg!(feature = "compact-layers") {
            assert_eq!((s.len(), s.plain_len()), (2, 3));
            assert_eq!(s.plain_group_dirs().collect::<Vec<_>>(), ["bin"; 5]);
            assert_eq!(s.get("bin/b").unwrap().path, "");
        }
        let e = s.get("bin/e").unwrap();
        assert_eq!((e.mode, e.link_resolved), (0o755, true));
        assert_eq!(s.get("bin/a").unwrap().mode, 0o4755);
        assert_eq!(s.get("bin/b").unwrap().mode, 0o700);
        assert_eq!(s.get("bin/c").unwrap().mode, 0o755);
        assert_eq!(s.get("bin/d").unwrap().mode, 0o600);
    }

    #[test]
    fn hard_links_take_the_target_inode() {
        let mut b = LayerBuilder::new(LayerLimits::default());
        let mut f = raw("bin/mount", EntryKind::File, 0o4755);
        f.uid = 0;
        b.add(f).unwrap();
        let mut l = raw("bin/mount2", EntryKind::HardLink, 0o644);
        l.link = b"./bin/mount";
        l.uid = 1000;
        b.add(l).unwrap();
        let s = b.finish();
        let e = s.get("bin/mount2").unwrap();
        assert!(e.link_resolved);
        assert_eq!((e.mode, e.uid), (0o4755, 0));
    }

    #[test]
    fn asks_for_passwd_only() {
        let b = LayerBuilder::new(LayerLimits::default());
        let wants = |path: &str, kind| b.wants_content(&raw(path, kind, 0o644));
        assert_eq!(wants("etc/passwd", EntryKind::File), Some(1 << 20));
        assert_eq!(wants("./etc//passwd", EntryKind::File), Some(1 << 20));
        assert_eq!(wants("etc/x/../passwd/.", EntryKind::File), Some(1 << 20));
        assert_eq!(wants("etc/group", EntryKind::File), Some(1 << 20));
        assert_eq!(wants("etc/shadow", EntryKind::File), None);
        assert_eq!(wants("usr/etc/passwd", EntryKind::File), None);
        assert_eq!(wants("etc/group", EntryKind::Symlink), None);
    }

    #[test]
    fn a_record_stays_small() {
        // There is one per entry of every layer: its size is the memory per entry.
        assert_eq!(core::mem::size_of::<Record>(), 32);
    }

    #[test]
    fn limits() {
        let limits = LayerLimits {
            max_entries: 2,
            max_name_bytes: 1 << 20,
            max_path_len: 10,
            path_key: None,
        };
        let mut b = LayerBuilder::new(limits);
        assert_eq!(
            b.add(raw("a/very/long/path", EntryKind::File, 0))
                .unwrap_err()
                .code,
            ErrorCode::LimitExceeded
        );
        b.add(raw("a", EntryKind::File, 0)).unwrap();
        b.add(raw("b", EntryKind::File, 0)).unwrap();
        assert_eq!(
            b.add(raw("c", EntryKind::File, 0)).unwrap_err().code,
            ErrorCode::LimitExceeded
        );
    }
}
