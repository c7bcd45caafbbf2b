//! Archive reading (`std` only): detects what the bytes are — a tar, or gzip
//! or zstd around one — walks it once, and summarises every member that may
//! be part of an image (JSON documents, layers) as it streams past, so the
//! order of members does not matter. Then the analysis core assembles the
//! images from what was found.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

pub mod budget;
pub mod gzip;
// Raw gzip members: natively for pgzip, in the wasm for the two-thread gunzip
// of Node (the `node` feature) and of the page (`jspi`).
#[cfg(any(not(target_arch = "wasm32"), feature = "node", feature = "jspi"))]
pub mod gzip_member;
pub mod hashing;
pub mod input;
#[cfg(not(target_arch = "wasm32"))]
pub mod pgzip;
#[cfg(any(not(target_arch = "wasm32"), feature = "node", feature = "jspi"))]
pub mod split_gunzip;
pub mod tar_walk;
pub mod zstd;

use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;

use crate::analysis::budget::{self as rule, MaxDecompressed};
use crate::analysis::config::MAX_JSON_BYTES;
use crate::analysis::contents::{is_image_member_name, ArchiveContents, DeferredLayer, Stored};
use crate::analysis::error::{Error, ErrorCode, Result};
use crate::analysis::layer::{
    Compression, EntryKind, LayerBuilder, LayerLimits, LayerSummary, PathKey,
};
use crate::analysis::path;
use crate::analysis::report::Report;
use crate::analysis::tar::{self as tarfmt, TypeFlag, BLOCK};

use budget::{is_over_budget, Budget, Meter, Metered};
use hashing::Hashing;
use input::{read_full, DynInput, Input, InputReader, Peeked, SeekInput, StreamInput, Window};
use tar_walk::TarWalker;

/// Limits for one read.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    pub layer_limits: LayerLimits,
    /// JSON bytes kept over the whole archive.
    pub max_json_total: usize,
    /// Members of the outer archive.
    pub max_members: u64,
    /// Layer blobs in one archive.
    pub max_layers: usize,
    /// Hash every member (and every compressed layer's content) to check the
    /// digests the manifests give. Reads everything: no skipping.
    pub verify: bool,
    /// Leave the layers of an uncompressed archive read from a seekable
    /// source unsummarised, listed in `ArchiveContents::deferred_layers`, so
    /// that the caller can summarise them in parallel ([`scan_deferred_layer`]).
    /// Ignored with `verify`, which hashes every member in order.
    pub defer_layers: bool,
    /// The decompression budget (`--max-decompressed`).
    pub max_decompressed: MaxDecompressed,
    /// The input is what a gzip file of this many bytes decodes to (decoded
    /// by the caller: Node's zlib): the budget is that file's, and the
    /// input's bytes count against it as decoded ones.
    pub predecoded_gzip: Option<u64>,
}

/// A key for the plain files' path hashes (layer/plain.rs), drawn from
/// the operating system's random source through std's `RandomState`. One
/// `ReadOptions` serves a whole run, so all its layers share the key. The
/// wasm has no such source: its bindings (src/wasm.rs) draw one from JS.
#[cfg(not(target_arch = "wasm32"))]
fn random_path_key() -> Option<PathKey> {
    use std::hash::{BuildHasher, RandomState};
    let state = RandomState::new();
    PathKey::new([state.hash_one(0u8), state.hash_one(1u8)])
}

#[cfg(target_arch = "wasm32")]
fn random_path_key() -> Option<PathKey> {
    None
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            layer_limits: LayerLimits {
                path_key: random_path_key(),
                ..LayerLimits::default()
            },
            max_json_total: 64 << 20,
            max_members: 4_000_000,
            max_layers: 4096,
            verify: false,
            defer_layers: false,
            max_decompressed: MaxDecompressed::Auto,
            predecoded_gzip: None,
        }
    }
}

