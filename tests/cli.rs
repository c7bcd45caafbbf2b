//! The native CLI as a user runs it: output formats, stdin, exit statuses and
//! one-line errors with stable codes.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn cli(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rootless-check"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(data) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The CLI may stop reading early on bad input: ignore a broken pipe.
        let _ = pipe.write_all(data);
    }
    child.wait_with_output().unwrap()
}

fn fixture(name: &str) -> String {
    common::fixtures_dir()
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn json_report_has_the_documented_fields() {
    let out = cli(
        &[
            "--format",
            "json",
            &fixture("built/bb-filecap.docker26-save.tar"),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["schemaVersion"], 1);
    assert_eq!(r["input"]["format"], "docker-archive");
    assert_eq!(r["input"]["compression"], "none");
    assert_eq!(r["errors"], serde_json::json!([]));
    let image = &r["images"][0];
    assert_eq!(image["tags"], serde_json::json!(["fixture/bb-filecap:1"]));
    assert_eq!(image["platform"], "linux/amd64");
    let user = &image["user"];
    assert_eq!(
        (
            user["configured"].as_str(),
            user["uid"].as_u64(),
            user["gid"].as_u64()
        ),
        (Some("65534:65534"), Some(65534), Some(65534))
    );
    assert_eq!(user["numeric"], true);
    assert!(user.get("name").is_some());
    let suid = &image["setuidFiles"][0];
    assert_eq!(suid["path"], "/bin/bbsuid");
    assert_eq!(suid["mode"], "4111");
    assert_eq!(
        (suid["uid"].as_u64(), suid["gid"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        (suid["setuid"].as_bool(), suid["setgid"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(suid["layer"], 0);
    assert!(suid["createdBy"].is_string());
    let cap = &image["capabilities"][0];
    assert_eq!(cap["path"], "/usr/sbin/httpd-cap");
    assert_eq!(
        cap["capabilities"],
        serde_json::json!(["cap_net_bind_service"])
    );
    assert_eq!(cap["effective"], true);
    assert_eq!(cap["layer"], 1);
    assert_eq!(image["layers"].as_array().unwrap().len(), 2);
    assert!(image["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
}

#[test]
fn no_config_means_configured_null() {
    let out = cli(
        &[
            "--format=json",
            &fixture("public/aquasecurity+trivy__test.tar"),
        ],
        None,
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["input"]["format"], "filesystem");
    assert_eq!(r["images"][0]["user"]["configured"], Value::Null);
}

#[test]
fn reads_standard_input() {
    let data = std::fs::read(fixture("built/bb-alpinelike.docker-archive.tar.gz")).unwrap();
    let out = cli(&["--format", "json", "-"], Some(&data));
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["input"]["compression"], "gzip");
    assert_eq!(r["images"][0]["setuidFiles"][0]["path"], "/bin/bbsuid");
}

#[test]
fn text_report_is_the_default() {
    let out = cli(
        &[&fixture("built/deb12-minbase.docker20-save.tar.gz")],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Image fixture/deb12-minbase:1 (linux/amd64)"),
        "{}",
        text
    );
    assert!(text.contains("setuid/setgid files: 11"));
    assert!(text.contains("/usr/bin/passwd"));
}

fn assert_one_line_error(out: &Output, code: &str) {
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let first = err.lines().next().unwrap_or("");
    assert!(
        first.starts_with(&format!("rootless-check: {}: ", code)),
        "stderr: {}",
        err
    );
}

#[test]
fn unreadable_input_exits_2_with_a_stable_code() {
    assert_one_line_error(&cli(&["/nonexistent/image.tar"], None), "E_IO");
    assert_one_line_error(
        &cli(&["-"], Some(b"PK\x03\x04not an image")),
        "E_NOT_ARCHIVE",
    );
    assert_one_line_error(&cli(&["-"], Some(b"")), "E_NOT_ARCHIVE");
    let data = std::fs::read(fixture("built/bb.docker20-save.tar")).unwrap();
    assert_one_line_error(&cli(&["-"], Some(&data[..data.len() / 2])), "E_TRUNCATED");
}

#[test]
fn partial_report_is_printed_and_exits_2() {
    // An OCI archive with index.json first (as buildx writes it), cut inside its last layer.
    let layers = [
        common::layer(&[common::file("bin/su", 0o4755)]),
        common::layer(&[common::with_data(common::file("big", 0o644), &[7u8; 20000])]),
    ];
    let data = common::oci_archive(Some("app"), &layers, "x:1");
    let out = cli(&["--format", "json", "-"], Some(&data[..data.len() - 8192]));
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["partial"], true);
    assert!(!r["errors"].as_array().unwrap().is_empty());
}

#[test]
fn usage() {
    let out = cli(&["--help"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: rootless-check"));
    assert_eq!(cli(&["--version"], None).status.code(), Some(0));
    assert_one_line_error(&cli(&["--format", "xml", "x.tar"], None), "E_USAGE");
    assert_one_line_error(&cli(&[], None), "E_USAGE");
    assert_one_line_error(&cli(&["--bogus"], None), "E_USAGE");
}
