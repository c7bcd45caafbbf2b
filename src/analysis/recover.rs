//! The images of an archive cut before its manifest. `docker save` writes
//! `manifest.json` (and Docker ≥ 25 `index.json`) after the blobs, and OCI
//! archives often write `index.json` after theirs: a cut archive usually
//! holds the image's config (its USER, its layers' diff_ids) and most of
//! its layers. They are put back in order from what the archive holds:
//!
//! 1. image manifest blobs (`blobs/…`: OCI archives, Docker ≥ 25), which
//!    list the config and the layers;
//! 2. else each config's `rootfs.diff_ids`: an uncompressed layer named by
//!    its digest (`blobs/sha256/<hex>`, `<hex>.tar`) is that diff_id; a
//!    compressed layer's is the digest of its uncompressed stream, which the
//!    reader computes while no manifest has been read (go-containerregistry
//!    and kaniko write theirs last; `ArchiveContents::digest_layer`);
//! 3. and Docker ≤ 24's `<id>/layer.tar` layers, named by no digest, by the
//!    `parent` links of their `<id>/json`, from the image's top layer down.
//!
//! The report of such an image is partial; the layers the archive lost are
//! named by their diff_id.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::assemble::ImagePlan;
use super::config;
use super::contents::{ArchiveContents, Member};
use super::layer::Compression;

/// Images per archive, and layers per image, as for a whole one (a hostile
/// archive's configs and `<id>/json`s cost no more than this).
const MAX_IMAGES: usize = 4096;
const MAX_LAYERS: usize = 4096;

/// The images of an archive that has neither `manifest.json` nor
/// `index.json`, from its manifest blobs, configs and layers (see above).
pub fn recover(contents: &ArchiveContents) -> Vec<ImagePlan> {
    let mut plans = Vec::new();
    // Configs that an image manifest names, even one that is no image.
    let mut named: Vec<String> = Vec::new();
    for (name, bytes) in contents.json_members() {
        if !name.starts_with("blobs/") {
            continue;
        }
        let Ok(doc) = config::parse_manifest_or_index(bytes) else {
            continue;
        };
        let config_path = doc
            .config
            .as_ref()
            .and_then(|c| config::blob_path(&c.digest));
        let (Some(config_path), None) = (config_path, doc.manifests.as_ref()) else {
            continue;
        };
        if named.contains(&config_path) {
            continue;
        }
        named.push(config_path.clone());
        let layers: Vec<(String, Option<String>)> = doc
            .layers
            .iter()
            .flatten()
            .map(|l| {
                let path = config::blob_path(&l.digest).unwrap_or_default();
                (path, Some(l.digest.clone()))
            })
            .collect();
        // An attestation (its "layers" are in-toto statements) or another
        // artifact is no image; nor is a manifest whose config was cut off.
        let artifact = layers
            .iter()
            .any(|(p, _)| matches!(contents.member(p), Member::Json(_) | Member::Other));
        if artifact || contents.json_member(&config_path).is_none() {
            continue;
        }
        plans.push(ImagePlan {
            manifest_digest: config::digest_of_blob_path(name),
            config_path: Some(config_path),
            layers,
            recovered: true,
            ..ImagePlan::default()
        });
    }
    let by_diff_id = layers_by_diff_id(contents);
    let chains = V1Chains::new(contents);
    let mut tops_used = Vec::new();
    for (name, bytes) in contents.json_members() {
        if plans.len() >= MAX_IMAGES {
            break;
        }
        if named.iter().any(|n| n == name) {
            continue;
        }
        let Ok(cfg) = config::parse_config(bytes) else {
            continue;
        };
        let diff_ids = cfg.rootfs.and_then(|r| r.diff_ids).unwrap_or_default();
        if diff_ids.is_empty() || diff_ids.len() > MAX_LAYERS {
            continue;
        }
        // Each layer's member, "" while not known.
        let mut slots: Vec<String> = diff_ids
            .iter()
            .map(|d| by_diff_id.get(d.as_str()).cloned().unwrap_or_default())
            .collect();
        chains.place(contents, &mut slots, &mut tops_used);
        let layers = slots
            .into_iter()
            .map(|path| {
                let digest = config::digest_of_blob_path(&path);
                (path, digest)
            })
            .collect();
        plans.push(ImagePlan {
            config_path: Some(name.to_string()),
            layers,
            recovered: true,
            ..ImagePlan::default()
        });
    }
    plans.truncate(MAX_IMAGES);
    plans
}

