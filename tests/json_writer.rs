//! The hand-written JSON writer (`render::json_writer`) against serde_json,
//! the contract it replaced: for every fixture, read plainly, with `--verify`,
//! with ignores, cut short, and for generated archives with hostile names,
//! the JSON report must be the bytes of `serde_json::to_string_pretty` on the
//! report's derived `Serialize` (the `serde` feature) plus a newline. The
//! SARIF log must be the bytes serde_json writes for it once parsed into a
//! `Value`: its keys are in byte order, as the `Value` maps first wrote them.
#![cfg(feature = "serde")]

mod common;

use std::io::Cursor;

use common::*;
use rootless_check::analysis::error::{Error, ErrorCode};
use rootless_check::analysis::layer::Compression;
use rootless_check::analysis::policy::{apply_ignores, Ignore};
use rootless_check::analysis::report::{ArchiveFormat, Report};
use rootless_check::analysis::rules::Severity;
use rootless_check::analysis::verdict::Verdict;
use rootless_check::analysis::verify::{DigestMismatch, Verification};
use rootless_check::archive::{analyze_path, analyze_seekable, ReadOptions};
use rootless_check::render::{json, json_writer, sarif};
use serde_json::Value;

/// Both renderers of `report` give what serde_json gives. Returns how many
/// documents were compared.
fn check(what: &str, report: &Report) -> usize {
    let expected = serde_json::to_string_pretty(report).unwrap() + "\n";
    let actual = json::render(report);
    assert!(
        actual == expected,
        "{what}: JSON differs\n{}",
        first_difference(&actual, &expected)
    );
    let sarif = sarif::render(report);
    let value: Value = serde_json::from_str(&sarif).unwrap();
    let expected = serde_json::to_string_pretty(&value).unwrap() + "\n";
    assert!(
        sarif == expected,
        "{what}: SARIF differs\n{}",
        first_difference(&sarif, &expected)
    );
    2
}

fn first_difference(a: &str, b: &str) -> String {
    let line = a.lines().zip(b.lines()).position(|(x, y)| x != y);
    let line = line.unwrap_or(a.lines().count().min(b.lines().count()));
    format!(
        "line {}:\n  writer: {:?}\n  serde:  {:?}",
        line + 1,
        a.lines().nth(line),
        b.lines().nth(line)
    )
}

