//! OCI image layout directories (`oci:DIR[:REF]`: skopeo, buildx
//! `type=oci,tar=false`, crane, ORAS). A directory is an OCI archive
//! unpacked: its images are read as the archive's would be, its JSON
//! documents checked against their digests, its layers summarised in
//! parallel from their files, skipping contents by seeking.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::registry::{index_images, platform_matches};
use super::{image_parts, ImageParts, SourceOptions};
use crate::analysis::config::{self, Descriptor};
use crate::analysis::error::{Error, ErrorCode, Result};
use crate::analysis::layer::LayerSummary;
use crate::analysis::report::{Report, SourceInfo};
use crate::archive::budget::{Budget, Meter};
use crate::archive::hashing::{sha256_digest, Hashing};
use crate::archive::input::{DynInput, SeekInput, StreamInput};
use crate::archive::scan_deferred_layer;

/// The annotation that names an image in a layout (skopeo's `oci:DIR:REF`).
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const MAX_DEPTH: usize = 4;

fn io_error(path: &Path, e: std::io::Error) -> Error {
    let code = if e.kind() == std::io::ErrorKind::NotFound {
        ErrorCode::NotFound
    } else {
        ErrorCode::Io
    };
    Error::new(code, format!("cannot read {}: {}", path.display(), e))
}

/// A JSON file of the layout, at most the analysis' JSON limit.
fn read_json(path: &Path) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let limit = config::MAX_JSON_BYTES as u64;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!("{} is larger than {} bytes", path.display(), limit),
        ));
    }
    Ok(bytes)
}

/// A blob's JSON, checked against its digest (small: always checked).
fn read_blob_json(dir: &Path, digest: &str) -> Result<Vec<u8>> {
    let rel = config::blob_path(digest).ok_or_else(|| {
        Error::new(ErrorCode::BadJson, "a descriptor has a malformed digest")
            .with_entry(digest.to_string())
    })?;
    let bytes = read_json(&dir.join(&rel))?;
    if digest.starts_with("sha256:") {
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(Error::new(
                ErrorCode::DigestMismatch,
                format!(
                    "{} has {} but {} was expected: the layout was altered",
                    rel, actual, digest
                ),
            ));
        }
    }
    Ok(bytes)
}