/// Analyse a file (`-` reads standard input). A file is read through seeks,
/// so the contents of entries are skipped without being read, and the
/// layers of an uncompressed archive are summarised in parallel threads.
pub fn analyze_path(path: &Path, options: &ReadOptions) -> Result<Report> {
    if path == Path::new("-") {
        return analyze_reader(std::io::stdin().lock(), options);
    }
    // The file opened anew for each reader (the archive, each deferred
    // layer), so that threads never share a file position.
    let open_at = |offset: u64| -> Result<DynInput<'static>> {
        let file = File::open(path).map_err(|e| {
            Error::new(
                ErrorCode::Io,
                format!("cannot open {}: {}", path.display(), e),
            )
        })?;
        let mut input = SeekInput::new(file).map_err(cannot_seek)?;
        input.skip(offset).map_err(cannot_seek)?;
        Ok(Box::new(input))
    };
    let deferring = ReadOptions {
        defer_layers: true,
        ..*options
    };
    let mut contents = read_archive(open_at(0)?, &deferring)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    scan_deferred_layers(&mut contents, options.layer_limits, threads, open_at);
    crate::analysis::analyze(&contents)
}

fn cannot_seek(e: std::io::Error) -> Error {
    Error::new(ErrorCode::Io, format!("cannot seek the input: {}", e))
}

/// Summarise the layers [`read_archive`] deferred, on up to `threads`
/// threads, the largest first; `open_at(offset)` gives an input starting at
/// a source offset (one per layer, so threads never share a file position).
/// The threads share what is left of the decompression budget.
pub fn scan_deferred_layers<F>(
    contents: &mut ArchiveContents,
    limits: LayerLimits,
    threads: usize,
    open_at: F,
) where
    F: Fn(u64) -> Result<DynInput<'static>> + Sync,
{
    let mut jobs = std::mem::take(&mut contents.deferred_layers);
    jobs.sort_by_key(|job| std::cmp::Reverse(job.size));
    let budget = Budget::resumed(&contents.decompression);
    let hash: Vec<bool> = jobs
        .iter()
        .map(|j| contents.digest_layer(&j.name))
        .collect();
    let scan = |i: usize| {
        let job = &jobs[i];
        match open_at(job.offset) {
            Ok(input) => scan_deferred_layer(input, job.size, limits, &budget, hash[i]),
            Err(e) => {
                let mut builder = LayerBuilder::new(limits);
                builder.fail(e);
                builder.finish()
            }
        }
    };
    let indices: Vec<usize> = (0..jobs.len()).collect();
    let done = parallel(&indices, threads, |&i| scan(i));
    for (i, summary) in done {
        contents.insert_layer(&jobs[i].name, summary);
    }
    contents.decompression.total = budget.used();
}

/// `work` on every job, on up to `threads` threads, each taking the next
/// job as it is free; the results with their job's index, in no order.
pub fn parallel<T, R, F>(jobs: &[T], threads: usize, work: F) -> Vec<(usize, R)>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = threads.clamp(1, jobs.len().max(1));
    if threads == 1 {
        return jobs.iter().map(work).enumerate().collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let result = work(job);
                done.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((i, result));
            });
        }
    });
    done.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Analyse a seekable source.
pub fn analyze_seekable<R: Read + Seek>(source: R, options: &ReadOptions) -> Result<Report> {
    let input = SeekInput::new(source).map_err(cannot_seek)?;
    analyze_input(input, options)
}

/// Analyse a forward-only stream.
pub fn analyze_reader<R: Read>(source: R, options: &ReadOptions) -> Result<Report> {
    analyze_input(StreamInput::new(source), options)
}

pub fn analyze_input<I: Input>(input: I, options: &ReadOptions) -> Result<Report> {
    let contents = read_archive(input, options)?;
    crate::analysis::analyze(&contents)
}

fn not_an_archive(head: &[u8]) -> Error {
    let hint = if head.starts_with(b"PK\x03\x04") {
        "it is a zip file; image archives are tar files (docker save, skopeo copy … oci-archive:)"
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        "it is xz-compressed; decompress it first (xz -d)"
    } else if head.starts_with(b"BZh") {
        "it is bzip2-compressed; decompress it first (bunzip2)"
    } else if head.first().is_some_and(|&b| b == b'{' || b == b'[') {
        "it looks like a JSON document; give the whole image archive, not its manifest or config"
    } else {
        "expected a tar archive (docker save, podman save, an OCI archive, docker export), optionally gzip- or zstd-compressed"
    };
    Error::new(
        ErrorCode::NotAnArchive,
        format!("the input is not an image archive: {}", hint),
    )
}

fn is_zero(head: &[u8]) -> bool {
    head.len() == BLOCK && head.iter().all(|&b| b == 0)
}

fn looks_like_tar(head: &[u8]) -> bool {
    tarfmt::looks_like_header(head) || is_zero(head)
}

