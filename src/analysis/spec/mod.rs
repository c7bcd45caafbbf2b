//! How an image will be run: `docker run`/`podman run` options, Compose
//! services and Kubernetes containers, each read into one [`RunSpec`]
//! (the `specs` feature: the YAML parser is not in the page's first-load
//! wasm, only in the one its worker fetches for a spec, `web-specs`).
//! [`crate::analysis::runs`] holds a spec against the image.

use alloc::string::String;
use alloc::vec::Vec;

pub mod compose;
pub mod docker_run;
pub mod k8s;
pub mod yaml;

pub use crate::analysis::runs::{RunSpec, SpecKind};

/// A spec file that could not be read: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

impl core::fmt::Display for SpecError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file)?;
            if let Some(l) = self.line {
                write!(f, ":{}", l)?;
                if let Some(c) = self.column {
                    write!(f, ":{}", c)?;
                }
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl SpecError {
    pub fn at(file: Option<&str>, pos: yaml::Pos, message: String) -> SpecError {
        SpecError {
            file: file.map(String::from),
            line: Some(pos.line),
            column: Some(pos.column),
            message,
        }
    }
}

/// The runs a file or option string describes, and the warnings.
#[derive(Clone, Debug, Default)]
pub struct Specs {
    pub runs: Vec<RunSpec>,
    pub warnings: Vec<String>,
}

/// Capability names as Docker and Kubernetes take them (`cap_net_admin`,
/// `CAP_NET_ADMIN`, `net_admin` are `NET_ADMIN`).
pub fn normalise_cap(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    match upper.strip_prefix("CAP_") {
        Some(rest) => String::from(rest),
        None => upper,
    }
}
