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
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "config": {"User": "app"},
        "history": [{"created_by": "COPY su /usr/bin/su"}],
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha256_hex(layer))]}
    }))
    .unwrap();
    let layer_path = write_oci_layout(
        &dir,
        &config,
        &gzip(layer),
        "application/vnd.oci.image.layer.v1.tar+gzip",
        Value::Null,
    );
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
    let (layout, _) = write_layout("intact", &setuid_layer());
    let source = format!("oci:{}", layout.display());
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
    let (layout, layer_path) = write_layout("altered", &setuid_layer());
    // Someone swaps the layer for one without the setuid file, keeping its name.
    let innocent = layer(&[dir("usr/"), with_data(file("usr/app", 0o755), b"app")]);
    std::fs::write(&layer_path, gzip(&innocent)).unwrap();
    let source = format!("oci:{}", layout.display());

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