/// Read the whole archive once and summarise its members.
///
/// Inside, every stream is a [`DynInput`]: one copy of the tar walker and the
/// decoders, whatever the source (this keeps the WebAssembly small).
pub fn read_archive<I: Input>(input: I, options: &ReadOptions) -> Result<ArchiveContents> {
    read_archive_observed(input, options, &mut |_| {})
}

/// [`read_archive`], telling `on_member` the name of each member that may be
/// part of an image (a layer, a JSON document) as its reading starts: for
/// progress reports.
pub fn read_archive_observed<I: Input>(
    input: I,
    options: &ReadOptions,
    on_member: &mut dyn FnMut(&str),
) -> Result<ArchiveContents> {
    let budget = Budget::new(
        options.max_decompressed,
        options.predecoded_gzip.or(input.total_len()),
    );
    // The whole archive's decoder (or Node's, for a predecoded input).
    let outer = Meter::new(&budget);
    let result = read_with_budget(input, options, on_member, &budget, &outer);
    if let Err(e) = &result {
        if e.code == ErrorCode::LimitExceeded && e.message == rule::SPENT {
            // Spent within the first block: nothing to report but that.
            let mut contents = ArchiveContents::default();
            contents.decompression = budget.figures(&outer);
            return Err(rule::budget_error(&contents).unwrap_or_else(|| e.clone()));
        }
    }
    result
}

fn read_with_budget<I: Input>(
    input: I,
    options: &ReadOptions,
    on_member: &mut dyn FnMut(&str),
    budget: &Budget,
    outer: &Meter<'_>,
) -> Result<ArchiveContents> {
    let source_len = input.total_len();
    let counted: DynInput<'_> = Box::new(input::Counted::new(input, budget));
    let source: DynInput<'_> = match options.predecoded_gzip {
        Some(_) => Box::new(Metered::new(counted, outer)),
        None => counted,
    };
    let peeked = Peeked::new(source, BLOCK).map_err(|e| {
        if is_over_budget(&e) {
            return Error::new(ErrorCode::LimitExceeded, rule::SPENT);
        }
        Error::new(ErrorCode::Io, format!("cannot read the input: {}", e))
    })?;
    let head = peeked.head().to_vec();
    if head.is_empty() {
        return Err(Error::new(ErrorCode::NotAnArchive, "the input is empty"));
    }
    let mut contents = ArchiveContents::default();
    let compression = Compression::sniff(&head);
    contents.compression = Some(compression);
    let peeked: DynInput<'_> = Box::new(peeked);
    let (decoded, code): (DynInput<'_>, ErrorCode) = match compression {
        Compression::None => {
            if !looks_like_tar(&head) {
                return Err(not_an_archive(&head));
            }
            (peeked, ErrorCode::Io)
        }
        Compression::Gzip => (
            Box::new(Metered::new(
                StreamInput::new(gunzip(InputReader(peeked), source_len, WHOLE_MIN)),
                outer,
            )),
            ErrorCode::CorruptGzip,
        ),
        Compression::Zstd => (
            Box::new(Metered::new(
                StreamInput::new(zstd::ZstdReader::new(InputReader(peeked))),
                outer,
            )),
            ErrorCode::CorruptZstd,
        ),
    };
    let inner = Peeked::new(decoded, BLOCK).map_err(|e| {
        let code = if is_over_budget(&e) {
            return Error::new(ErrorCode::LimitExceeded, rule::SPENT);
        } else if e.kind() == std::io::ErrorKind::UnexpectedEof {
            ErrorCode::Truncated
        } else {
            code
        };
        Error::new(code, format!("cannot decompress the input: {}", e))
    })?;
    if !looks_like_tar(inner.head()) {
        return Err(Error::new(
            ErrorCode::NotAnArchive,
            format!(
                "the input is {}-compressed, but what it holds is not a tar archive",
                compression.as_str()
            ),
        ));
    }
    // Member offsets are source offsets only when nothing is decompressed.
    let defer_within = source_len
        .filter(|_| compression == Compression::None && options.defer_layers && !options.verify);
    let source_offsets = compression == Compression::None && options.predecoded_gzip.is_none();
    let mut walker = TarWalker::new(Box::new(inner) as DynInput<'_>, code);
    let mut walk = Walk {
        options,
        defer_within,
        budget,
        source_offsets,
        json_total: 0,
    };
    walk.archive(&mut walker, on_member, &mut contents);
    drop(walker);
    contents.bytes_read = budget.consumed();
    if outer.stopped() {
        // The analysis names what the budget stopped, with its figures.
        contents
            .errors
            .retain(|e| !(e.code == ErrorCode::LimitExceeded && e.message == rule::SPENT));
    }
    contents.decompression = budget.figures(outer);
    if let Some(size) = options.predecoded_gzip {
        contents.compression = Some(Compression::Gzip);
        contents.bytes_read = size;
    }
    Ok(contents)
}

