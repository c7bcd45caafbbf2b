//! Archives cut before their manifest (issue 16): `docker save` writes
//! `manifest.json` after the layers (Docker ≥ 25 its `index.json` too), and
//! OCI archives often write `index.json` after their blobs. A cut archive
//! holds the config and most layers: the report covers them, in the
//! config's order, marked partial, naming the layers it lost.

mod common;

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use common::*;
use rootless_check::analysis::report::Report;
use rootless_check::archive::{analyze_path, analyze_reader, analyze_seekable, ReadOptions};
use rootless_check::ErrorCode;
use serde_json::Value;

fn fixture_files() -> Vec<PathBuf> {
    let dir = fixtures_dir();
    let text = std::fs::read_to_string(dir.join("EXPECTED.json")).unwrap();
    let list: Value = serde_json::from_str(&text).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| dir.join(e["file"].as_str().unwrap()))
        .collect()
}

/// The fixture's tar (gunzipped when it is gzipped as a whole).
fn tar_bytes(file: &Path) -> Vec<u8> {
    let data = std::fs::read(file).unwrap();
    if data.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&data[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        data
    }
}

/// The header offset of every member, and of the first `manifest.json` or
/// `index.json` (the archive's manifest) if any.
fn members(tar: &[u8]) -> (Vec<(u64, String)>, Option<u64>) {
    let mut a = tar::Archive::new(tar);
    let mut all = Vec::new();
    let mut manifest = None;
    for e in a.entries().unwrap() {
        let e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        let name = name.trim_start_matches("./").to_string();
        if manifest.is_none() && matches!(name.as_str(), "manifest.json" | "index.json") {
            manifest = Some(e.raw_header_position());
        }
        all.push((e.raw_header_position(), name));
    }
    (all, manifest)
}

fn json(r: &Report) -> Value {
    serde_json::to_value(r).unwrap()
}

/// An image of a report, without what only the manifest gives (its tags).
fn without_tags(image: &Value) -> Value {
    let mut image = image.clone();
    image["tags"] = Value::Array(vec![]);
    image
}

fn codes(r: &Report) -> Vec<ErrorCode> {
    r.errors.iter().map(|e| e.code).collect()
}

/// The reports of `bytes` read every way: a file (layers on threads), a
/// seekable source read in one pass, a stream, and gzipped as a whole.
fn every_way(name: &str, bytes: &[u8], gzipped_too: bool) -> Vec<(String, Report)> {
    let dir = TempDir::new("cut");
    let path = dir.file(name, bytes);
    let options = ReadOptions::default();
    let mut out = vec![
        ("file".to_string(), analyze_path(&path, &options).unwrap()),
        (
            "seekable".to_string(),
            analyze_seekable(Cursor::new(bytes), &options).unwrap(),
        ),
        (
            "stream".to_string(),
            analyze_reader(Cursor::new(bytes), &options).unwrap(),
        ),
    ];
    if gzipped_too {
        out.push((
            "gzipped".to_string(),
            analyze_reader(Cursor::new(gzip(bytes)), &options).unwrap(),
        ));
    }
    out
}

