//! An image gathered from a registry or a layout, laid out as an OCI
//! archive would hold it (`index.json`, `blobs/<alg>/<hex>`), so that the
//! analysis assembles it exactly as it assembles archives.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use crate::analysis::config::{self, Descriptor};
use crate::analysis::contents::{ArchiveContents, Stored};
use crate::analysis::error::{Error, ErrorCode, Result};
use crate::analysis::layer::LayerSummary;
use crate::analysis::report::{Report, SourceInfo};
use crate::render::json_writer::{JsonWriter, WriteJson};

#[derive(Default)]
pub(crate) struct ImageParts {
    pub contents: ArchiveContents,
    /// The manifests to analyse, as an index would name them.
    pub index: Vec<Descriptor>,
}

fn blob_path(digest: &str) -> Result<String> {
    config::blob_path(digest).ok_or_else(|| {
        Error::new(ErrorCode::BadJson, "a descriptor has a malformed digest")
            .with_entry(digest.to_string())
    })
}

impl ImageParts {
    pub fn add_json(&mut self, digest: &str, bytes: Vec<u8>) -> Result<()> {
        let path = blob_path(digest)?;
        self.contents.store(&path, Stored::Json(bytes));
        Ok(())
    }

    pub fn add_layer(&mut self, digest: &str, summary: LayerSummary) -> Result<()> {
        let path = blob_path(digest)?;
        self.contents.insert_layer(&path, summary);
        Ok(())
    }
}

/// `index.json` naming the manifests, each with its platform and its
/// annotations, or, when there is one, the image's name (as containerd's
/// exports carry it).
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

/// Assemble and analyse; `name` tags the images, `bytes` is what was read.
pub(crate) fn finish(
    mut parts: ImageParts,
    name: Option<String>,
    source: SourceInfo,
    bytes: u64,
) -> Result<Report> {
    let index = Index {
        manifests: &parts.index,
        name: name.as_deref(),
    };
    let text = crate::render::json_writer::to_string(&index);
    parts
        .contents
        .store("index.json", Stored::Json(text.into_bytes()));
    parts.contents.bytes_read = bytes;
    let mut report = crate::analysis::analyze(&parts.contents)?;
    report.input.source = Some(source);
    Ok(report)
}
