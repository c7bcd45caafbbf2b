//! An image gathered from a registry or a layout, laid out as an OCI
//! archive would hold it (`index.json`, `blobs/<alg>/<hex>`), so that the
//! analysis assembles it exactly as it assembles archives.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use crate::analysis::config::{self, Descriptor};
use crate::analysis::contents::{store_index, ArchiveContents, Stored};
use crate::analysis::error::{Error, ErrorCode, Result};
use crate::analysis::layer::LayerSummary;
use crate::analysis::report::{Report, SourceInfo};

#[derive(Default)]
pub(crate) struct ImageParts {
    pub contents: ArchiveContents,
    /// The manifests to analyse, as an index would name them.
    pub index: Vec<Descriptor>,
    /// `--verify`: the digests the source checked are recorded, so that the
    /// report's verification counts them as an archive's would.
    pub verify: bool,
}

fn blob_path(digest: &str) -> Result<String> {
    config::blob_path(digest).ok_or_else(|| {
        Error::new(ErrorCode::BadJson, "a descriptor has a malformed digest")
            .with_entry(digest.to_string())
    })
}

impl ImageParts {
    /// A manifest, index or config whose bytes the source checked
    /// against `digest` (sha256) before handing them over.
    pub fn add_json(&mut self, digest: &str, bytes: Vec<u8>) -> Result<()> {
        let path = blob_path(digest)?;
        if self.verify && digest.starts_with("sha256:") {
            self.contents
                .blob_digests
                .insert(path.clone(), digest.to_string());
        }
        self.contents.store(&path, Stored::Json(bytes));
        Ok(())
    }

    /// With `--verify`: a layer's digest as read (`blob`, of the bytes as
    /// stored) and of its uncompressed stream (the summary's diff_id).
    pub fn add_layer_digests(
        &mut self,
        digest: &str,
        blob: Option<String>,
        summary: &LayerSummary,
    ) {
        let Some(path) = config::blob_path(digest) else {
            return;
        };
        if let Some(d) = blob {
            self.contents.blob_digests.insert(path.clone(), d);
        }
        if let Some(d) = &summary.diff_id {
            self.contents.diff_digests.insert(path, d.clone());
        }
    }

    pub fn add_layer(&mut self, digest: &str, summary: LayerSummary) -> Result<()> {
        let path = blob_path(digest)?;
        self.contents.insert_layer(&path, summary);
        Ok(())
    }
}

/// Assemble and analyse; `name` tags the images, `bytes` is what was read.
pub(crate) fn finish(
    mut parts: ImageParts,
    name: Option<String>,
    source: SourceInfo,
    bytes: u64,
) -> Result<Report> {
    store_index(&mut parts.contents, &parts.index, name.as_deref());
    parts.contents.bytes_read = bytes;
    let mut report = crate::analysis::analyze(&parts.contents)?;
    report.input.source = Some(source);
    Ok(report)
}
