//! The JSON documents of image archives: Docker's `manifest.json`, OCI
//! `index.json` / image manifests / manifest lists, and the image config.
//! Every field is optional and unknown fields are ignored: writers differ.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::error::{Error, ErrorCode, Result};

/// Largest JSON document kept in memory.
pub const MAX_JSON_BYTES: usize = 16 << 20;

/// A field that writers spell either as a string or as a list of strings.
///
/// Deserialised by hand rather than with `#[serde(untagged)]`, whose
/// buffering of the value (serde's private `Content`) cost several KiB of
/// wasm. It behaves the same: the whole value is read (and checked as JSON)
/// first, and a value of another shape gets untagged's error message, with
/// the position serde_json gives it (where the value ends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for StringOrList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> core::result::Result<Self, D::Error> {
        // The error is made here, outside the parser's calls, as untagged
        // makes it: serde_json then places it where the value ends.
        match deserializer.deserialize_any(Shape::List)? {
            Shaped::List(Some(v)) => Ok(v),
            _ => Err(de::Error::custom(
                "data did not match any variant of untagged enum StringOrList",
            )),
        }
    }
}

/// What [`Shape`] found: `None` for a value that does not fit.
enum Shaped {
    One(Option<String>),
    List(Option<StringOrList>),
}

/// Reads any JSON value, keeping it when it has the wanted shape: a string
/// (`One`, an element of a list) or a string or a list of strings (`List`).
#[derive(Clone, Copy)]
enum Shape {
    One,
    List,
}

