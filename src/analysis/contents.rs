//! What the archive reader hands to the analysis: the archive's small JSON
//! documents, a summary per layer blob, the links between members, and the
//! archive itself seen as a filesystem (for flattened exports). Members are
//! keyed by their normalised path in the archive.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::budget::Decompression;
use super::config::Descriptor;
use super::error::Error;
use super::layer::{Compression, LayerSummary};
use super::path;
use crate::render::json_writer::{JsonWriter, WriteJson};

#[derive(Debug)]
pub struct ArchiveContents {
    /// The regular members, by path. A member that comes again replaces the
    /// earlier one, as when the archive is extracted. (One map rather than
    /// one per kind: each map type costs the wasm several KiB.)
    members: BTreeMap<String, Stored>,
    /// How many of `members` are layers, summarised or deferred.
    layer_count: usize,
    /// Symlinks and hard links between members: path → target path.
    pub links: BTreeMap<String, String>,
    /// The archive's own entries as one layer (used when it has no image metadata).
    pub as_filesystem: LayerSummary,
    /// Some entry's name is one that image archives use ([`is_image_member_name`]).
    pub image_member_names: bool,
    /// Compression around the whole archive.
    pub compression: Option<Compression>,
    pub bytes_read: u64,
    /// What the decoders gave outside the layers, and the budget.
    pub decompression: Decompression,
    /// The archive ended between entries without its end-of-archive marker
    /// (two zero blocks): it was probably cut short.
    pub end_marker_missing: bool,
    /// With `--verify`: `sha256:<hex>` of each member as stored.
    pub blob_digests: BTreeMap<String, String>,
    /// With `--verify`: `sha256:<hex>` of each compressed layer's uncompressed stream.
    pub diff_digests: BTreeMap<String, String>,
    /// Problems that stopped reading the archive (truncation, corruption) or a member.
    pub errors: Vec<Error>,
    /// Layer members left for someone else to summarise (in parallel), in
    /// archive order; each comes back through [`ArchiveContents::insert_layer`].
    pub deferred_layers: Vec<DeferredLayer>,
}

/// A name that image archives use for a member: `manifest.json`,
/// `repositories`, `oci-layout`, `blobs/…`, `<64 hex>/VERSION`, `<64 hex>.json`, …
pub fn is_image_member_name(p: &str) -> bool {
    fn hex64(s: &str) -> bool {
        s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
    }
    let (first, rest) = p.split_once('/').unwrap_or((p, ""));
    matches!(
        p,
        "manifest.json" | "index.json" | "oci-layout" | "repositories" | "blobs"
    ) || first == "blobs"
        || (hex64(first) && matches!(rest, "" | "VERSION" | "json" | "layer.tar"))
        || p.strip_suffix(".json").is_some_and(hex64)
        || p.strip_suffix(".tar").is_some_and(hex64)
        || p.strip_suffix(".tar.gz").is_some_and(hex64)
        || p.strip_prefix("sha256:").is_some_and(hex64)
}

/// A layer member whose summary is made elsewhere: where it lies in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeferredLayer {
    pub name: String,
    /// Offset of the member's first byte in the source.
    pub offset: u64,
    pub size: u64,
}

/// What is kept of a regular member.
#[derive(Debug)]
pub enum Stored {
    /// A JSON-looking blob (manifest.json, index.json, configs, manifests).
    Json(Vec<u8>),
    /// A layer (tar, or gzip/zstd around tar), summarised.
    Layer(alloc::boxed::Box<LayerSummary>),
    /// A layer whose summary is still to come (see `deferred_layers`).
    Deferred,
    /// Neither JSON nor a layer (or too large to keep).
    Other,
}

impl Stored {
    fn is_layer(&self) -> bool {
        matches!(self, Stored::Layer(_) | Stored::Deferred)
    }
}

