//! `--verify`: the digests that manifests and configs give, checked against
//! what the archive holds. A mismatch means the archive was altered after it
//! was written (or damaged): its findings cannot be trusted.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::assemble::ImagePlan;
use super::config::{self, ImageConfig};
use super::contents::ArchiveContents;
pub use super::report::{DigestMismatch, Verification};

/// The digest a config's member name stands for: `blobs/sha256/<hex>`,
/// Docker's legacy `<hex>.json`, or kaniko's `sha256:<hex>`.
fn config_digest_from_name(path: &str) -> Option<String> {
    if let Some(d) = config::digest_of_blob_path(path) {
        return Some(d);
    }
    let hex = path
        .strip_suffix(".json")
        .or_else(|| path.strip_prefix("sha256:"))?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex))
}

impl Verification {
    fn check(
        &mut self,
        what: String,
        member: &str,
        expected: Option<&str>,
        actual: Option<&String>,
    ) {
        match (expected, actual) {
            (Some(e), Some(a)) if e.eq_ignore_ascii_case(a) => self.verified += 1,
            (Some(e), Some(a)) => self.mismatches.push(DigestMismatch {
                what,
                member: String::from(member),
                expected: String::from(e),
                actual: a.clone(),
            }),
            // Only sha256 is computed; other algorithms cannot be checked here.
            _ => self.unverifiable.push(format!("{} ({})", what, member)),
        }
    }
}

/// Check one image. `None` when the archive was read without `--verify`.
pub fn verify_image(
    contents: &ArchiveContents,
    plan: &ImagePlan,
    config: Option<&ImageConfig>,
) -> Option<Verification> {
    if contents.blob_digests.is_empty() {
        return None;
    }
    let mut v = Verification::default();
    let actual = |p: &str| contents.blob_digests.get(&contents.resolve_path(p));
    if let Some(d) = &plan.manifest_digest {
        if let Some(p) = config::blob_path(d) {
            v.check(String::from("manifest"), &p, Some(d), actual(&p));
        }
    }
    if let Some(p) = &plan.config_path {
        v.check(
            String::from("config"),
            p,
            config_digest_from_name(p).as_deref(),
            actual(p),
        );
    }
    let diff_ids: Vec<String> = config
        .and_then(|c| c.rootfs.as_ref())
        .and_then(|r| r.diff_ids.clone())
        .unwrap_or_default();
    for (i, (path, digest)) in plan.layers.iter().enumerate() {
        let real = contents.resolve_path(path);
        let blob = contents.blob_digests.get(&real);
        if let Some(d) = digest {
            v.check(format!("layer {}", i), path, Some(d), blob);
        }
        if let Some(diff_id) = diff_ids.get(i) {
            // An uncompressed layer's diff_id is its blob digest.
            let uncompressed = contents.diff_digests.get(&real).or(blob);
            v.check(
                format!("layer {} (uncompressed)", i),
                path,
                Some(diff_id),
                uncompressed,
            );
        } else if digest.is_none() {
            v.unverifiable.push(format!("layer {} ({})", i, path));
        }
    }
    Some(v)
}
