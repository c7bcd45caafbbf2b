//! Where an image comes from, beside archive files: the names skopeo and
//! podman users already write (containers-transports). Each source hands
//! the analysis what an archive would: JSON documents under their blob
//! paths and one summary per layer, so the report is the archive's, with
//! `input.source` saying where it came from.
//!
//! | source | meaning |
//! |---|---|
//! | `PATH`, `-` | an archive file, standard input |
//! | `docker-archive:PATH`, `oci-archive:PATH` | an archive, named explicitly |
//! | `oci:DIR[:REF]` | an OCI image layout directory |
//! | `docker://REF` | a registry |
//! | `docker-daemon:REF` | the Docker Engine API on `DOCKER_HOST` (Podman's too) |
//! | `REF` | a registry, when no such file exists and it does not look like a path |

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::analysis::error::{Error, ErrorCode, Result};
use crate::analysis::reference::Reference;
use crate::analysis::report::Report;
use crate::archive::{analyze_path, ReadOptions};

pub mod auth;
pub mod daemon;
mod image_parts;
pub mod layout;
pub mod registry;
mod toc;

pub use crate::archive::parallel;
pub(crate) use image_parts::ImageParts;

/// Bytes of a blob received: `(digest, bytes so far, size when known)`.
pub type Progress = dyn Fn(&str, u64, Option<u64>) + Send + Sync;

/// What a source is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// An archive file, or `-` for standard input.
    Archive(PathBuf),
    /// An OCI image layout directory, and the image's reference name in it.
    OciLayout {
        dir: PathBuf,
        name: Option<String>,
    },
    Registry(Reference),
    /// The name or ID the daemon knows the image by.
    Daemon(String),
}

/// Options of sources named by reference.
#[derive(Clone)]
pub struct SourceOptions {
    pub read: ReadOptions,
    /// `os/arch[/variant]`; the host's when absent.
    pub platform: Option<String>,
    /// Every platform of an index, not one.
    pub all_platforms: bool,
    pub auth: auth::Lookup,
    /// false: plain HTTP, or TLS without verification (skopeo's `--tls-verify=false`).
    pub tls_verify: bool,
    /// Layers downloaded at once (docker pull's default is 3).
    pub concurrency: usize,
    pub progress: Option<Arc<Progress>>,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            read: ReadOptions::default(),
            platform: None,
            all_platforms: false,
            auth: auth::Lookup::default(),
            tls_verify: true,
            concurrency: 3,
            progress: None,
        }
    }
}

/// Endings that make a name a file's, even when no such file exists (so a
/// mistyped file name is not looked up on Docker Hub).
const ARCHIVE_ENDINGS: [&str; 6] = [".tar", ".tar.gz", ".tgz", ".tar.zst", ".gz", ".zst"];

/// Whether a bare name that is not an existing file reads as a reference:
/// not a path (`/`, `./`, `../`, `~`), no archive ending, and a valid
/// reference.
pub fn is_bare_reference(text: &str) -> bool {
    let looks_like_path = ["/", "./", "../", "~"].iter().any(|p| text.starts_with(p))
        || ARCHIVE_ENDINGS.iter().any(|e| text.ends_with(e));
    !looks_like_path && Reference::looks_like_reference(text)
}

fn usage(message: String) -> Error {
    Error::new(ErrorCode::Usage, message)
}

impl Source {
    /// Parse a source as given on the command line. `exists` says whether
    /// a path names a file or directory (a bare name that does is a file).
    pub fn parse(given: &OsStr, exists: &dyn Fn(&Path) -> bool) -> Result<Source> {
        let Some(text) = given.to_str() else {
            // Not UTF-8: only a file can be named so.
            return Ok(Source::Archive(PathBuf::from(given)));
        };
        if text == "-" {
            return Ok(Source::Archive(PathBuf::from("-")));
        }
        let reference = |r: &str, prefix: &str| {
            Reference::parse(r).map_err(|e| usage(format!("{}{}: {}", prefix, r, e)))
        };
        if let Some(rest) = text.strip_prefix("docker://") {
            return Ok(Source::Registry(reference(rest, "docker://")?));
        }
        if let Some(rest) = text.strip_prefix("docker-daemon:") {
            if rest.is_empty() {
                return Err(usage(String::from(
                    "docker-daemon: needs an image name or ID",
                )));
            }
            return Ok(Source::Daemon(rest.to_string()));
        }
        for prefix in ["docker-archive:", "oci-archive:"] {
            if let Some(rest) = text.strip_prefix(prefix) {
                if rest.is_empty() {
                    return Err(usage(format!("{} needs a path", prefix)));
                }
                return Ok(Source::Archive(PathBuf::from(rest)));
            }
        }
        if let Some(rest) = text.strip_prefix("oci:") {
            // containers/image splits at the first ':': a directory whose
            // name holds one cannot be named with a reference.
            let (dir, name) = match rest.split_once(':') {
                Some((d, n)) => (d, Some(n.to_string()).filter(|n| !n.is_empty())),
                None => (rest, None),
            };
            if dir.is_empty() {
                return Err(usage(String::from("oci: needs a directory")));
            }
            return Ok(Source::OciLayout {
                dir: PathBuf::from(dir),
                name,
            });
        }
        if !exists(Path::new(text)) && is_bare_reference(text) {
            return Ok(Source::Registry(reference(text, "")?));
        }
        Ok(Source::Archive(PathBuf::from(text)))
    }
}