fn entry_kind(flag: TypeFlag) -> Option<EntryKind> {
    Some(match flag {
        TypeFlag::Regular | TypeFlag::GnuSparse => EntryKind::File,
        TypeFlag::HardLink => EntryKind::HardLink,
        TypeFlag::Symlink => EntryKind::Symlink,
        TypeFlag::CharDevice => EntryKind::CharDevice,
        TypeFlag::BlockDevice => EntryKind::BlockDevice,
        TypeFlag::Directory | TypeFlag::Other(b'D') => EntryKind::Dir,
        TypeFlag::Fifo => EntryKind::Fifo,
        _ => return None,
    })
}

/// Members that may be image parts: top-level files (`manifest.json`,
/// `<digest>.tar`, kaniko's `sha256:<hex>`), `<id>/layer.tar` and its
/// `<id>/json` (which orders the layers of an archive cut before its
/// manifest), `blobs/<alg>/<hex>`.
fn is_candidate_member(p: &str) -> bool {
    let depth = p.split('/').count();
    depth == 1
        || (depth == 2 && matches!(path::file_name(p), "layer.tar" | "json"))
        || (depth == 3 && p.starts_with("blobs/"))
}

fn looks_like_json(head: &[u8]) -> bool {
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{' || b == b'[')
}

/// One walk of the outer archive: what stays the same from member to member.
struct Walk<'o> {
    options: &'o ReadOptions,
    /// The source's length when layers may be deferred.
    defer_within: Option<u64>,
    budget: &'o Budget,
    /// Positions in the walked stream are the source's (nothing decoded).
    source_offsets: bool,
    json_total: usize,
}

impl Walk<'_> {
    fn archive(
        &mut self,
        walker: &mut TarWalker<DynInput<'_>>,
        on_member: &mut dyn FnMut(&str),
        contents: &mut ArchiveContents,
    ) {
        let options = self.options;
        let mut filesystem = LayerBuilder::new(options.layer_limits);
        let mut filesystem_failed = false;
        let mut members: u64 = 0;
        loop {
            let entry = match walker.next_entry() {
                Ok(Some(e)) => e,
                Ok(None) => break,
                Err(e) => {
                    contents.errors.push(e);
                    break;
                }
            };
            members += 1;
            if members > options.max_members {
                contents.errors.push(Error::new(
                    ErrorCode::LimitExceeded,
                    "the archive has too many members",
                ));
                break;
            }
            let Some(kind) = entry_kind(entry.type_flag) else {
                continue;
            };
            // The archive as a filesystem, in case it has no image metadata.
            let mut wanted = None;
            if !filesystem_failed {
                let raw = entry.raw(kind);
                let wants = filesystem.wants_content(&raw);
                match filesystem.add(raw) {
                    Ok(()) => wanted = wants,
                    Err(e) => {
                        // Only matters if this turns out to be a flattened filesystem.
                        filesystem.fail(e);
                        filesystem_failed = true;
                    }
                }
            }
            let name = path::normalize(&entry.path).path;
            contents.image_member_names |= is_image_member_name(&name);
            if !is_candidate_member(&name) {
                if let Some(limit) = wanted {
                    match walker.read_content(limit) {
                        Ok((bytes, truncated)) => filesystem.capture(&entry.path, bytes, truncated),
                        Err(e) => {
                            contents.errors.push(e.with_entry(name));
                            break;
                        }
                    }
                }
                continue;
            }
            match kind {
                EntryKind::Symlink => {
                    let target = path::resolve_link(&name, &String::from_utf8_lossy(&entry.link));
                    contents.links.insert(name, target);
                }
                EntryKind::HardLink => {
                    contents
                        .links
                        .insert(name, path::normalize(&entry.link).path);
                }
                EntryKind::File => {
                    on_member(&name);
                    if let Err(e) = self.member(walker, &name, entry.size, contents) {
                        contents.errors.push(e.with_entry(name));
                        break;
                    }
                }
                _ => {}
            }
        }
        contents.as_filesystem = filesystem.finish();
        contents.end_marker_missing = contents.errors.is_empty() && !walker.saw_end_marker();
    }

    /// Sniff one member and keep what it is: JSON, a layer summary, or just
    /// its name. With `--verify`, the whole member is hashed on the way.
    fn member(
        &mut self,
        walker: &mut TarWalker<DynInput<'_>>,
        name: &str,
        size: u64,
        contents: &mut ArchiveContents,
    ) -> Result<()> {
        let options = self.options;
        // A member that comes again replaces the earlier one (`store`).
        contents.deferred_layers.retain(|d| d.name != name);
        let layer_room = contents.layer_count() < options.max_layers;
        let offset = walker.position();
        if self.source_offsets {
            // A stream's budget grows with what is known of it.
            self.budget.note_input(offset.saturating_add(size));
        }
        // Only a member that lies whole within the source: a cut one is read
        // here, where truncation is reported as such.
        let defer = self
            .defer_within
            .is_some_and(|len| offset.checked_add(size).is_some_and(|end| end <= len));
        let layer = LayerRead {
            limits: options.layer_limits,
            budget: self.budget,
            digest: options.verify || contents.digest_layer(name),
        };
        let (kind, drained, digest) = {
            let mut member = Hashing::new(walker.content(), options.verify);
            let kind = classify_member(
                &mut member,
                size,
                options,
                self.json_total,
                layer_room,
                defer,
                &layer,
            );
            // The digest covers the whole member, however little of it the analysis
            // needs. A failure there must not lose what was already read: it is
            // reported after the member is kept, as without --verify.
            let drained = if kind.is_ok() { member.drain() } else { Ok(()) };
            let digest = member.finish().filter(|_| drained.is_ok());
            (kind, drained, digest)
        };
        let kind = kind.map_err(|e| walker.io_error(e))?;
        let truncated = walker.is_truncated();
        if truncated && !matches!(kind, MemberKind::Layer(..) | MemberKind::Deferred) {
            return Err(
                Error::new(ErrorCode::Truncated, "the archive ends inside a member")
                    .with_offset(walker.position()),
            );
        }
        if let Some(d) = digest.filter(|_| !truncated) {
            contents.blob_digests.insert(name.to_string(), d);
        }
        match kind {
            MemberKind::Json(bytes) => {
                self.json_total += bytes.len();
                contents.store(name, Stored::Json(bytes));
            }
            MemberKind::Other => contents.store(name, Stored::Other),
            MemberKind::Deferred => {
                contents.store(name, Stored::Deferred);
                contents.deferred_layers.push(DeferredLayer {
                    name: name.to_string(),
                    offset,
                    size,
                });
            }
            MemberKind::OverLimit(what) => {
                contents
                    .errors
                    .push(Error::new(ErrorCode::LimitExceeded, what).with_entry(name));
                contents.store(name, Stored::Other);
            }
            MemberKind::Layer(mut summary) => {
                if truncated {
                    // The archive itself ended inside this layer: say so, not "corrupt gzip".
                    for e in summary.errors.iter_mut() {
                        e.code = ErrorCode::Truncated;
                    }
                    if summary.errors.is_empty() {
                        summary.errors.push(Error::new(
                            ErrorCode::Truncated,
                            "the archive ends inside this layer",
                        ));
                    }
                    summary.diff_id = None;
                }
                if let Some(d) = &summary.diff_id {
                    contents.diff_digests.insert(name.to_string(), d.clone());
                }
                contents.insert_layer(name, *summary);
                if truncated {
                    return Err(Error::new(
                        ErrorCode::Truncated,
                        "the archive ends inside a layer",
                    )
                    .with_offset(walker.position()));
                }
            }
        }
        drained.map_err(|e| walker.io_error(e))
    }
}