/// What a member path leads to.
pub enum Member<'a> {
    Layer(&'a LayerSummary),
    Json(&'a [u8]),
    /// Present, but neither a layer nor JSON.
    Other,
    Missing,
}

impl Default for ArchiveContents {
    // Not inlined: made in several places, it would be copied into each (the wasm's size).
    #[inline(never)]
    fn default() -> Self {
        ArchiveContents {
            members: BTreeMap::new(),
            layer_count: 0,
            links: BTreeMap::new(),
            as_filesystem: LayerSummary::default(),
            image_member_names: false,
            compression: None,
            bytes_read: 0,
            decompression: Decompression::default(),
            end_marker_missing: false,
            blob_digests: BTreeMap::new(),
            diff_digests: BTreeMap::new(),
            errors: Vec::new(),
            deferred_layers: Vec::new(),
        }
    }
}

impl ArchiveContents {
    /// Keep a layer's summary under its member name; its errors name the
    /// member when they name nothing else. A deferred layer stops being deferred.
    pub fn insert_layer(&mut self, name: &str, mut summary: LayerSummary) {
        for e in summary.errors.iter_mut() {
            if e.entry.is_none() {
                e.entry = Some(String::from(name));
            }
        }
        self.deferred_layers.retain(|d| d.name != name);
        self.store(name, Stored::Layer(alloc::boxed::Box::new(summary)));
    }

    /// Keep what a member is, replacing an earlier member of the same name.
    pub fn store(&mut self, name: &str, what: Stored) {
        self.layer_count += usize::from(what.is_layer());
        if let Some(earlier) = self.members.insert(String::from(name), what) {
            self.layer_count -= usize::from(earlier.is_layer());
        }
    }

    /// Whether to digest the uncompressed stream of the compressed layer
    /// `name` (its diff_id) as it is read: when it lies at the archive's top
    /// level, where go-containerregistry and kaniko write `<digest>.tar.gz`
    /// layers, and no `manifest.json` or `index.json` has been read (yet):
    /// their config's diff_ids then order the layers of an archive cut
    /// before its manifest (which they write last). Other layouts have
    /// what orders their layers without it: image manifest blobs
    /// (`blobs/…`), layers named by their diff_id, Docker's `<id>/json`.
    pub fn digest_layer(&self, name: &str) -> bool {
        !name.contains('/')
            && self.json_member("manifest.json").is_none()
            && self.json_member("index.json").is_none()
    }

    /// Layer members, summarised or deferred.
    pub fn layer_count(&self) -> usize {
        self.layer_count
    }

    /// The summarised layers, by member path.
    pub fn layers(&self) -> impl Iterator<Item = (&str, &LayerSummary)> {
        self.members
            .iter()
            .filter_map(|(name, stored)| match stored {
                Stored::Layer(l) => Some((name.as_str(), &**l)),
                _ => None,
            })
    }

    /// The JSON members, by member path.
    pub fn json_members(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.members
            .iter()
            .filter_map(|(name, stored)| match stored {
                Stored::Json(j) => Some((name.as_str(), j.as_slice())),
                _ => None,
            })
    }

    /// Follow member links (bounded, so a cycle ends).
    pub fn resolve_path(&self, p: &str) -> String {
        let mut current = path::normalize(p.as_bytes()).path;
        for _ in 0..16 {
            match self.links.get(&current) {
                Some(next) => current = next.clone(),
                None => break,
            }
        }
        current
    }

    pub fn member(&self, p: &str) -> Member<'_> {
        match self.members.get(&self.resolve_path(p)) {
            Some(Stored::Layer(l)) => Member::Layer(l),
            Some(Stored::Json(j)) => Member::Json(j),
            Some(Stored::Other) => Member::Other,
            Some(Stored::Deferred) | None => Member::Missing,
        }
    }

    pub fn json_member(&self, p: &str) -> Option<&[u8]> {
        match self.member(p) {
            Member::Json(j) => Some(j),
            _ => None,
        }
    }

    /// Whether the archive's own entries carry names that image archives use
    /// (`manifest.json`, `repositories`, `oci-layout`, `blobs/`, `<64 hex>/VERSION`,
    /// `<64 hex>.json`, …): weaker evidence than [`Self::has_image_structure`],
    /// used when the archive was cut short before its manifest.
    pub fn has_image_member_names(&self) -> bool {
        self.image_member_names
    }

    /// Whether any member looks like part of an image archive.
    pub fn has_image_structure(&self) -> bool {
        self.members.iter().any(|(k, stored)| match stored {
            Stored::Json(_) | Stored::Layer(_) => {
                k == "oci-layout" || k.starts_with("blobs/") || k.ends_with("/layer.tar")
            }
            Stored::Other => k == "oci-layout",
            Stored::Deferred => false,
        })
    }
}

/// `index.json` naming the manifests, each with its platform and its
/// annotations, or, when there is one, the image's name (as containerd's
/// exports carry it): for images gathered from a registry or a layout
/// rather than read from an archive, so that they are assembled as an OCI
/// archive's images are.
pub fn store_index(contents: &mut ArchiveContents, manifests: &[Descriptor], name: Option<&str>) {
    let text = crate::render::json_writer::to_string(&Index { manifests, name });
    contents.store("index.json", Stored::Json(text.into_bytes()));
}

struct Index<'a> {
    manifests: &'a [Descriptor],
    name: Option<&'a str>,
}

impl WriteJson for Index<'_> {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("schemaVersion", &2u32);
        w.key("manifests");
        w.begin_array();
        for d in self.manifests {
            w.begin_object();
            w.field("digest", &d.digest);
            if let Some(p) = &d.platform {
                w.key("platform");
                w.begin_object();
                w.field("os", &p.os);
                w.field("architecture", &p.architecture);
                if p.variant.is_some() {
                    w.field("variant", &p.variant);
                }
                w.end_object();
            }
            if let Some(name) = self.name {
                w.key("annotations");
                w.begin_object();
                w.field("io.containerd.image.name", name);
                w.end_object();
            } else if let Some(annotations) = &d.annotations {
                w.key("annotations");
                w.begin_object();
                for (k, v) in annotations {
                    w.field(k, v);
                }
                w.end_object();
            }
            w.end_object();
        }
        w.end_array();
        w.end_object();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_that_comes_again_replaces_the_earlier_one() {
        let mut c = ArchiveContents::default();
        c.store("a", Stored::Json(b"{}".to_vec()));
        assert!(matches!(c.member("a"), Member::Json(_)));
        c.store("a", Stored::Layer(Default::default()));
        assert!(matches!(c.member("a"), Member::Layer(_)));
        assert_eq!(c.layer_count(), 1);
        c.store("a", Stored::Other);
        assert!(matches!(c.member("a"), Member::Other));
        assert_eq!(c.layer_count(), 0);
        // A deferred layer counts, but is missing until its summary comes.
        c.store("b", Stored::Deferred);
        assert!(matches!(c.member("b"), Member::Missing));
        assert_eq!(c.layer_count(), 1);
        c.insert_layer("b", LayerSummary::default());
        assert!(matches!(c.member("b"), Member::Layer(_)));
        assert_eq!(c.layer_count(), 1);
        assert_eq!(c.layers().map(|(name, _)| name).collect::<Vec<_>>(), ["b"]);
    }
}