fn fixture_files() -> Vec<String> {
    let text = std::fs::read_to_string(fixtures_dir().join("EXPECTED.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let files = all.as_array().unwrap();
    files
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect()
}

fn ignores() -> Vec<Ignore> {
    [
        "setuid-root",
        "capability-narrow:**/ping*",
        "user-non-numeric",
        "s6-overlay:/package/**",
    ]
    .iter()
    .map(|s| Ignore::parse(s).unwrap())
    .collect()
}

#[test]
fn every_fixture_plain_verified_and_with_ignores() {
    let verify = ReadOptions {
        verify: true,
        ..ReadOptions::default()
    };
    let mut compared = 0;
    let mut suppressed = 0;
    let mut verified = 0;
    for name in fixture_files() {
        let path = fixtures_dir().join(&name);
        let mut report = analyze_path(&path, &ReadOptions::default()).unwrap();
        compared += check(&name, &report);
        apply_ignores(&mut report, &ignores());
        suppressed += report
            .images
            .iter()
            .map(|i| i.suppressed.len())
            .sum::<usize>();
        compared += check(&format!("{name} with ignores"), &report);
        let report = analyze_path(&path, &verify).unwrap();
        verified += report
            .images
            .iter()
            .filter(|i| i.verification.is_some())
            .count();
        compared += check(&format!("{name} --verify"), &report);
    }
    assert!(suppressed > 10, "{suppressed} suppressed findings");
    assert!(verified > 10, "{verified} verified images");
    eprintln!("{compared} documents compared");
}

#[test]
fn fixtures_cut_short_give_partial_reports() {
    let mut partial = 0;
    for name in fixture_files() {
        let bytes = std::fs::read(fixtures_dir().join(&name)).unwrap();
        if bytes.len() > 8 << 20 {
            continue;
        }
        for i in 1..8 {
            let cut = bytes.len() * i / 8;
            let Ok(report) = analyze_seekable(Cursor::new(&bytes[..cut]), &ReadOptions::default())
            else {
                continue;
            };
            partial += usize::from(report.partial);
            check(&format!("{name} cut at {cut}"), &report);
        }
    }
    assert!(partial > 10, "{partial} partial reports");
}

/// Every byte that JSON escapes, and text that it must not.
const NASTY: &str = "a\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1b}[31m\u{1f}\"\\/\u{7f}é\u{2028}\u{2029}\u{feff}😀<script>";

/// `e` at `path`, given by a PAX record (a tar header cannot hold a NUL).
fn named(mut e: E, path: &str) -> E {
    e.pax.push(("path".into(), path.as_bytes().to_vec()));
    e
}

#[test]
fn hostile_names_user_problems_and_every_optional_field() {
    let l0 = layer(&[
        dir("etc"),
        with_data(
            file("etc/passwd", 0o644),
            b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n",
        ),
        with_data(file("etc/group", 0o644), b"root:x:0:\napp:x:1000:\n"),
        named(file("setuid", 0o6755), &format!("usr/bin/{NASTY}")),
        file("usr/bin/sudo", 0o4755),
        hardlink("usr/bin/sudo2", "usr/bin/sudo"),
        named(
            with_caps(file("caps", 0o755), &NET_BIND_EP),
            &format!("usr/sbin/{NASTY}"),
        ),
        file("bin/sh", 0o755),
        named(whiteout("wh"), &format!("opt/.wh.{NASTY}")),
        whiteout("var/.wh..wh..opq"),
    ]);
    let l1 = gzip(&layer(&[file("usr/bin/apt", 0o755)]));
    let mut compared = 0;
    for user in [
        None,
        Some(""),
        Some("0"),
        Some("1000:1000"),
        Some("app"),
        Some(NASTY),
        Some("app:nogroup"),
        Some("99999999999"),
    ] {
        let steps = [NASTY, "RUN sudo true"];
        let mut config: Value = serde_json::from_slice(&config_json(user, &steps)).unwrap();
        config["config"]["Entrypoint"] = serde_json::json!(["/bin/sh", "-c", NASTY]);
        config["config"]["Env"] = serde_json::json!(["PUID=0", format!("X={NASTY}")]);
        config["config"]["ExposedPorts"] = serde_json::json!({"80/tcp": {}, "443/tcp": {}});
        config["config"]["WorkingDir"] = serde_json::json!(NASTY);
        let config = serde_json::to_vec(&config).unwrap();
        let layers = [l0.clone(), l1.clone()];
        let archive = docker_save_with(&config, &layers, &[&format!("{NASTY}:latest"), "b:1"]);
        let mut report = analyze_seekable(Cursor::new(&archive), &ReadOptions::default()).unwrap();
        compared += check(&format!("USER {user:?}"), &report);
        apply_ignores(&mut report, &ignores());
        compared += check(&format!("USER {user:?} with ignores"), &report);

        // What no archive here gives at once: errors with entry and offset,
        // warnings, digest mismatches.
        report.errors.push(
            Error::new(ErrorCode::CorruptGzip, NASTY)
                .with_entry(NASTY)
                .with_offset(u64::MAX),
        );
        report
            .errors
            .push(Error::new(ErrorCode::Truncated, "cut").with_offset(0));
        report.warnings.push(NASTY.to_string());
        report.partial = true;
        report.images[0].verification = Some(Verification {
            verified: 3,
            unverifiable: vec![NASTY.to_string()],
            mismatches: vec![DigestMismatch {
                what: "layer 0".into(),
                member: NASTY.into(),
                expected: "sha256:00".into(),
                actual: "sha256:11".into(),
            }],
        });
        report.images[0].layers[0].compression = None;
        compared += check(&format!("USER {user:?} with errors"), &report);
    }
    let without_passwd = docker_save(Some("someone"), &[layer(&[file("bin/su", 0o4755)])], &[]);
    let report = analyze_seekable(Cursor::new(&without_passwd), &ReadOptions::default()).unwrap();
    compared += check("no /etc/passwd", &report);
    let oci = oci_archive(Some("1000"), &[l0], "a");
    let report = analyze_seekable(Cursor::new(&oci), &ReadOptions::default()).unwrap();
    compared += check("OCI archive", &report);
    assert_eq!(compared, 8 * 6 + 4);
}

/// The writer writes enums by `as_str`; serde by its renames. Both must agree.
#[test]
fn enum_names_are_the_serde_names() {
    fn same<T: serde::Serialize + json_writer::WriteJson>(v: T) {
        assert_eq!(
            json_writer::to_string(&v),
            serde_json::to_string(&v).unwrap() + "\n"
        );
    }
    ErrorCode::ALL.into_iter().for_each(same);
    Severity::ALL.into_iter().for_each(same);
    [
        Verdict::Root,
        Verdict::PseudoRootless,
        Verdict::Rootless,
        Verdict::Unknown,
    ]
    .into_iter()
    .for_each(same);
    [Compression::None, Compression::Gzip, Compression::Zstd]
        .into_iter()
        .for_each(same);
    [
        ArchiveFormat::DockerArchive,
        ArchiveFormat::OciArchive,
        ArchiveFormat::Filesystem,
    ]
    .into_iter()
    .for_each(same);
}
