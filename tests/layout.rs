//! OCI layout directories (`oci:DIR`) with `--verify`: the layer files are
//! hashed as they are read and held against the manifest's digests and the
//! config's diff_ids, as an archive's members are; without `--verify` they
//! are read by seeking, and an altered layer file goes unnoticed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use serde_json::{json, Value};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootless-check"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn setuid_layer() -> Vec<u8> {
    layer(&[
        dir("usr/"),
        dir("usr/bin/"),
        with_data(file("usr/bin/su", 0o4755), b"\x7fELF su"),
    ])
}

/// A layout of one image (USER app) whose one layer is `layer` gzipped;
/// returns the directory and the layer file's path.
fn write_layout(name: &str, layer: &[u8]) -> (PathBuf, PathBuf) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("layout-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    let put = |bytes: &[u8]| {
        let hex = sha256_hex(bytes);
        let path = dir.join("blobs/sha256").join(&hex);
        std::fs::write(&path, bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len(), path)
    };
    let blob = gzip(layer);
    let (layer_digest, layer_size, layer_path) = put(&blob);
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "config": {"User": "app"},
        "history": [{"created_by": "COPY su /usr/bin/su"}],
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha256_hex(layer))]}
    }))
    .unwrap();
    let (config_digest, config_size, _) = put(&config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer_size}]
    }))
    .unwrap();
    let (manifest_digest, manifest_size, _) = put(&manifest);
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
        "size": manifest_size, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    (dir, layer_path)
}

fn setuid_paths(report: &Value) -> Vec<String> {
    report["images"][0]["setuidFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn verify_checks_a_layouts_layer_files_against_the_manifest_and_the_diff_ids() {
    let (dir, _) = write_layout("intact", &setuid_layer());
    let source = format!("oci:{}", dir.display());
    let out = cli(&["--verify", "--format", "json", &source]);
    let report = json_of(&out);
    let v = &report["images"][0]["verification"];
    assert_eq!(v["mismatches"], json!([]), "{v}");
    assert_eq!(v["unverifiable"], json!([]), "{v}");
    // The config, the layer file and its uncompressed stream (the diff_id).
    assert!(v["verified"].as_u64().unwrap() >= 3, "{v}");
    assert_eq!(setuid_paths(&report), ["/usr/bin/su"]);
    // The same report but for the verification, which only --verify adds.
    let plain = json_of(&cli(&["--format", "json", &source]));
    assert_eq!(setuid_paths(&plain), ["/usr/bin/su"]);
    assert!(plain["images"][0]["verification"].is_null());
}

#[test]
fn verify_finds_a_layer_file_replaced_in_a_layout() {
    let (dir, layer_path) = write_layout("altered", &setuid_layer());
    // Someone swaps the layer for one without the setuid file, keeping its name.
    let innocent = layer(&[dir_entry("usr/"), with_data(file("usr/app", 0o755), b"app")]);
    std::fs::write(&layer_path, gzip(&innocent)).unwrap();
    let source = format!("oci:{}", dir.display());

    // Read by seeking, the swap goes unnoticed: the report is of the new file.
    let plain = cli(&["--fail-on", "none", "--format", "json", &source]);
    assert_eq!(
        plain.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    assert!(setuid_paths(&json_of(&plain)).is_empty());

    let verified = cli(&["--verify", "--format", "json", &source]);
    let report = json_of(&verified);
    let mismatches = report["images"][0]["verification"]["mismatches"]
        .as_array()
        .unwrap()
        .clone();
    let what: Vec<&str> = mismatches
        .iter()
        .map(|m| m["what"].as_str().unwrap())
        .collect();
    assert!(
        what.iter().any(|w| w.starts_with("layer")),
        "no layer mismatch: {mismatches:?}"
    );
    assert_eq!(verified.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&verified.stderr).contains("E_DIGEST_MISMATCH"),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
}

fn dir_entry(p: &str) -> E {
    dir(p)
}