impl Shape {
    fn misfit(self) -> Shaped {
        match self {
            Shape::One => Shaped::One(None),
            Shape::List => Shaped::List(None),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Shape {
    type Value = Shaped;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> core::result::Result<Shaped, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Shape {
    type Value = Shaped;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> core::result::Result<Shaped, E> {
        Ok(self.misfit())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> core::result::Result<Shaped, E> {
        Ok(self.misfit())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> core::result::Result<Shaped, E> {
        Ok(self.misfit())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> core::result::Result<Shaped, E> {
        Ok(self.misfit())
    }

    fn visit_unit<E: de::Error>(self) -> core::result::Result<Shaped, E> {
        Ok(self.misfit())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> core::result::Result<Shaped, E> {
        Ok(match self {
            Shape::One => Shaped::One(Some(String::from(v))),
            Shape::List => Shaped::List(Some(StringOrList::One(String::from(v)))),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<Shaped, A::Error> {
        // Every element is read, even after one that does not fit.
        let mut list = Some(Vec::new());
        while let Some(element) = seq.next_element_seed(Shape::One)? {
            match (element, &mut list) {
                (Shaped::One(Some(s)), Some(list)) => list.push(s),
                _ => list = None,
            }
        }
        Ok(match self {
            Shape::One => Shaped::One(None),
            Shape::List => Shaped::List(list.map(StringOrList::Many)),
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> core::result::Result<Shaped, A::Error> {
        while map.next_entry::<AnyValue, AnyValue>()?.is_some() {}
        Ok(self.misfit())
    }
}

/// Any JSON value, read and checked as `serde_json::Value` would be (nesting
/// depth, numbers, strings) but not kept: for fields where only the keys
/// matter. `Value` itself cost several KiB of wasm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnyValue;

impl<'de> Deserialize<'de> for AnyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> core::result::Result<Self, D::Error> {
        deserializer.deserialize_any(AnyVisitor)
    }
}

struct AnyVisitor;

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = AnyValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> core::result::Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> core::result::Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> core::result::Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> core::result::Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> core::result::Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_unit<E: de::Error>(self) -> core::result::Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<AnyValue, A::Error> {
        while seq.next_element::<AnyValue>()?.is_some() {}
        Ok(AnyValue)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> core::result::Result<AnyValue, A::Error> {
        while map.next_entry::<AnyValue, AnyValue>()?.is_some() {}
        Ok(AnyValue)
    }
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
    pub exposed_ports: Option<BTreeMap<String, AnyValue>>,
    #[serde(rename = "WorkingDir", default)]
    pub working_dir: Option<String>,
    #[serde(rename = "Labels", default)]
    pub labels: Option<BTreeMap<String, AnyValue>>,
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

    /// What `StringOrList` and `AnyValue` replaced: `#[serde(untagged)]` and
    /// `serde_json::Value`. Same results, same errors (message and position).
    mod before {
        use super::*;

        #[derive(Debug, Deserialize)]
        #[serde(untagged)]
        pub enum StringOrList {
            One(String),
            Many(Vec<String>),
        }

        #[derive(Debug, Deserialize)]
        pub struct Run {
            #[serde(rename = "Cmd", default)]
            pub cmd: Option<StringOrList>,
            #[serde(rename = "ExposedPorts", default)]
            pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
            #[serde(rename = "User", default)]
            pub user: Option<String>,
        }
    }

    #[derive(Debug, Deserialize)]
    struct Run {
        #[serde(rename = "Cmd", default)]
        cmd: Option<StringOrList>,
        #[serde(rename = "ExposedPorts", default)]
        exposed_ports: Option<BTreeMap<String, AnyValue>>,
        #[serde(rename = "User", default)]
        user: Option<String>,
    }

    fn outcome_before(json: &str) -> core::result::Result<String, String> {
        serde_json::from_str::<before::Run>(json)
            .map(|r| {
                let cmd = r.cmd.map(|c| match c {
                    before::StringOrList::One(s) => StringOrList::One(s),
                    before::StringOrList::Many(v) => StringOrList::Many(v),
                });
                let ports = r.exposed_ports.map(|p| p.into_keys().collect::<Vec<_>>());
                alloc::format!("{:?} {:?} {:?}", cmd, ports, r.user)
            })
            .map_err(|e| alloc::format!("{}", e))
    }

    fn outcome_now(json: &str) -> core::result::Result<String, String> {
        serde_json::from_str::<Run>(json)
            .map(|r| {
                let ports = r.exposed_ports.map(|p| p.into_keys().collect::<Vec<_>>());
                alloc::format!("{:?} {:?} {:?}", r.cmd, ports, r.user)
            })
            .map_err(|e| alloc::format!("{}", e))
    }

    #[test]
    fn hand_written_deserializers_match_untagged_and_value() {
        let deep = alloc::format!("{}{}", "[".repeat(200), "]".repeat(200));
        let deep_map = alloc::format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200));
        let mut values = alloc::vec![
            "\"a\"",
            "[\"a\",\"b\"]",
            "[]",
            "null",
            "1",
            "-1",
            "1.5",
            "1e400",
            "-1e400",
            "18446744073709551616",
            "true",
            "{}",
            "{\"80/tcp\":{}}",
            "{\"a\":[1,{\"b\":null}]}",
            "[1]",
            "[\"a\",1]",
            "[\"a\",null]",
            "[[\"a\"]]",
            "[\"a\",[1,2,{\"x\":[]}]]",
            "[\"a\", 1e400]",
            "{\"k\": 1e999}",
            "\"\\ud800\"",
            "\"a\\u0000b\"",
            "\"tab\there\"",
            "\"unterminated",
            "[1,]",
            "{\"a\":}",
            "[\"a\" \"b\"]",
            "{\"a\":1,\"a\":2}",
            "{1:2}",
            "[\"\u{e9}\"]",
        ];
        values.push(&deep);
        values.push(&deep_map);
        for v in values {
            for field in ["Cmd", "ExposedPorts"] {
                for json in [
                    alloc::format!("{{\"{}\":{}}}", field, v),
                    alloc::format!("{{\"{}\": {} ,\"User\":\"u\"}}", field, v),
                    alloc::format!("{{\n  \"{}\": {}\n}}\n", field, v),
                    alloc::format!("{{\"User\":\"u\",\n\"{}\":\n {}  ,\n\"x\":1 }}", field, v),
                    alloc::format!("{{\"{}\":{}", field, v),
                ] {
                    assert_eq!(outcome_now(&json), outcome_before(&json), "{}", json);
                }
            }
        }
    }

    #[test]
    fn bad_json_has_a_code() {
        assert_eq!(parse_config(b"{").unwrap_err().code, ErrorCode::BadJson);
    }
}