#[test]
fn every_fixture_cut_before_its_manifest_gives_the_report_of_its_layers() {
    let mut cut_fixtures = 0;
    for file in fixture_files() {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let tar = tar_bytes(&file);
        let (_, Some(at)) = members(&tar) else {
            continue; // a raw layer or a filesystem: no manifest to lose
        };
        if at == 0 {
            continue; // the manifest first: nothing before it
        }
        let full = json(&analyze_path(&file, &ReadOptions::default()).unwrap());
        let gzipped = name.ends_with(".gz");
        for (way, cut) in every_way(&name, &tar[..at as usize], gzipped) {
            let what = format!("{} cut at {} ({})", name, at, way);
            // Partial, saying the archive was cut before its manifest; every
            // layer is there: nothing is missing.
            assert!(cut.partial, "{}", what);
            assert_eq!(
                codes(&cut),
                [ErrorCode::Truncated],
                "{}: {:?}",
                what,
                cut.errors
            );
            let cut = json(&cut);
            // Each image as in the whole archive's report, but for its tags:
            // the same layers in the same order (diff_ids, history steps),
            // the same setuid files, capabilities, USER, findings, verdict.
            let mut left: Vec<Value> = full["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(without_tags)
                .collect();
            for image in cut["images"].as_array().unwrap() {
                assert_eq!(image["tags"], Value::Array(vec![]), "{}", what);
                // A manifest blob names the image manifest, which an index
                // of `"manifests": null` did not.
                let mut unnamed = image.clone();
                unnamed["manifestDigest"] = Value::Null;
                let i = left
                    .iter()
                    .position(|full| *full == *image || *full == unnamed)
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: an image unlike any of the whole archive's:\n{}\nwhole:\n{}",
                            what,
                            serde_json::to_string_pretty(image).unwrap(),
                            serde_json::to_string_pretty(&left).unwrap()
                        )
                    });
                left.remove(i);
            }
            assert!(left.is_empty(), "{}: images missing", what);
            // Docker >= 25 writes an OCI layout and a manifest.json: cut
            // before both, it is an OCI archive.
            let format = match (&full["input"]["format"], &full["input"]["ociLayout"]) {
                (f, Value::Bool(true)) if f == "docker-archive" => "oci-archive".into(),
                (f, _) => f.clone(),
            };
            assert_eq!(cut["input"]["format"], format, "{}", what);
        }
        cut_fixtures += 1;
    }
    assert!(cut_fixtures >= 25, "only {} fixtures cut", cut_fixtures);
}

/// The archive cut at `at` with a `manifest.json` of the given images
/// (`Config`, `Layers` member paths) after it: the report a manifest of
/// just those layers gives (the layers' order is the manifest's).
fn with_manifest(cut: &[u8], images: &[(String, Vec<String>)]) -> Report {
    let manifest: Vec<Value> = images
        .iter()
        .map(|(config, layers)| serde_json::json!({"Config": config, "Layers": layers}))
        .collect();
    let mut bytes = cut.to_vec();
    bytes.extend(archive(&[Member::File(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    )]));
    analyze_seekable(Cursor::new(bytes), &ReadOptions::default()).unwrap()
}

