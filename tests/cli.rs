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
    // setuid-root is a high finding: the default --fail-on high exits 1.
    assert_eq!(
        out.status.code(),
        Some(1),
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
    assert_eq!(image["verdict"], "pseudo-rootless");
    let f = image["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "setuid-root")
        .unwrap();
    for key in [
        "rule",
        "severity",
        "title",
        "path",
        "layer",
        "createdBy",
        "remediation",
    ] {
        assert!(f.get(key).is_some(), "finding field {}", key);
    }
    assert_eq!(f["severity"], "high");
    assert_eq!(f["path"], "/bin/bbsuid");
    assert_eq!(image["s6"]["detected"], false);
    assert_eq!(image["noNewPrivileges"]["compatible"], true);
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
    let out = cli(&["--format", "json", "--fail-on", "none", "-"], Some(&data));
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
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    // Verdict first, then reasons, findings, fixes and facts; no colour off a terminal.
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[2].starts_with("== fixture/deb12-minbase:1 (linux/amd64)"),
        "{}",
        text
    );
    assert_eq!(lines[3], "VERDICT: ROOT");
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{} in {}", needle, text))
    };
    assert!(
        at("VERDICT") < at("\nFindings")
            && at("\nFindings") < at("\nFix")
            && at("\nFix") < at("\nFacts")
    );
    assert!(text.contains("RUN chmod u-s /usr/bin/passwd"));
    assert!(text.contains("setuid/setgid      11"));
    assert!(!text.contains('\x1b'));
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

#[test]
fn exit_status_follows_fail_on_and_ignores() {
    let sample = "samples/pseudo-rootless.tar.gz";
    let code = |args: &[&str]| cli(args, None).status.code();
    assert_eq!(code(&[sample]), Some(1), "setuid-root is high");
    assert_eq!(code(&["--fail-on", "critical", sample]), Some(0));
    assert_eq!(code(&["--fail-on", "none", sample]), Some(0));
    assert_eq!(
        code(&["--ignore", "setuid-root:/usr/bin/su", sample]),
        Some(0)
    );
    assert_eq!(
        code(&["--ignore", "setuid-root:/usr/bin/passwd", sample]),
        Some(1)
    );
    assert_eq!(
        code(&["--ignore", "setuid-root", "--fail-on", "medium", sample]),
        Some(1),
        "user-non-numeric is medium"
    );
    let dir = common::TempDir::new("ignore");
    let file = dir.file(
        "ignore",
        b"# accepted: su is needed\nsetuid-root:/usr/bin/*\n",
    );
    assert_eq!(
        code(&["--ignore-file", file.to_str().unwrap(), sample]),
        Some(0)
    );
    std::fs::write(&file, "setuid-rot\n").unwrap();
    assert_one_line_error(
        &cli(&["--ignore-file", file.to_str().unwrap(), sample], None),
        "E_USAGE",
    );
    assert_one_line_error(&cli(&["--ignore", "nope", sample], None), "E_USAGE");
    assert_one_line_error(&cli(&["--fail-on", "severe", sample], None), "E_USAGE");
}

#[test]
fn suppressed_findings_stay_visible() {
    let out = cli(
        &[
            "--format",
            "json",
            "--ignore",
            "setuid-root:/usr/bin/su",
            "samples/pseudo-rootless.tar.gz",
        ],
        None,
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let image = &r["images"][0];
    assert_eq!(image["suppressed"][0]["path"], "/usr/bin/su");
    assert!(image["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["rule"] != "setuid-root"));
    assert_eq!(image["verdict"], "pseudo-rootless");
}

#[test]
fn sarif_for_code_scanning() {
    let out = cli(
        &[
            "--format",
            "sarif",
            "--ignore",
            "shell-present",
            "samples/pseudo-rootless.tar.gz",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let run = &s["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), rootless_check::analysis::rules::RULES.len());
    for r in rules {
        assert!(
            r["id"].is_string()
                && r["shortDescription"]["text"].is_string()
                && r["help"]["text"].is_string()
        );
        assert!(r["properties"]["security-severity"].is_string());
    }
    let results = run["results"].as_array().unwrap();
    let su = results
        .iter()
        .find(|r| r["ruleId"] == "setuid-root")
        .unwrap();
    assert_eq!(su["level"], "error");
    assert_eq!(
        su["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "usr/bin/su"
    );
    assert_eq!(
        rules[su["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "setuid-root"
    );
    assert!(su["partialFingerprints"]["rootlessCheck/v1"].is_string());
    let shell = results
        .iter()
        .find(|r| r["ruleId"] == "shell-present")
        .unwrap();
    assert_eq!(shell["suppressions"][0]["kind"], "external");
    for r in results {
        assert!(
            r["message"]["text"].is_string()
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string()
        );
    }
}

#[test]
fn verify_flags_a_tampered_archive() {
    let mut data = std::fs::read(fixture("built/bb-filecap.docker26-save.tar")).unwrap();
    let out = cli(&["--verify", "--fail-on", "none", "-"], Some(&data));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Change one byte of file content in the middle of the first layer blob.
    let at = data.len() / 3;
    data[at] ^= 0x01;
    let out = cli(&["--verify", "--fail-on", "none", "-"], Some(&data));
    assert_one_line_error(&out, "E_DIGEST_MISMATCH");
    // Without --verify the same archive reads as before.
    assert_eq!(
        cli(&["--fail-on", "none", "-"], Some(&data)).status.code(),
        Some(0)
    );
}

#[test]
fn bytes_read_counts_the_source_not_the_decompressed_stream() {
    let path = fixture("built/bb-filecap.docker-archive.tar.gz");
    let size = std::fs::metadata(&path).unwrap().len();
    let out = cli(&["--format", "json", "--fail-on", "none", &path], None);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let read = r["input"]["bytesRead"].as_u64().unwrap();
    assert!(read <= size && read > size / 2, "{} of {}", read, size);
}