/// What one member turned out to be.
enum MemberKind {
    Json(Vec<u8>),
    Layer(Box<LayerSummary>),
    /// A layer left for [`scan_deferred_layer`].
    Deferred,
    Other,
    /// JSON over the memory limit, or a layer over the layer limit.
    OverLimit(&'static str),
}

/// How a layer is summarised: its limits, the analysis's decompression
/// budget, and whether to digest its uncompressed stream (its diff_id:
/// `--verify`, or a compressed layer read before any manifest).
pub struct LayerRead<'b> {
    pub limits: LayerLimits,
    pub budget: &'b Budget,
    pub digest: bool,
}

fn classify_member(
    member: &mut Hashing<Window<'_, DynInput<'_>>>,
    size: u64,
    options: &ReadOptions,
    json_total: usize,
    layer_room: bool,
    defer: bool,
    layer: &LayerRead<'_>,
) -> std::io::Result<MemberKind> {
    let mut head = vec![0u8; BLOCK];
    let got = read_full(member, &mut head)?;
    head.truncate(got);
    // Sizes stay u64 until they are known to be small: usize is 32 bits in wasm32.
    if looks_like_json(&head) && size <= MAX_JSON_BYTES as u64 {
        if json_total as u64 + size > options.max_json_total as u64 {
            return Ok(MemberKind::OverLimit(
                "the archive's JSON documents exceed the memory limit",
            ));
        }
        let mut bytes = head;
        let start = bytes.len();
        bytes.resize(size as usize, 0);
        let got = read_full(member, &mut bytes[start..])?;
        bytes.truncate(start + got);
        return Ok(MemberKind::Json(bytes));
    }
    let compression = Compression::sniff(&head);
    if compression == Compression::None && !looks_like_tar(&head) {
        return Ok(MemberKind::Other);
    }
    if !layer_room {
        return Ok(MemberKind::OverLimit("the archive has too many layers"));
    }
    if defer {
        return Ok(MemberKind::Deferred);
    }
    let replay: DynInput<'_> = Box::new(Peeked::with_head(member as &mut dyn Input, head));
    let summary = scan_layer(replay, compression, size, layer);
    Ok(MemberKind::Layer(Box::new(summary)))
}

