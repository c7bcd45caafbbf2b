//! The JSON documents of image archives: Docker's `manifest.json`, OCI
//! `index.json` / image manifests / manifest lists, and the image config.
//! Every field is optional and unknown fields are ignored: writers differ.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::error::{Error, ErrorCode, Result};
use super::json::{key_is, Kind, Reader};

/// Largest JSON document kept in memory.
pub const MAX_JSON_BYTES: usize = 16 << 20;

// How fields are decoded follows Go's `encoding/json`, which Docker and
// containerd use, so that the image we analyse is the one they run:
// - a key names a field case-insensitively (`key_is`), and when a field
//   comes twice the last one wins (objects merge, as Go decodes into the
//   same struct), so `{"User":"app","user":"root"}` runs as root;
// - `null` leaves a string or bool as it was and clears a list, an object
//   or a map;
// - unknown fields are ignored; a value of the wrong type is an error.

/// A field that writers spell either as a string or as a list of strings.
#[derive(Clone, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, Default)]
pub struct DockerManifestItem {
    pub config: Option<String>,
    pub repo_tags: Option<Vec<String>>,
    pub layers: Option<Vec<String>>,
}

/// An OCI descriptor (also Docker's manifest-list entries).
#[derive(Clone, Debug, Default)]
pub struct Descriptor {
    /// Empty when the document has none (then no blob matches it).
    pub digest: String,
    pub media_type: Option<String>,
    /// The blob's size in bytes, as the descriptor claims it.
    pub size: Option<u64>,
    pub platform: Option<Platform>,
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Default)]
pub struct Platform {
    pub architecture: Option<String>,
    pub os: Option<String>,
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
#[derive(Clone, Debug, Default)]
pub struct ManifestOrIndex {
    /// 2 for OCI and Docker schema 2; 1 for Docker's old schema 1.
    pub schema_version: Option<u64>,
    pub media_type: Option<String>,
    /// Index: `null` in Docker ≥ 25 saves of single images.
    pub manifests: Option<Vec<Descriptor>>,
    /// Manifest: the config blob.
    pub config: Option<Descriptor>,
    pub layers: Option<Vec<Descriptor>>,
}

#[derive(Clone, Debug, Default)]
pub struct ImageConfig {
    pub architecture: Option<String>,
    pub os: Option<String>,
    pub variant: Option<String>,
    pub config: Option<RunConfig>,
    pub history: Option<Vec<History>>,
    pub rootfs: Option<RootFs>,
}

#[derive(Clone, Debug, Default)]
pub struct RunConfig {
    pub user: Option<String>,
    pub entrypoint: Option<StringOrList>,
    pub cmd: Option<StringOrList>,
    pub env: Option<Vec<String>>,
    /// The keys of `ExposedPorts` (`"80/tcp"`), sorted, each once.
    pub exposed_ports: Option<Vec<String>>,
    pub working_dir: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct History {
    pub created_by: Option<String>,
    pub comment: Option<String>,
    pub empty_layer: Option<bool>,
}

#[derive(Clone, Debug, Default)]
pub struct RootFs {
    pub diff_ids: Option<Vec<String>>,
}

type Read<T> = super::json::Result<T>;

fn string_into(r: &mut Reader, slot: &mut Option<String>) -> Read<()> {
    if !r.null()? {
        *slot = Some(r.string()?);
    }
    Ok(())
}

/// A non-negative integer (a size, a version).
fn number_into(r: &mut Reader, slot: &mut Option<u64>) -> Read<()> {
    if !r.null()? {
        match r.number()?.parse() {
            Ok(n) => *slot = Some(n),
            Err(_) => return r.fail("a non-negative integer"),
        }
    }
    Ok(())
}

fn bool_into(r: &mut Reader, slot: &mut Option<bool>) -> Read<()> {
    if !r.null()? {
        *slot = Some(r.boolean()?);
    }
    Ok(())
}

/// For a list, an object or a map, `null` sets the field to nothing, as in
/// Go: true when the value was `null` (and `slot` is cleared).
fn null_clears<T>(r: &mut Reader, slot: &mut Option<T>) -> Read<bool> {
    let null = r.null()?;
    if null {
        *slot = None;
    }
    Ok(null)
}

/// A list, each element read by `item`; `null` clears it.
fn list_into<T>(
    r: &mut Reader,
    slot: &mut Option<Vec<T>>,
    item: fn(&mut Reader) -> Read<T>,
) -> Read<()> {
    if null_clears(r, slot)? {
        return Ok(());
    }
    let mut list = Vec::new();
    r.array(&mut |r| {
        list.push(item(r)?);
        Ok(())
    })?;
    *slot = Some(list);
    Ok(())
}

/// An element of a list of strings: `null` is the empty string, as in Go.
fn list_string(r: &mut Reader) -> Read<String> {
    if r.null()? {
        return Ok(String::new());
    }
    r.string()
}

/// An object decoded into the struct already there (Go merges repeated
/// fields); `null` clears it.
fn struct_into<T: Default>(
    r: &mut Reader,
    slot: &mut Option<T>,
    field: fn(&mut Reader, &str, &mut T) -> Read<()>,
) -> Read<()> {
    if null_clears(r, slot)? {
        return Ok(());
    }
    let target = slot.get_or_insert_with(T::default);
    r.object(&mut |r, key| field(r, key, target))
}

fn new_struct<T: Default>(
    r: &mut Reader,
    field: fn(&mut Reader, &str, &mut T) -> Read<()>,
) -> Read<T> {
    let mut slot = None;
    struct_into(r, &mut slot, field)?;
    Ok(slot.unwrap_or_default())
}

fn string_or_list_into(r: &mut Reader, slot: &mut Option<StringOrList>) -> Read<()> {
    if null_clears(r, slot)? {
        return Ok(());
    }
    *slot = match r.peek()? {
        Kind::String => Some(StringOrList::One(r.string()?)),
        Kind::Array => {
            let mut list = None;
            list_into(r, &mut list, list_string)?;
            list.map(StringOrList::Many)
        }
        _ => return r.fail("a string or a list of strings"),
    };
    Ok(())
}

/// A map of strings; a repeated key keeps its last value. Go decodes into
/// the map already there, so a repeated field adds to it.
fn string_map_into(r: &mut Reader, slot: &mut Option<BTreeMap<String, String>>) -> Read<()> {
    if null_clears(r, slot)? {
        return Ok(());
    }
    let map = slot.get_or_insert_with(BTreeMap::new);
    r.object(&mut |r, key| {
        map.insert(String::from(key), list_string(r)?);
        Ok(())
    })
}

/// The keys of an object whose values do not matter (`ExposedPorts`).
fn keys_into(r: &mut Reader, slot: &mut Option<Vec<String>>) -> Read<()> {
    if null_clears(r, slot)? {
        return Ok(());
    }
    let keys = slot.get_or_insert_with(Vec::new);
    r.object(&mut |r, key| {
        // Kept sorted as they come (a handful): no sort to link.
        if let Err(at) = keys.binary_search_by(|k| k.as_str().cmp(key)) {
            keys.insert(at, String::from(key));
        }
        r.skip()
    })
}

fn docker_manifest_item(r: &mut Reader, key: &str, item: &mut DockerManifestItem) -> Read<()> {
    match key {
        _ if key_is(key, "Config") => string_into(r, &mut item.config),
        _ if key_is(key, "RepoTags") => list_into(r, &mut item.repo_tags, list_string),
        _ if key_is(key, "Layers") => list_into(r, &mut item.layers, list_string),
        _ => r.skip(),
    }
}

fn descriptor(r: &mut Reader) -> Read<Descriptor> {
    new_struct(r, descriptor_field)
}

fn descriptor_field(r: &mut Reader, key: &str, d: &mut Descriptor) -> Read<()> {
    match key {
        // Not an Option: null leaves it as it was, like any string.
        _ if key_is(key, "digest") => {
            if !r.null()? {
                d.digest = r.string()?;
            }
            Ok(())
        }
        _ if key_is(key, "mediaType") => string_into(r, &mut d.media_type),
        _ if key_is(key, "size") => number_into(r, &mut d.size),
        _ if key_is(key, "platform") => struct_into(r, &mut d.platform, platform_field),
        _ if key_is(key, "annotations") => string_map_into(r, &mut d.annotations),
        _ => r.skip(),
    }
}

fn platform_field(r: &mut Reader, key: &str, p: &mut Platform) -> Read<()> {
    match key {
        _ if key_is(key, "architecture") => string_into(r, &mut p.architecture),
        _ if key_is(key, "os") => string_into(r, &mut p.os),
        _ if key_is(key, "variant") => string_into(r, &mut p.variant),
        _ => r.skip(),
    }
}

fn manifest_or_index_field(r: &mut Reader, key: &str, m: &mut ManifestOrIndex) -> Read<()> {
    match key {
        _ if key_is(key, "schemaVersion") => number_into(r, &mut m.schema_version),
        _ if key_is(key, "mediaType") => string_into(r, &mut m.media_type),
        _ if key_is(key, "manifests") => list_into(r, &mut m.manifests, descriptor),
        _ if key_is(key, "config") => struct_into(r, &mut m.config, descriptor_field),
        _ if key_is(key, "layers") => list_into(r, &mut m.layers, descriptor),
        _ => r.skip(),
    }
}

fn image_config_field(r: &mut Reader, key: &str, c: &mut ImageConfig) -> Read<()> {
    match key {
        _ if key_is(key, "architecture") => string_into(r, &mut c.architecture),
        _ if key_is(key, "os") => string_into(r, &mut c.os),
        _ if key_is(key, "variant") => string_into(r, &mut c.variant),
        _ if key_is(key, "config") => struct_into(r, &mut c.config, run_config_field),
        _ if key_is(key, "history") => {
            list_into(r, &mut c.history, |r| new_struct(r, history_field))
        }
        _ if key_is(key, "rootfs") => struct_into(r, &mut c.rootfs, |r, key, f: &mut RootFs| {
            if key_is(key, "diff_ids") {
                list_into(r, &mut f.diff_ids, list_string)
            } else {
                r.skip()
            }
        }),
        _ => r.skip(),
    }
}

fn run_config_field(r: &mut Reader, key: &str, c: &mut RunConfig) -> Read<()> {
    match key {
        _ if key_is(key, "User") => string_into(r, &mut c.user),
        _ if key_is(key, "Entrypoint") => string_or_list_into(r, &mut c.entrypoint),
        _ if key_is(key, "Cmd") => string_or_list_into(r, &mut c.cmd),
        _ if key_is(key, "Env") => list_into(r, &mut c.env, list_string),
        _ if key_is(key, "ExposedPorts") => keys_into(r, &mut c.exposed_ports),
        _ if key_is(key, "WorkingDir") => string_into(r, &mut c.working_dir),
        _ => r.skip(),
    }
}

fn history_field(r: &mut Reader, key: &str, h: &mut History) -> Read<()> {
    match key {
        _ if key_is(key, "created_by") => string_into(r, &mut h.created_by),
        _ if key_is(key, "comment") => string_into(r, &mut h.comment),
        _ if key_is(key, "empty_layer") => bool_into(r, &mut h.empty_layer),
        _ => r.skip(),
    }
}

/// Reads a whole document with `read`; `what` names it in the error.
fn parse<T>(bytes: &[u8], what: &str, read: fn(&mut Reader) -> Read<T>) -> Result<T> {
    let mut r = Reader::new(bytes);
    read(&mut r)
        .and_then(|value| r.finish().map(|_| value))
        .map_err(|fail| {
            Error::new(
                ErrorCode::BadJson,
                alloc::format!("{} is not valid: {}", what, fail.message(bytes)),
            )
        })
}

pub fn parse_docker_manifest(bytes: &[u8]) -> Result<Vec<DockerManifestItem>> {
    parse(bytes, "manifest.json", |r| {
        let mut items = None;
        list_into(r, &mut items, |r| new_struct(r, docker_manifest_item))?;
        Ok(items.unwrap_or_default())
    })
}

pub fn parse_manifest_or_index(bytes: &[u8]) -> Result<ManifestOrIndex> {
    parse(bytes, "OCI index or manifest", |r| {
        new_struct(r, manifest_or_index_field)
    })
}

pub fn parse_config(bytes: &[u8]) -> Result<ImageConfig> {
    parse(bytes, "image config", |r| new_struct(r, image_config_field))
}

/// What Docker's legacy `<id>/json` (one per layer of a `docker save`)
/// says of its layer's place: the layer below, and whether it is an image's
/// top layer (the only one that carries the image's `config`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct V1Layer {
    pub parent: Option<String>,
    pub is_top: bool,
}

pub fn parse_v1_layer(bytes: &[u8]) -> Result<V1Layer> {
    parse(bytes, "layer json", |r| {
        new_struct(r, |r, key, l: &mut V1Layer| match key {
            _ if key_is(key, "parent") => string_into(r, &mut l.parent),
            _ if key_is(key, "config") => {
                l.is_top = !r.null()?;
                if l.is_top {
                    r.skip()?;
                }
                Ok(())
            }
            _ => r.skip(),
        })
    })
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

    fn run(json: &str) -> RunConfig {
        parse_config(json.as_bytes()).unwrap().config.unwrap()
    }

    #[test]
    fn fields_are_decoded_as_docker_decodes_them() {
        // Case-insensitive keys, the last one winning: Docker runs as root.
        assert_eq!(
            run(r#"{"config":{"User":"app","user":"root"}}"#)
                .user
                .as_deref(),
            Some("root")
        );
        assert_eq!(
            run(r#"{"config":{"USER":"root"}}"#).user.as_deref(),
            Some("root")
        );
        assert_eq!(
            run(r#"{"config":{"uſer":"root"}}"#).user.as_deref(),
            Some("root")
        );
        assert_eq!(
            run(r#"{"config":{"\u0055ser":"root"}}"#).user.as_deref(),
            Some("root")
        );
        // A repeated object is decoded into the same struct.
        let merged = run(r#"{"config":{"User":"app"},"config":{"Cmd":["sh"]}}"#);
        assert_eq!(merged.user.as_deref(), Some("app"));
        assert_eq!(
            merged.cmd,
            Some(StringOrList::Many(alloc::vec!["sh".into()]))
        );
        // null leaves a string as it was, clears a list or an object.
        assert_eq!(
            run(r#"{"config":{"User":"root","User":null}}"#)
                .user
                .as_deref(),
            Some("root")
        );
        assert_eq!(run(r#"{"config":{"Env":["A=1"],"Env":null}}"#).env, None);
        assert!(parse_config(br#"{"config":{"User":"app"},"config":null}"#)
            .unwrap()
            .config
            .is_none());
        // Unknown fields are skipped, whatever they hold.
        assert_eq!(
            run(r#"{"config":{"X":[{"y":[1.5e3,null]}],"User":"u"}}"#)
                .user
                .as_deref(),
            Some("u")
        );
        // Maps keep each key once; repeated maps merge.
        assert_eq!(
            run(r#"{"config":{"ExposedPorts":{"80/tcp":{},"22/tcp":{}},"exposedports":{"80/tcp":{},"443/tcp":null}}}"#)
                .exposed_ports
                .unwrap(),
            ["22/tcp", "443/tcp", "80/tcp"]
        );
    }

    #[test]
    fn entrypoint_and_cmd_are_a_string_or_a_list() {
        assert_eq!(
            run(r#"{"config":{"Entrypoint":"/init"}}"#)
                .entrypoint
                .unwrap()
                .to_vec(),
            ["/init"]
        );
        assert_eq!(
            run(r#"{"config":{"Cmd":["a",null,"b"]}}"#)
                .cmd
                .unwrap()
                .to_vec(),
            ["a", "", "b"]
        );
        assert_eq!(run(r#"{"config":{"Cmd":null}}"#).cmd, None);
        for bad in [
            r#"{"config":{"Cmd":1}}"#,
            r#"{"config":{"Cmd":[1]}}"#,
            r#"{"config":{"Cmd":{}}}"#,
        ] {
            let e = parse_config(bad.as_bytes()).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadJson, "{}", bad);
        }
    }

    #[test]
    fn wrong_types_and_bad_syntax_say_where() {
        let e = parse_config(br#"{"config":{"User":5}}"#).unwrap_err();
        assert_eq!(
            e.message,
            "image config is not valid: expected a string at line 1 column 19"
        );
        let e = parse_docker_manifest(b"[{\"Config\":\"a.json\",\n \"Layers\": [\"x\",]}]")
            .unwrap_err();
        assert_eq!(
            e.message,
            "manifest.json is not valid: expected a value at line 2 column 17"
        );
        let e = parse_manifest_or_index(b"{} {}").unwrap_err();
        assert_eq!(e.message, "OCI index or manifest is not valid: expected the end of the document at line 1 column 4");
        assert_eq!(
            parse_manifest_or_index(b"[]").unwrap_err().code,
            ErrorCode::BadJson
        );
        assert_eq!(
            parse_docker_manifest(b"{}").unwrap_err().code,
            ErrorCode::BadJson
        );
        let e = parse_config(br#"{"history":[{"empty_layer":"yes"}]}"#).unwrap_err();
        assert_eq!(
            e.message,
            "image config is not valid: expected true or false at line 1 column 28"
        );
    }

    #[test]
    fn descriptors_read_digest_platform_and_annotations() {
        let i = parse_manifest_or_index(
            br#"{"manifests":[{"digest":"sha256:ab","platform":{"os":"linux","architecture":"arm64","variant":"v8"},
                "annotations":{"a":"1","a":"2"}},{"mediaType":"x","size":12}]}"#,
        )
        .unwrap();
        let m = i.manifests.unwrap();
        assert_eq!(m[0].digest, "sha256:ab");
        assert_eq!(m[0].platform.as_ref().unwrap().display(), "linux/arm64/v8");
        assert_eq!(m[0].annotations.as_ref().unwrap()["a"], "2");
        // No digest: empty, which names no blob.
        assert_eq!(m[1].digest, "");
        assert_eq!(blob_path(&m[1].digest), None);
    }

    #[test]
    fn bad_json_has_a_code() {
        assert_eq!(parse_config(b"{").unwrap_err().code, ErrorCode::BadJson);
    }
}