fn setuid(image: &Value) -> Vec<(String, String, u64, u64)> {
    image["setuidFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["mode"].as_str().unwrap().to_string(),
                f["uid"].as_u64().unwrap(),
                f["gid"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn str_list(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| l[key].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn cut_at_every_member_the_layers_read_are_reported_in_order() {
    // Docker ≤ 24 saves (layers ordered by their <id>/json), containers/image
    // and Docker ≥ 25 ones (named by diff_id), OCI archives (image manifest
    // blobs), a kaniko archive (compressed layers digested as they are read).
    for suffix in [
        "bb-suid-wh.docker20-save.tar",
        "s6-overlay-real.docker-archive.tar",
        "wagoodman+dive__test-docker-image.tar",
        "google+go-containerregistry__test_link.tar",
        "bb-filecap.docker-archive.tar",
        "bb-opaque.docker26-save.tar",
        "bb-filecap.oci-archive.tar",
        "wagoodman+dive__test-kaniko-image.tar",
    ] {
        let file = fixture_files()
            .into_iter()
            .find(|f| f.to_string_lossy().ends_with(suffix))
            .unwrap();
        let tar = tar_bytes(&file);
        let (all, Some(manifest_at)) = members(&tar) else {
            panic!("{} has no manifest", suffix)
        };
        let full = json(&analyze_path(&file, &ReadOptions::default()).unwrap());
        let mut reported = 0;
        for &(at, _) in all.iter().filter(|(at, _)| *at > 0 && *at <= manifest_at) {
            let bytes = &tar[..at as usize];
            let dir = TempDir::new("cut");
            let file_report = analyze_path(&dir.file(suffix, bytes), &ReadOptions::default());
            drop(dir);
            let Ok(file_report) = file_report else {
                continue; // cut before any config: nothing to report
            };
            let stream_report =
                analyze_reader(Cursor::new(bytes), &ReadOptions::default()).unwrap();
            for (way, report) in [("file", &file_report), ("stream", &stream_report)] {
                let what = format!("{} cut at {} ({})", suffix, at, way);
                assert!(report.partial, "{}", what);
                let cut = json(report);
                let mut oracle_images = Vec::new();
                let mut missing_expected = Vec::new();
                for image in cut["images"].as_array().unwrap() {
                    reported += 1;
                    let diff_ids = str_list(&image["layers"], "diffId");
                    // The whole image these layers come from: the layers read
                    // are a part of its own, in its order, with the same
                    // diff_ids and history steps.
                    let whole = full["images"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|w| {
                            w["user"]["configured"] == image["user"]["configured"]
                                && w["configDigest"] == image["configDigest"]
                                && {
                                    let all = str_list(&w["layers"], "diffId");
                                    let mut it = all.iter();
                                    diff_ids.iter().all(|d| it.any(|x| x == d))
                                }
                        })
                        .unwrap_or_else(|| panic!("{}: no whole image matches {}", what, image));
                    let whole_layers = whole["layers"].as_array().unwrap();
                    for layer in image["layers"].as_array().unwrap() {
                        let w = whole_layers
                            .iter()
                            .find(|w| w["archivePath"] == layer["archivePath"])
                            .unwrap_or_else(|| {
                                panic!("{}: {} is no layer of the image", what, layer)
                            });
                        assert_eq!(w["diffId"], layer["diffId"], "{}", what);
                        assert_eq!(w["createdBy"], layer["createdBy"], "{}", what);
                    }
                    // The layers it lost are named by their diff_id.
                    for d in str_list(&whole["layers"], "diffId") {
                        if !diff_ids.contains(&d) {
                            missing_expected.push(d);
                        }
                    }
                    let config = image["layers"]
                        .as_array()
                        .map(|_| {
                            // The config's member path: the whole report names
                            // none, so find it by digest or in the cut archive.
                            config_member(bytes, image)
                        })
                        .unwrap();
                    oracle_images.push((config, str_list(&image["layers"], "archivePath")));
                }
                let mut missing: Vec<String> = report
                    .errors
                    .iter()
                    .filter(|e| e.code == ErrorCode::MissingBlob)
                    .map(|e| e.entry.clone().unwrap())
                    .collect();
                missing.sort();
                missing_expected.sort();
                assert_eq!(missing, missing_expected, "{}", what);
                // The setuid files are those of a merge of the layers read.
                let oracle = json(&with_manifest(bytes, &oracle_images));
                for (image, expected) in cut["images"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(oracle["images"].as_array().unwrap())
                {
                    assert_eq!(setuid(image), setuid(expected), "{}", what);
                }
            }
            if at == manifest_at {
                // Everything before the manifest: no layer lost.
                assert!(
                    !file_report
                        .errors
                        .iter()
                        .any(|e| e.code == ErrorCode::MissingBlob),
                    "{}: {:?}",
                    suffix,
                    file_report.errors
                );
            }
        }
        assert!(reported > 0, "{}: no cut gave a report", suffix);
    }
}

/// The member path of a reported image's config in the cut archive: the
/// JSON member with its USER and diff_ids (the one the image came from).
fn config_member(cut: &[u8], image: &Value) -> String {
    if let Some(d) = image["configDigest"].as_str() {
        return format!("blobs/{}", d.replace(':', "/"));
    }
    let diff_ids: Vec<Value> = image["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["diffId"].clone())
        .collect();
    let mut a = tar::Archive::new(cut);
    for e in a.entries().unwrap() {
        let Ok(mut e) = e else { break };
        let name = e.path().unwrap().display().to_string();
        let mut body = Vec::new();
        if e.read_to_end(&mut body).is_err() {
            break;
        }
        let Ok(cfg) = serde_json::from_slice::<Value>(&body) else {
            continue;
        };
        let Some(ids) = cfg["rootfs"]["diff_ids"].as_array() else {
            continue;
        };
        let user = cfg["config"]["User"].as_str().unwrap_or("");
        if image["user"]["configured"].as_str() == Some(user)
            && diff_ids.iter().all(|d| ids.contains(d))
        {
            return name;
        }
    }
    panic!("no config for {}", image)
}

#[test]
fn a_cut_kaniko_archive_is_ordered_by_the_digests_of_its_gzip_layers() {
    // A kaniko-like archive (config, <digest>.tar.gz layers in no order,
    // manifest.json last) cut before its manifest: the compressed layers'
    // uncompressed streams were digested as they were read, every way.
    let l0 = layer(&base_entries());
    let l1 = layer(&[file("usr/local/bin/tool", 0o4755)]);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {"User": "app"},
        "rootfs": {"type": "layers", "diff_ids": [
            format!("sha256:{}", sha256_hex(&l0)), format!("sha256:{}", sha256_hex(&l1))]},
        "history": [{"created_by": "ADD base"}, {"created_by": "COPY tool"}]
    }))
    .unwrap();
    let (g0, g1) = (gzip(&l0), gzip(&l1));
    let names = [
        format!("{}.tar.gz", sha256_hex(&g1)),
        format!("{}.tar.gz", sha256_hex(&g0)),
    ];
    let config_name = format!("sha256:{}", sha256_hex(&config));
    let manifest = serde_json::json!([{"Config": config_name, "RepoTags": ["k:1"], "Layers": [names[1], names[0]]}]);
    let mut cut = archive(&[
        Member::File(config_name.clone(), config),
        Member::File(names[0].clone(), g1),
        Member::File(names[1].clone(), g0),
    ]);
    let whole = [
        &cut[..cut.len() - 1024],
        &archive(&[Member::File(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        )])[..],
    ]
    .concat();
    cut.truncate(cut.len() - 1024); // cut before manifest.json
    let full = json(&analyze_seekable(Cursor::new(&whole), &ReadOptions::default()).unwrap());
    for (way, r) in every_way("kaniko.tar", &cut, true) {
        assert_eq!(codes(&r), [ErrorCode::Truncated], "{}", way);
        assert_eq!(
            json(&r)["images"][0],
            without_tags(&full["images"][0]),
            "{}",
            way
        );
    }
}

fn base_entries() -> Vec<E> {
    vec![
        dir("etc"),
        with_data(
            file("etc/passwd", 0o644),
            b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n",
        ),
        dir("usr"),
        dir("usr/bin"),
        file("usr/bin/su", 0o4755),
    ]
}

#[test]
fn a_hostile_cut_archive_is_recovered_in_bounded_time() {
    // Thousands of Docker <id>/json chains and configs of thousands of
    // diff_ids, cut before any manifest: putting the images together stays
    // bounded (a cap on the chain steps), and the report comes.
    let mut members = Vec::new();
    let id = |i: usize| format!("{:064x}", i);
    for i in 0..3000 {
        let mut json = serde_json::json!({"id": id(i)});
        if i > 0 {
            json["parent"] = id(i - 1).into();
        }
        members.push(Member::File(
            format!("{}/json", id(i)),
            serde_json::to_vec(&json).unwrap(),
        ));
    }
    for t in 0..500 {
        let json = serde_json::json!({"id": id(10_000 + t), "parent": id(2999), "config": {}});
        members.push(Member::File(
            format!("{}/json", id(10_000 + t)),
            serde_json::to_vec(&json).unwrap(),
        ));
    }
    let diff_ids: Vec<String> = (0..3001).map(|i| format!("sha256:{:064x}", i)).collect();
    for c in 0..60 {
        let config = serde_json::json!({"config": {"User": format!("{}", c)}, "rootfs": {"diff_ids": diff_ids}});
        members.push(Member::File(
            format!("{:064x}.json", 1_000_000 + c),
            serde_json::to_vec(&config).unwrap(),
        ));
    }
    members.push(Member::File(
        "l/layer.tar".into(),
        layer(&[file("bin/x", 0o4755)]),
    ));
    let mut bytes = archive(&members);
    bytes.truncate(bytes.len() - 1024);
    let started = std::time::Instant::now();
    let r = analyze_seekable(Cursor::new(&bytes), &ReadOptions::default()).unwrap();
    assert!(r.partial);
    assert_eq!(r.images.len(), 60);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    eprintln!(
        "{} images recovered in {:?}",
        r.images.len(),
        started.elapsed()
    );
}