/// Compressed sizes from which a gzip stream is decoded on several threads
/// ([`pgzip`]): a whole-file gzip archive, a gzip layer (measured: see
/// bench/RESULTS.md, "One gzip stream").
const WHOLE_MIN: u64 = 8 << 20;
const LAYER_MIN: u64 = 8 << 20;

/// A gzip stream's decoder: natively on several threads when the stream is
/// big enough and `ROOTLESS_CHECK_GZIP_THREADS` asks for them (see
/// [`pgzip::threads`]); the sequential one in the wasm.
#[cfg(not(target_arch = "wasm32"))]
fn gunzip<'a, R: Read + 'a>(input: R, size: Option<u64>, min: u64) -> Box<dyn Read + 'a> {
    pgzip::reader(Box::new(input), size, min)
}

#[cfg(target_arch = "wasm32")]
fn gunzip<R: Read>(input: R, _size: Option<u64>, _min: u64) -> gzip::GzipReader<R> {
    gzip::GzipReader::new(input)
}

/// Summarise one layer blob (tar, or gzip/zstd around tar). A compressed
/// layer's decoded bytes are charged to the budget (`decompressed`,
/// `over_budget`); with `digest`, its uncompressed stream is digested
/// (`diff_id`). An uncompressed layer's diff_id is its blob's digest.
pub fn scan_layer(
    input: DynInput<'_>,
    compression: Compression,
    stored_size: u64,
    layer: &LayerRead<'_>,
) -> LayerSummary {
    let mut builder = LayerBuilder::new(layer.limits);
    builder.set_compression(compression, stored_size);
    if compression == Compression::None {
        builder.reserve_for_tar(stored_size);
    }
    let meter = Meter::new(layer.budget);
    let (result, diff_id) = match compression {
        Compression::None => (
            walk_layer_with(&mut TarWalker::new(input, ErrorCode::Io), &mut builder),
            None,
        ),
        Compression::Gzip => walk_decoded(
            Box::new(Metered::new(
                StreamInput::new(gunzip(InputReader(input), Some(stored_size), LAYER_MIN)),
                &meter,
            )),
            ErrorCode::CorruptGzip,
            layer.digest,
            &mut builder,
        ),
        Compression::Zstd => walk_decoded(
            Box::new(Metered::new(
                StreamInput::new(zstd::ZstdReader::new(InputReader(input))),
                &meter,
            )),
            ErrorCode::CorruptZstd,
            layer.digest,
            &mut builder,
        ),
    };
    if let Err(e) = result {
        builder.fail(e);
    }
    let mut summary = builder.finish();
    summary.decompressed = meter.given();
    summary.over_budget = meter.stopped();
    summary.diff_id = diff_id;
    summary
}