/// Analyse the layout at `dir`; `name` picks images by their reference name.
pub fn analyze(
    dir: &Path,
    name: Option<&str>,
    given: &str,
    options: &SourceOptions,
) -> Result<Report> {
    let marker = dir.join("oci-layout");
    if !marker.is_file() {
        return Err(Error::new(
            if dir.is_dir() {
                ErrorCode::NotAnArchive
            } else {
                ErrorCode::NotFound
            },
            format!(
                "{} is not an OCI image layout directory (no oci-layout file)",
                dir.display()
            ),
        ));
    }
    let index_bytes = read_json(&dir.join("index.json"))?;
    let index =
        config::parse_manifest_or_index(&index_bytes).map_err(|e| e.with_entry("index.json"))?;
    let mut top: Vec<Descriptor> = index_images(&index).into_iter().cloned().collect();
    if let Some(name) = name {
        top.retain(|d| {
            d.annotations
                .as_ref()
                .and_then(|a| a.get(REF_NAME))
                .is_some_and(|n| n == name)
        });
        if top.is_empty() {
            let names: Vec<String> = index_images(&index)
                .iter()
                .filter_map(|d| d.annotations.as_ref()?.get(REF_NAME).cloned())
                .collect();
            return Err(Error::new(
                ErrorCode::NotFound,
                format!(
                    "{} has no image named '{}'; it has: {}",
                    dir.display(),
                    name,
                    if names.is_empty() {
                        String::from("no named images")
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        }
    }
    let mut parts = ImageParts {
        verify: options.read.verify,
        ..ImageParts::default()
    };
    let mut layers: Vec<Descriptor> = Vec::new();
    let mut platforms = Vec::new();
    let mut stack: Vec<(Descriptor, usize)> = top.into_iter().map(|d| (d, 0)).collect();
    stack.reverse();
    while let Some((d, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                "image index nesting too deep or cyclic",
            ));
        }
        let bytes = read_blob_json(dir, &d.digest)?;
        let doc =
            config::parse_manifest_or_index(&bytes).map_err(|e| e.with_entry(d.digest.clone()))?;
        if doc.manifests.is_some() {
            for child in index_images(&doc).into_iter().rev() {
                stack.push((child.clone(), depth + 1));
            }
            parts.add_json(&d.digest, bytes)?;
            continue;
        }
        if let Some(p) = &d.platform {
            platforms.push(p.display());
            if let Some(wanted) = options.platform.as_deref() {
                if !platform_matches(p, wanted) {
                    continue;
                }
            }
        }
        if let Some(cfg) = &doc.config {
            let config_bytes = read_blob_json(dir, &cfg.digest)?;
            parts.add_json(&cfg.digest, config_bytes)?;
        }
        for l in doc.layers.iter().flatten() {
            if !layers.iter().any(|x| x.digest == l.digest) {
                layers.push(l.clone());
            }
        }
        parts.add_json(&d.digest, bytes)?;
        parts.index.push(d);
    }
    if parts.index.is_empty() {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!(
                "{} has no image for platform {}; it has: {}",
                dir.display(),
                options.platform.as_deref().unwrap_or("any"),
                platforms.join(", ")
            ),
        ));
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let limits = options.read.layer_limits;
    let stored = layers.iter().filter_map(|l| l.size).sum();
    let budget = Budget::new(options.read.max_decompressed, Some(stored));
    let verify = options.read.verify;
    let scanned = super::parallel(&layers, threads, |d| {
        scan_layer_file(dir, d, limits, &budget, verify)
    });
    parts.contents.decompression = budget.figures(&Meter::new(&budget));
    let mut bytes = 0;
    for (i, scan) in scanned {
        bytes += scan.size;
        // A missing layer file: the analysis says E_MISSING_BLOB for it.
        let Some(summary) = scan.summary else {
            continue;
        };
        // With --verify, the analysis compares these with the manifest's
        // digests and the config's diff_ids, as for an archive's members.
        if verify {
            parts.add_layer_digests(&layers[i].digest, scan.digest, &summary);
        }
        parts.add_layer(&layers[i].digest, summary)?;
    }
    let source = SourceInfo {
        kind: String::from("oci-layout"),
        reference: given.to_string(),
        resolved: match name {
            Some(n) => format!("{}:{}", dir.display(), n),
            None => dir.display().to_string(),
        },
        registry: None,
        repository: None,
        tag: name.map(String::from),
        digest: (parts.index.len() == 1).then(|| parts.index[0].digest.clone()),
        platforms: Vec::new(),
    };
    // The images keep the names the layout gives them (as in an OCI archive).
    image_parts::finish(parts, None, source, bytes)
}

/// What was read of one layer file.
#[derive(Default)]
struct LayerScan {
    /// `None` when the file is missing.
    summary: Option<LayerSummary>,
    size: u64,
    /// With `--verify`: `sha256:<hex>` of the whole file.
    digest: Option<String>,
}

/// Summarise one layer file. Without `verify`, contents the analysis does
/// not need are skipped by seeking; with it, every byte is read and hashed,
/// and the uncompressed stream digested too (its diff_id).
fn scan_layer_file(
    dir: &Path,
    d: &Descriptor,
    limits: crate::analysis::layer::LayerLimits,
    budget: &Budget,
    verify: bool,
) -> LayerScan {
    let Some(rel) = config::blob_path(&d.digest) else {
        return LayerScan::default();
    };
    let path = dir.join(rel);
    let Ok(file) = File::open(&path) else {
        return LayerScan::default();
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if verify {
        let mut hashing = Hashing::new(StreamInput::new(file), true);
        let summary = scan_deferred_layer(Box::new(&mut hashing), size, limits, budget, true);
        let drained = hashing.drain();
        let digest = hashing.finish().filter(|_| drained.is_ok());
        return LayerScan {
            summary: Some(summary),
            size,
            digest,
        };
    }
    let summary = match SeekInput::new(file) {
        Ok(input) => {
            scan_deferred_layer(Box::new(input) as DynInput<'_>, size, limits, budget, false)
        }
        Err(e) => {
            let mut b = crate::analysis::layer::LayerBuilder::new(limits);
            b.fail(io_error(&path, e));
            b.finish()
        }
    };
    LayerScan {
        summary: Some(summary),
        size,
        digest: None,
    }
}