/// The digest a layer member's name gives: `blobs/<alg>/<hex>`, or the
/// `<hex>.tar` of containers/image's docker archives.
fn digest_of_name(name: &str) -> Option<String> {
    config::digest_of_blob_path(name).or_else(|| {
        let hex = name.strip_suffix(".tar")?;
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| format!("sha256:{}", hex))
    })
}

/// The layer members by diff_id, where it is known. (A map of the type of
/// `ArchiveContents::links`: no new map code in the wasm.)
fn layers_by_diff_id(contents: &ArchiveContents) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (name, layer) in contents.layers() {
        let diff_id = match layer.compression {
            // An uncompressed layer's diff_id is its own digest.
            None | Some(Compression::None) => {
                digest_of_name(name).or_else(|| contents.blob_digests.get(name).cloned())
            }
            Some(_) => layer
                .diff_id
                .clone()
                .or_else(|| contents.diff_digests.get(name).cloned()),
        };
        if let Some(d) = diff_id {
            map.entry(d).or_insert_with(|| name.to_string());
        }
    }
    map
}

/// Docker ≤ 24's `<id>/json` of each layer: the layer below it, and which
/// are images' top layers (the only ones whose json carries the config).
struct V1Chains {
    /// Layer id → its parent's id ("" for none). (A map of the type of
    /// `ArchiveContents::links`: no new map code in the wasm.)
    parents: BTreeMap<String, String>,
    tops: Vec<String>,
    /// Chain steps taken so far, against [`MAX_STEPS`]: a hostile archive
    /// of many configs and chains costs no more than this.
    steps: core::cell::Cell<usize>,
}

const MAX_STEPS: usize = 1 << 20;

impl V1Chains {
    fn new(contents: &ArchiveContents) -> Self {
        let mut chains = V1Chains {
            parents: BTreeMap::new(),
            tops: Vec::new(),
            steps: core::cell::Cell::new(0),
        };
        for (name, bytes) in contents.json_members() {
            let Some(id) = name.strip_suffix("/json").filter(|id| !id.contains('/')) else {
                continue;
            };
            if let Ok(v1) = config::parse_v1_layer(bytes) {
                chains
                    .parents
                    .insert(id.to_string(), v1.parent.unwrap_or_default());
                if v1.is_top {
                    chains.tops.push(id.to_string());
                }
            }
        }
        chains
    }

    /// Fill the empty `slots` (an image's layers' members, bottom first) from
    /// the one top layer (not in `tops_used`) whose chain of parents fits
    /// them: as many layers as `slots` down to a layer without parent, or
    /// fewer down to one whose parent's json the archive lost (the chain then
    /// ends at the top slot), and no layer at odds with a slot known by its
    /// digest.
    fn place(&self, contents: &ArchiveContents, slots: &mut [String], tops_used: &mut Vec<String>) {
        let n = slots.len();
        if slots.iter().all(|s| !s.is_empty()) {
            return;
        }
        let member = |id: &str| contents.resolve_path(&format!("{}/layer.tar", id));
        let mut fitting = None;
        for top in self.tops.iter().filter(|t| !tops_used.contains(t)) {
            // From the top down, as far as the jsons go.
            let mut chain = alloc::vec![top.as_str()];
            let mut complete = false;
            while chain.len() <= n {
                self.steps.set(self.steps.get() + 1);
                if self.steps.get() > MAX_STEPS {
                    return;
                }
                let parent = self
                    .parents
                    .get(chain[chain.len() - 1])
                    .map_or("", String::as_str);
                if parent.is_empty() {
                    complete = true;
                    break;
                }
                if !self.parents.contains_key(parent) {
                    break;
                }
                chain.push(parent);
            }
            // Complete, as many as the slots; cut off, fewer.
            if (complete && chain.len() != n) || (!complete && chain.len() >= n) {
                continue;
            }
            chain.reverse();
            let start = n - chain.len();
            let fits = chain.iter().enumerate().all(|(k, id)| {
                let known = &slots[start + k];
                known.is_empty() || *known == member(id)
            });
            if fits {
                if fitting.is_some() {
                    return; // more than one: nothing to go by
                }
                fitting = Some((top, start, chain));
            }
        }
        let Some((top, start, chain)) = fitting else {
            return;
        };
        tops_used.push(top.clone());
        for (k, id) in chain.iter().enumerate() {
            let path = member(id);
            if slots[start + k].is_empty() && matches!(contents.member(&path), Member::Layer(_)) {
                slots[start + k] = path;
            }
        }
    }
}