/// Summarise a layer that [`read_archive`] deferred: `input` starts at the
/// member's first byte (its `offset`) and holds at least `size` more bytes.
/// `digest`: digest a compressed layer's uncompressed stream (see
/// [`ArchiveContents::digest_layer`]).
pub fn scan_deferred_layer(
    mut input: DynInput<'_>,
    size: u64,
    limits: LayerLimits,
    budget: &Budget,
    digest: bool,
) -> LayerSummary {
    let mut remaining = size;
    let mut truncated = false;
    let mut member = Window::new(&mut input, &mut remaining, &mut truncated);
    let mut head = vec![0u8; BLOCK];
    let head = match read_full(&mut member, &mut head) {
        Ok(got) => {
            head.truncate(got);
            head
        }
        Err(e) => {
            let mut builder = LayerBuilder::new(limits);
            builder.fail(Error::new(
                ErrorCode::Io,
                format!("cannot read the layer: {}", e),
            ));
            return builder.finish();
        }
    };
    let compression = Compression::sniff(&head);
    let replay: DynInput<'_> = Box::new(Peeked::with_head(&mut member as &mut dyn Input, head));
    let layer = LayerRead {
        limits,
        budget,
        digest,
    };
    scan_layer(replay, compression, size, &layer)
}

/// Walk a deferred layer's tar (`size` bytes, or `u64::MAX` when not
/// known) into `builder`, on from where an earlier walk stood before an
/// entry (`from`, 0 at first) and the bytes it skipped from there; `input`
/// is at the tar's byte `from`, and its errors are `code`'s. Returns the
/// walk's outcome and where it stood before the entry it was in: a walk
/// stopped by its input starts again there, with the same builder (see
/// `LayerScan` in the wasm bindings).
pub fn walk_layer_from(
    mut input: DynInput<'_>,
    size: u64,
    (from, skip): (u64, u64),
    code: ErrorCode,
    builder: &mut LayerBuilder,
) -> (Result<()>, (u64, u64)) {
    let mut remaining = size.saturating_sub(from);
    let mut truncated = false;
    let member = Window::new(&mut input, &mut remaining, &mut truncated).resumed_at(from);
    let mut walker = TarWalker::new(Box::new(member) as DynInput<'_>, code);
    walker.skip_first(skip);
    let outcome = walk_layer_with(&mut walker, builder);
    (outcome, walker.resume_point())
}

fn walk_decoded(
    decoded: DynInput<'_>,
    code: ErrorCode,
    digest: bool,
    builder: &mut LayerBuilder,
) -> (Result<()>, Option<String>) {
    let mut hashed = Hashing::new(decoded, digest);
    let mut result = walk_layer_with(
        &mut TarWalker::new(Box::new(&mut hashed) as DynInput<'_>, code),
        builder,
    );
    if digest && result.is_ok() {
        // The digest covers the stream to its end, past the tar's end blocks.
        if let Err(e) = hashed.drain() {
            result = Err(walker_error(e, code));
        }
    }
    let digest = hashed.finish().filter(|_| result.is_ok());
    (result, digest)
}

/// An error of a decoded stream read outside a walk.
fn walker_error(e: std::io::Error, code: ErrorCode) -> Error {
    let code = if is_over_budget(&e) {
        ErrorCode::LimitExceeded
    } else if e.kind() == std::io::ErrorKind::UnexpectedEof {
        ErrorCode::Truncated
    } else {
        code
    };
    Error::new(code, format!("{}", e))
}

fn walk_layer_with(walker: &mut TarWalker<DynInput<'_>>, builder: &mut LayerBuilder) -> Result<()> {
    while let Some(entry) = walker.next_entry()? {
        let Some(kind) = entry_kind(entry.type_flag) else {
            continue;
        };
        let raw = entry.raw(kind);
        // The content first: a walk that stops inside this entry (a resumable
        // scan waiting for bytes) leaves the builder as it was.
        let content = match builder.wants_content(&raw) {
            Some(limit) => Some(walker.read_content(limit)?),
            None => None,
        };
        builder.add(raw)?;
        if let Some((bytes, truncated)) = content {
            builder.capture(&entry.path, bytes, truncated);
        }
    }
    Ok(())
}
