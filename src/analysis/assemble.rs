//! From archive members to images: reads `index.json` (OCI layout, following
//! manifest lists) and `manifest.json` (Docker), matches the two, and says
//! which platforms a manifest list names but the archive does not hold.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::config::{self, Descriptor};
use super::contents::{ArchiveContents, Member};
use super::error::{Error, ErrorCode};

/// One image to analyse.
#[derive(Clone, Debug, Default)]
pub struct ImagePlan {
    pub tags: Vec<String>,
    pub manifest_digest: Option<String>,
    /// Member path of the config blob.
    pub config_path: Option<String>,
    /// Member paths of the layers, bottom first, with the digest the manifest gives.
    pub layers: Vec<(String, Option<String>)>,
    /// Platform from the manifest list, used when the config has none.
    pub platform: Option<String>,
    /// Put together without a manifest (`recover`): the archive was cut
    /// before it; a layer it lost has an empty member path.
    pub recovered: bool,
}

#[derive(Debug, Default)]
pub struct Assembly {
    pub plans: Vec<ImagePlan>,
    pub has_index: bool,
    pub has_docker_manifest: bool,
    pub errors: Vec<Error>,
    pub warnings: Vec<String>,
}

const MAX_INDEX_DEPTH: usize = 4;
const MAX_IMAGES: usize = 4096;

fn is_attestation(d: &Descriptor) -> bool {
    d.annotations
        .as_ref()
        .and_then(|a| a.get("vnd.docker.reference.type"))
        .is_some_and(|t| t == "attestation-manifest")
}

fn tags_from_annotations(a: Option<&BTreeMap<String, String>>) -> Vec<String> {
    let Some(a) = a else { return Vec::new() };
    if let Some(n) = a.get("io.containerd.image.name") {
        return alloc::vec![n.clone()];
    }
    if let Some(n) = a.get("org.opencontainers.image.ref.name") {
        return alloc::vec![n.clone()];
    }
    Vec::new()
}

struct OciWalk<'a> {
    contents: &'a ArchiveContents,
    out: &'a mut Assembly,
    visited: Vec<String>,
}

impl OciWalk<'_> {
    fn descriptor(&mut self, d: &Descriptor, tags: &[String], depth: usize, in_list: bool) {
        if is_attestation(d) {
            return;
        }
        let mut tags = tags.to_vec();
        if tags.is_empty() {
            tags = tags_from_annotations(d.annotations.as_ref());
        }
        let platform = d.platform.as_ref().map(|p| p.display());
        let Some(path) = config::blob_path(&d.digest) else {
            self.out.errors.push(
                Error::new(ErrorCode::BadJson, "a descriptor has a malformed digest")
                    .with_entry(d.digest.clone()),
            );
            return;
        };
        if depth > MAX_INDEX_DEPTH || self.visited.contains(&path) {
            self.out.errors.push(
                Error::new(
                    ErrorCode::LimitExceeded,
                    "image index nesting too deep or cyclic",
                )
                .with_entry(path),
            );
            return;
        }
        let bytes = match self.contents.member(&path) {
            Member::Json(b) => b,
            Member::Missing if in_list => {
                // containerd exports hold only some platforms of a list.
                self.out.warnings.push(alloc::format!(
                    "platform {} ({}) is named by the image index but not present in the archive",
                    platform.as_deref().unwrap_or("unknown"),
                    d.digest
                ));
                return;
            }
            Member::Missing => {
                self.out.errors.push(
                    Error::new(
                        ErrorCode::MissingBlob,
                        "the image index names a manifest that is not in the archive",
                    )
                    .with_entry(path),
                );
                return;
            }
            _ => {
                self.out.errors.push(
                    Error::new(
                        ErrorCode::BadJson,
                        "the image index names a blob that is not a manifest",
                    )
                    .with_entry(path),
                );
                return;
            }
        };
        let doc = match config::parse_manifest_or_index(bytes) {
            Ok(doc) => doc,
            Err(e) => {
                self.out.errors.push(e.with_entry(path));
                return;
            }
        };
        self.visited.push(path.clone());
        if let Some(children) = doc.manifests.as_ref() {
            for child in children {
                self.descriptor(child, &tags, depth + 1, true);
            }
        } else if let Some(cfg) = doc.config.as_ref() {
            if self.out.plans.len() >= MAX_IMAGES {
                self.out.errors.push(Error::new(
                    ErrorCode::LimitExceeded,
                    "too many images in one archive",
                ));
                return;
            }
            let layers = doc
                .layers
                .iter()
                .flatten()
                .map(|l| {
                    (
                        config::blob_path(&l.digest).unwrap_or_default(),
                        Some(l.digest.clone()),
                    )
                })
                .collect();
            self.out.plans.push(ImagePlan {
                tags,
                manifest_digest: Some(d.digest.clone()),
                config_path: config::blob_path(&cfg.digest),
                layers,
                platform,
                recovered: false,
            });
        }
        self.visited.pop();
    }
}

/// Find the images in an archive. No images and no errors means a flattened filesystem.
pub fn assemble(contents: &ArchiveContents) -> Assembly {
    let mut out = Assembly::default();
    if let Some(bytes) = contents.json_member("index.json") {
        out.has_index = true;
        match config::parse_manifest_or_index(bytes) {
            Ok(index) => {
                let mut walk = OciWalk {
                    contents,
                    out: &mut out,
                    visited: Vec::new(),
                };
                for d in index.manifests.iter().flatten() {
                    walk.descriptor(d, &[], 0, false);
                }
            }
            Err(e) => out.errors.push(e.with_entry("index.json")),
        }
    }
    let oci_plans = out.plans.len();
    if let Some(bytes) = contents.json_member("manifest.json") {
        out.has_docker_manifest = true;
        match config::parse_docker_manifest(bytes) {
            Ok(items) => {
                for item in items {
                    let Some(config_path) = item.config.as_deref() else {
                        continue;
                    };
                    let config_path = contents.resolve_path(config_path);
                    let tags: Vec<String> = item.repo_tags.clone().unwrap_or_default();
                    // Docker ≥ 25 writes both files for the same images: prefer
                    // the OCI plan (it has digests) and take Docker's tags.
                    if let Some(plan) = out.plans[..oci_plans]
                        .iter_mut()
                        .find(|p| p.config_path.as_deref() == Some(config_path.as_str()))
                    {
                        if !tags.is_empty() {
                            plan.tags = tags;
                        }
                        continue;
                    }
                    if out.plans.len() >= MAX_IMAGES {
                        out.errors.push(Error::new(
                            ErrorCode::LimitExceeded,
                            "too many images in one archive",
                        ));
                        break;
                    }
                    let layers = item
                        .layers
                        .iter()
                        .flatten()
                        .map(|l| {
                            let real = contents.resolve_path(l);
                            let digest = config::digest_of_blob_path(&real);
                            (real, digest)
                        })
                        .collect();
                    out.plans.push(ImagePlan {
                        tags,
                        manifest_digest: None,
                        config_path: Some(config_path),
                        layers,
                        platform: None,
                        recovered: false,
                    });
                }
            }
            Err(e) => out.errors.push(e.with_entry("manifest.json")),
        }
    }
    if !out.has_index && !out.has_docker_manifest && contents.has_image_structure() {
        out.errors.push(Error::new(
            ErrorCode::UnsupportedFormat,
            "the archive holds image blobs but neither manifest.json nor index.json (a docker save from Docker < 1.10?)",
        ));
    }
    out
}
