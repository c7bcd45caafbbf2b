//! Plain files: regular files without a setuid or setgid bit or a file
//! capability, whose contents the analysis does not read. They are most of
//! any image, and no rule lists them: rules only ask whether one is at a
//! given path (`/bin/sh`, the entrypoint), and the merge needs to know which
//! paths they hide and how many paths survive. So a layer keeps of each only
//! a 64-bit hash of its path and the group it came in: 12 bytes, where a
//! whole entry takes a 32-byte record and its path's bytes.
//!
//! The hash is SipHash-2-4 keyed with a key drawn at random for each run
//! (`ReadOptions::default`), so nobody can build an archive whose paths
//! collide. Between random 64-bit hashes, the chance that any two of n paths
//! collide is at most n² / 2^65: about 5 × 10^-9 for a million paths, and
//! 4 × 10^-7 at the limit of 4 million entries a layer. A collision could
//! only make two paths count as one, or one hide the other.
//!
//! Without the `compact-layers` feature (the page's wasm, for its size
//! budget) there is no key, and every entry is kept whole.

use alloc::vec::Vec;
use core::hash::Hasher;

use super::Span;

/// The key of the path hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathKey {
    words: [u64; 2],
    /// Without `compact-layers`, a type with no value: then so is `PathKey`,
    /// `Option<PathKey>` is always `None`, and the compiler leaves out all
    /// the code that only runs with a key.
    _built_with: Compact,
}

#[cfg(feature = "compact-layers")]
type Compact = ();
#[cfg(not(feature = "compact-layers"))]
type Compact = core::convert::Infallible;

#[cfg(feature = "compact-layers")]
fn compact() -> Option<Compact> {
    Some(())
}
#[cfg(not(feature = "compact-layers"))]
fn compact() -> Option<Compact> {
    None
}

impl PathKey {
    /// `None` in a build without `compact-layers`.
    pub fn new(words: [u64; 2]) -> Option<PathKey> {
        Some(PathKey {
            words,
            _built_with: compact()?,
        })
    }

    pub fn words(self) -> [u64; 2] {
        self.words
    }

    pub fn hash(self, path: &str) -> u64 {
        // SipHash-2-4, the keyed hash core has. Deprecated only in favour of
        // crates outside core; its output is stable.
        #[allow(deprecated)]
        let mut h = core::hash::SipHasher::new_with_keys(self.words[0], self.words[1]);
        h.write(path.as_bytes());
        h.finish()
    }
}

/// One plain file. The hash is two halves so that the struct is aligned to 4
/// bytes: 12 bytes, not 16.
#[derive(Clone, Copy, Debug)]
pub(super) struct PlainFile {
    pub hash_lo: u32,
    pub hash_hi: u32,
    /// Index into `PlainFiles::groups`.
    pub group: u32,
}

impl PlainFile {
    pub fn hash(&self) -> u64 {
        (u64::from(self.hash_hi) << 32) | u64::from(self.hash_lo)
    }
}

/// Plain files that came one after another in the same directory with the
/// same mode and owner: a tar lists a directory's files together, so there
/// are few groups.
#[derive(Clone, Copy, Debug)]
pub(super) struct Group {
    /// The directory, in the layer's name arena.
    pub parent: Span,
    /// The order of appearance of its first file (as `Record::seq`): no
    /// whole entry came between its files.
    pub first_seq: u32,
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
}

/// A layer's plain files.
#[derive(Clone, Debug, Default)]
pub(super) struct PlainFiles {
    /// `None`: the layer keeps every entry whole.
    pub key: Option<PathKey>,
    /// Sorted by hash once the layer is finished, one per path.
    pub files: Vec<PlainFile>,
    pub groups: Vec<Group>,
    /// The last group may take the next file: no whole entry came since.
    pub open: bool,
}

impl PlainFiles {
    /// Add a file, in a new group or (`None`) in the last one.
    pub fn push(&mut self, hash: u64, new_group: Option<Group>) {
        if let Some(g) = new_group {
            self.groups.push(g);
        }
        self.open = true;
        self.files.push(PlainFile {
            hash_lo: hash as u32,
            hash_hi: (hash >> 32) as u32,
            group: self.groups.len().saturating_sub(1) as u32,
        });
    }

    /// One file per path, the last one written winning (groups are numbered
    /// in order of appearance), sorted by hash for lookups.
    pub fn finish(&mut self) {
        if self.key.is_none() {
            return; // no files (and no code, without `compact-layers`)
        }
        sort_by_hash(&mut self.files);
        self.files.dedup_by(|later, kept| {
            let same = later.hash() == kept.hash();
            if same {
                *kept = *later;
            }
            same
        });
        self.files.shrink_to_fit();
        self.groups.shrink_to_fit();
        self.open = false;
    }

    /// The position of the file whose path hashes to `hash`.
    pub fn position(&self, hash: u64) -> Option<usize> {
        search(&self.files, hash)
    }

    pub fn group_of(&self, index: usize) -> &Group {
        &self.groups[self.files[index].group as usize]
    }
}

/// By hash, then group. (One sort and one search for this file and
/// [`PathHashes`]: each instance costs the wasm kilobytes.)
fn sort_by_hash(files: &mut [PlainFile]) {
    files.sort_unstable_by_key(|f| (f.hash(), f.group));
}

fn search(files: &[PlainFile], hash: u64) -> Option<usize> {
    files.binary_search_by_key(&hash, |f| f.hash()).ok()
}

/// A set of path hashes.
pub struct PathHashes(Vec<PlainFile>);

impl PathHashes {
    pub fn new(hashes: impl Iterator<Item = u64>) -> Self {
        let mut files: Vec<PlainFile> = hashes
            .map(|hash| PlainFile {
                hash_lo: hash as u32,
                hash_hi: (hash >> 32) as u32,
                group: 0,
            })
            .collect();
        sort_by_hash(&mut files);
        PathHashes(files)
    }

    pub fn contains(&self, hash: u64) -> bool {
        search(&self.0, hash).is_some()
    }

    pub fn cursor(&self) -> HashCursor<'_> {
        HashCursor(&self.0)
    }
}

/// A list of hashes sorted ascending, asked whether it holds hashes that
/// come in ascending order too: one pass through memory instead of a binary
/// search per question (the merge asks it of every plain file of a lower
/// layer).
pub struct HashCursor<'a>(&'a [PlainFile]);

impl<'a> HashCursor<'a> {
    pub(super) fn over(files: &'a [PlainFile]) -> Self {
        HashCursor(files)
    }

    /// Holds `hash`, which is no smaller than any hash asked before.
    pub fn holds(&mut self, hash: u64) -> bool {
        while let Some((first, rest)) = self.0.split_first() {
            if first.hash() >= hash {
                return first.hash() == hash;
            }
            self.0 = rest;
        }
        false
    }
}