/// Analyse a source; `given` is how the user named it (for the report).
pub fn analyze_source(source: &Source, given: &str, options: &SourceOptions) -> Result<Report> {
    match source {
        Source::Archive(path) => analyze_path(path, &options.read),
        Source::OciLayout { dir, name } => layout::analyze(dir, name.as_deref(), given, options),
        Source::Registry(reference) => registry::analyze(reference, given, options),
        Source::Daemon(name) => daemon::analyze(name, given, options),
    }
}

/// Every parser of what a registry, a token service, an auth file or an
/// eStargz blob sends, on the same untrusted bytes: for the fuzzer
/// (fuzz/, target `registry`) and its regression tests. Each must return,
/// never panic, and what it returns must hold together.
#[doc(hidden)]
pub fn parse_untrusted(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for c in auth::parse_challenges(&text) {
        assert!(!c.scheme.is_empty() && c.scheme == c.scheme.to_ascii_lowercase());
    }
    if let Ok(r) = Reference::parse(&text) {
        // A reference prints as one that parses back to itself.
        assert_eq!(
            Reference::parse(&r.to_string()).as_ref(),
            Ok(&r),
            "{}",
            text
        );
    }
    let _ = Source::parse(OsStr::new(text.as_ref()), &|_: &Path| false);
    if let Some(t) = registry::token_of(data) {
        assert!(!t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()));
    }
    let _ = registry::registry_error_code(data);
    let _ = auth::parse_auth_file_for_fuzzing(data);
    toc::parse_untrusted(data);
    if let Ok(doc) = crate::analysis::config::parse_manifest_or_index(data) {
        let _ = registry::index_images(&doc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str, existing: &[&str]) -> Source {
        Source::parse(OsStr::new(s), &|p: &Path| {
            existing.iter().any(|e| Path::new(e) == p)
        })
        .unwrap()
    }

    #[test]
    fn names_and_paths_told_apart() {
        let reg = |s: &str| Source::Registry(Reference::parse(s).unwrap());
        assert_eq!(parse("alpine", &[]), reg("alpine"));
        assert_eq!(parse("ghcr.io/org/app:1", &[]), reg("ghcr.io/org/app:1"));
        assert_eq!(parse("docker://alpine", &["alpine"]), reg("alpine"));
        // An existing file wins over a name; archive endings and paths stay files.
        assert_eq!(
            parse("alpine", &["alpine"]),
            Source::Archive("alpine".into())
        );
        assert_eq!(parse("image.tar", &[]), Source::Archive("image.tar".into()));
        assert_eq!(parse("./alpine", &[]), Source::Archive("./alpine".into()));
        assert_eq!(parse("/tmp/x", &[]), Source::Archive("/tmp/x".into()));
        assert_eq!(parse("Bad_Name!", &[]), Source::Archive("Bad_Name!".into()));
        assert_eq!(parse("-", &[]), Source::Archive("-".into()));
        assert_eq!(
            parse("docker-archive:a.tar", &[]),
            Source::Archive("a.tar".into())
        );
        assert_eq!(
            parse("oci-archive:/x/a.tar", &[]),
            Source::Archive("/x/a.tar".into())
        );
        assert_eq!(
            parse("oci:/x/dir:v1", &[]),
            Source::OciLayout {
                dir: "/x/dir".into(),
                name: Some("v1".into())
            }
        );
        assert_eq!(
            parse("oci:dir", &[]),
            Source::OciLayout {
                dir: "dir".into(),
                name: None
            }
        );
        assert_eq!(
            parse("docker-daemon:alpine:3", &[]),
            Source::Daemon("alpine:3".into())
        );
        let err = |s: &str| Source::parse(OsStr::new(s), &|_: &Path| false).unwrap_err();
        assert_eq!(err("docker://Alpine").code, ErrorCode::Usage);
        assert_eq!(err("oci:").code, ErrorCode::Usage);
        assert_eq!(err("docker-daemon:").code, ErrorCode::Usage);
    }
}
