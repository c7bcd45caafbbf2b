//! The JSON documents of image archives: Docker's `manifest.json`, OCI
//! `index.json` / image manifests / manifest lists, and the image config.
//! Every field is optional and unknown fields are ignored: writers differ.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Deserialize;

use super::error::{Error, ErrorCode, Result};

/// Largest JSON document kept in memory.
pub const MAX_JSON_BYTES: usize = 16 << 20;

/// A field that writers spell either as a string or as a list of strings.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            StringOrList::One(s) => alloc::vec![s.clone()],
            StringOrList::Many(v) => v.clone(),
        }
    }
}

/// One entry of Docker's `manifest.json`.
#[derive(Clone, Debug, Deserialize)]
pub struct DockerManifestItem {
    #[serde(rename = "Config")]
    pub config: Option<String>,
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    pub layers: Option<Vec<String>>,
}

/// An OCI descriptor (also Docker's manifest-list entries).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: Option<String>,
    pub digest: String,
    #[serde(default)]
    pub size: Option<i64>,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    pub fn display(&self) -> String {
        platform_string(
            self.os.as_deref(),
            self.architecture.as_deref(),
            self.variant.as_deref(),
        )
    }
}

pub fn platform_string(os: Option<&str>, arch: Option<&str>, variant: Option<&str>) -> String {
    let mut s = String::from(os.unwrap_or("unknown"));
    s.push('/');
    s.push_str(arch.unwrap_or("unknown"));
    if let Some(v) = variant.filter(|v| !v.is_empty()) {
        s.push('/');
        s.push_str(v);
    }
    s
}

/// An OCI image index or Docker manifest list, or an image manifest: which
/// one it is shows in which fields are present.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestOrIndex {
    #[serde(default)]
    pub media_type: Option<String>,
    /// Index: `null` in Docker ≥ 25 saves of single images.
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
    /// Manifest: the config blob.
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: Option<RunConfig>,
    #[serde(default)]
    pub history: Option<Vec<History>>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct RunConfig {
    #[serde(rename = "User", default)]
    pub user: Option<String>,
    #[serde(rename = "Entrypoint", default)]
    pub entrypoint: Option<StringOrList>,
    #[serde(rename = "Cmd", default)]
    pub cmd: Option<StringOrList>,
    #[serde(rename = "Env", default)]
    pub env: Option<Vec<String>>,
    #[serde(rename = "ExposedPorts", default)]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(rename = "WorkingDir", default)]
    pub working_dir: Option<String>,
    #[serde(rename = "Labels", default)]
    pub labels: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct History {
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub empty_layer: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct RootFs {
    #[serde(default)]
    pub diff_ids: Option<Vec<String>>,
}

fn parse<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::new(
            ErrorCode::BadJson,
            alloc::format!("{} is not valid: {}", what, e),
        )
    })
}

pub fn parse_docker_manifest(bytes: &[u8]) -> Result<Vec<DockerManifestItem>> {
    parse(bytes, "manifest.json")
}

pub fn parse_manifest_or_index(bytes: &[u8]) -> Result<ManifestOrIndex> {
    parse(bytes, "OCI index or manifest")
}

pub fn parse_config(bytes: &[u8]) -> Result<ImageConfig> {
    parse(bytes, "image config")
}

impl ImageConfig {
    /// `created_by` of the history step behind each layer: history entries
    /// marked `empty_layer` made no layer and are skipped.
    pub fn layer_steps(&self) -> Vec<Option<String>> {
        self.history
            .iter()
            .flatten()
            .filter(|h| !h.empty_layer.unwrap_or(false))
            .map(|h| h.created_by.clone().or_else(|| h.comment.clone()))
            .collect()
    }
}

/// `blobs/<alg>/<hex>` for a digest, when the digest is well formed
/// (so a hostile digest cannot name another member).
pub fn blob_path(digest: &str) -> Option<String> {
    // OCI image-spec: algorithm = component (separator component)*, with
    // component [a-z0-9]+ and separator [+._-]; encoded = [a-zA-Z0-9=_-]+.
    // So neither part can be "." or ".." or hold a '/'.
    let (alg, hex) = digest.split_once(':')?;
    let alg_ok = alg.split(['+', '.', '_', '-']).all(|c| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    let hex_ok = !hex.is_empty()
        && hex
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'=' || b == b'_' || b == b'-');
    if !alg_ok || !hex_ok {
        return None;
    }
    Some(alloc::format!("blobs/{}/{}", alg, hex))
}

/// The digest a `blobs/<alg>/<hex>` path stands for.
pub fn digest_of_blob_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    if hex.contains('/') {
        return None;
    }
    Some(alloc::format!("{}:{}", alg, hex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_manifest_with_nulls() {
        let m = parse_docker_manifest(
            br#"[{"Config":"a.json","RepoTags":null,"Layers":["x/layer.tar"]}]"#,
        )
        .unwrap();
        assert_eq!(m[0].repo_tags, None);
        assert_eq!(m[0].layers.as_ref().unwrap()[0], "x/layer.tar");
    }

    #[test]
    fn index_with_null_manifests() {
        let i = parse_manifest_or_index(br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":null}"#).unwrap();
        assert!(i.manifests.is_none());
    }

    #[test]
    fn config_history_skips_empty_layers() {
        let c = parse_config(br#"{"architecture":"amd64","config":{"User":"app","Entrypoint":"/init","Env":["A=1"]},
            "history":[{"created_by":"ADD rootfs"},{"created_by":"ENV A=1","empty_layer":true},{"created_by":"RUN x"}]}"#).unwrap();
        assert_eq!(
            c.layer_steps(),
            [Some("ADD rootfs".into()), Some("RUN x".into())]
        );
        assert_eq!(c.config.unwrap().entrypoint.unwrap().to_vec(), ["/init"]);
    }

    #[test]
    fn blob_paths_are_checked() {
        assert_eq!(blob_path("sha256:abc").as_deref(), Some("blobs/sha256/abc"));
        assert_eq!(blob_path("sha256:../../etc"), None);
        assert_eq!(blob_path("nocolon"), None);
        assert_eq!(blob_path(".:abc"), None);
        assert_eq!(blob_path("..:abc"), None);
        assert_eq!(
            blob_path("sha256+b64u:abc").as_deref(),
            Some("blobs/sha256+b64u/abc")
        );
        assert_eq!(
            digest_of_blob_path("blobs/sha256/abc").as_deref(),
            Some("sha256:abc")
        );
    }

    #[test]
    fn bad_json_has_a_code() {
        assert_eq!(parse_config(b"{").unwrap_err().code, ErrorCode::BadJson);
    }
}
