//! Hostile and broken archives: every fixture cut short at many points
//! (inside each member, layers and manifests included), bytes flipped in
//! headers and compressed streams, crafted names, loops and self-references.
//! Each ends with a documented error code or a correct (possibly partial)
//! report — never a panic, never a hang.

mod common;

use std::io::Cursor;
use std::time::{Duration, Instant};

use common::*;
use rootless_check::analysis::report::Report;
use rootless_check::archive::{analyze_reader, analyze_seekable, ReadOptions};
use rootless_check::{Error, ErrorCode};
use serde_json::json;

const DOCUMENTED: &[ErrorCode] = &[
    ErrorCode::NotAnArchive,
    ErrorCode::Truncated,
    ErrorCode::CorruptTar,
    ErrorCode::CorruptGzip,
    ErrorCode::CorruptZstd,
    ErrorCode::MissingBlob,
    ErrorCode::BadJson,
    ErrorCode::UnsupportedFormat,
    ErrorCode::LimitExceeded,
];

fn run(bytes: &[u8]) -> Result<Report, Error> {
    analyze_seekable(Cursor::new(bytes.to_vec()), &ReadOptions::default())
}

/// The outcome must be a documented error, or a report whose errors are documented.
fn check_outcome(what: &str, result: &Result<Report, Error>) {
    match result {
        Ok(r) => {
            for e in &r.errors {
                assert!(
                    DOCUMENTED.contains(&e.code),
                    "{}: undocumented {:?}",
                    what,
                    e
                );
            }
            assert_eq!(
                r.partial,
                !r.errors.is_empty() || r.images.iter().any(|i| i.partial),
                "{}",
                what
            );
            // Every renderer copes with whatever was read.
            let _ = rootless_check::render::json::render(r);
            let _ = rootless_check::render::sarif::render(r);
            let _ = rootless_check::render::text::render(r, Default::default());
        }
        Err(e) => assert!(DOCUMENTED.contains(&e.code), "{}: undocumented {}", what, e),
    }
}

fn fixture_files() -> Vec<(String, Vec<u8>)> {
    let text = std::fs::read_to_string(fixtures_dir().join("EXPECTED.json")).unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["file"].as_str().unwrap().to_string();
            let bytes = std::fs::read(fixtures_dir().join(&name)).unwrap();
            (name, bytes)
        })
        .collect()
}

/// Offsets where each member's data starts and ends, for an uncompressed outer tar.
fn member_spans(bytes: &[u8]) -> Vec<(u64, u64)> {
    let mut a = tar::Archive::new(Cursor::new(bytes));
    let Ok(entries) = a.entries() else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| (e.raw_file_position(), e.size()))
        .collect()
}

#[test]
fn every_fixture_cut_short_anywhere() {
    let start = Instant::now();
    let mut cuts = 0;
    for (name, bytes) in fixture_files() {
        let full = serde_json::to_value(&run(&bytes).unwrap().images).unwrap();
        let mut points: Vec<usize> = (1..12).map(|i| bytes.len() * i / 12).collect();
        // Inside every member of an uncompressed archive: its first bytes, middle and last bytes.
        for (pos, size) in member_spans(&bytes) {
            for p in [pos + 1, pos + size / 2, (pos + size).saturating_sub(1)] {
                points.push(p as usize);
            }
        }
        points.retain(|&p| p > 0 && p < bytes.len());
        points.sort_unstable();
        points.dedup();
        for cut in points {
            let result = run(&bytes[..cut]);
            check_outcome(&format!("{} cut at {}", name, cut), &result);
            if let Ok(r) = &result {
                // A complete report from a cut archive must equal the full one.
                if !r.partial {
                    assert_eq!(
                        serde_json::to_value(&r.images).unwrap(),
                        full,
                        "{} cut at {}: wrong complete report",
                        name,
                        cut
                    );
                }
            }
            cuts += 1;
        }
    }
    assert!(cuts > 500, "{} cuts", cuts);
    eprintln!("{} cuts in {:?}", cuts, start.elapsed());
}

#[test]
fn flipped_bytes_in_headers_and_streams() {
    for (name, bytes) in fixture_files()
        .into_iter()
        .filter(|(_, b)| b.len() < 8 << 20)
    {
        let mut positions: Vec<usize> = Vec::new();
        // Tar headers: name, mode, size, checksum, type, magic of the first members.
        for (pos, _) in member_spans(&bytes).into_iter().take(6) {
            let header = pos as usize - 512;
            positions.extend([
                header,
                header + 100,
                header + 124,
                header + 130,
                header + 148,
                header + 156,
                header + 257,
            ]);
        }
        // And spread over the whole file (compressed streams, layer contents, JSON).
        positions.extend((1..24).map(|i| bytes.len() * i / 24));
        for at in positions {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[at] ^= mask;
                check_outcome(&format!("{} flip {:#x} at {}", name, mask, at), &run(&b));
            }
        }
    }
}

#[test]
fn gzip_bomb_costs_time_not_memory_and_streams_agree() {
    // 64 MiB of zeros inside one file of a gzipped layer: ~64 KiB compressed.
    let big = vec![0u8; 64 << 20];
    let l = gzip(&layer(&[
        with_data(file("zeros", 0o644), &big),
        file("usr/bin/su", 0o4755),
    ]));
    assert!(l.len() < 1 << 20);
    let a = oci_archive(None, &[l], "bomb:1");
    let started = Instant::now();
    let r = run(&a).unwrap();
    assert_eq!(r.images[0].setuid_files.len(), 1);
    // Bounded, not asserted as a benchmark: a hang would be minutes.
    assert!(started.elapsed() < Duration::from_secs(60));
    // The whole archive gzipped again, read as a stream.
    let r = analyze_reader(Cursor::new(gzip(&a)), &ReadOptions::default()).unwrap();
    assert_eq!(r.images[0].setuid_files.len(), 1);
}

#[test]
fn a_hundred_thousand_empty_files() {
    let mut entries = vec![dir("d")];
    entries.extend((0..100_000).map(|i| E {
        data: vec![],
        ..file(&format!("d/f{}", i), 0o644)
    }));
    let l = layer(&entries);
    let r = run(&docker_save(Some("1000"), &[l], &["many:1"])).unwrap();
    assert_eq!(r.images[0].layers[0].entries, 100_001);
    assert_eq!(r.images[0].merged_entries, 100_001);
}

#[test]
fn layer_entry_limit_gives_a_partial_report() {
    let entries: Vec<E> = (0..50).map(|i| file(&format!("f{}", i), 0o644)).collect();
    let a = docker_save(Some("1000"), &[layer(&entries)], &["x:1"]);
    let mut options = ReadOptions::default();
    options.layer_limits.max_entries = 10;
    let r = analyze_seekable(Cursor::new(a), &options).unwrap();
    assert!(r.partial);
    assert!(r.images[0].layers[0].partial);
    assert!(r.errors.iter().any(|e| e.code == ErrorCode::LimitExceeded) || r.images[0].partial);
}

#[test]
fn crafted_names() {
    let mut nul = file("placeholder", 0o4755);
    nul.pax.push(("path".into(), b"usr/bin/a\0b".to_vec()));
    let mut long_ok = file("placeholder2", 0o4755);
    long_ok.pax.push((
        "path".into(),
        format!("deep/{}", "d/".repeat(20_000)).into_bytes(),
    ));
    let html = file("usr/bin/<img src=x onerror=alert(1)>", 0o4755);
    let ansi = file("usr/bin/\u{1b}[2J\u{1b}[31mevil", 0o4755);
    let l = layer(&[nul, long_ok, html, ansi]);
    let a = docker_save(Some("1000"), &[l], &["<script>alert(1)</script>:latest"]);
    let r = run(&a).unwrap();
    assert!(!r.partial, "{:?}", r.errors);
    let paths: Vec<&str> = r.images[0]
        .setuid_files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert!(paths.contains(&"/usr/bin/a\0b"));
    assert!(paths.contains(&"/usr/bin/<img src=x onerror=alert(1)>"));
    assert_eq!(r.images[0].tags, ["<script>alert(1)</script>:latest"]);
    // JSON keeps names exactly (escaped by JSON's rules); text escapes controls.
    let json = rootless_check::render::json::render(&r);
    let back: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        back["images"][0]["tags"][0],
        "<script>alert(1)</script>:latest"
    );
    let text = rootless_check::render::text::render(&r, Default::default());
    assert!(!text.contains('\u{1b}') && !text.contains('\0'));
    assert!(text.contains("\\u{1b}[2J"));

    // A name over the path limit: that layer is partial, with a clear code.
    let mut too_long = file("x", 0o644);
    too_long
        .pax
        .push(("path".into(), "p/".repeat(40_000).into_bytes()));
    let r = run(&docker_save(Some("1000"), &[layer(&[too_long])], &[])).unwrap();
    assert!(r.partial);
    assert!(r.images[0].layers[0].partial);
}

#[test]
fn symlink_loops_in_a_layer() {
    let l = layer(&[
        dir("etc"),
        symlink("etc/passwd", "/etc/shadow"),
        symlink("etc/shadow", "passwd"),
        symlink("loop", "loop"),
    ]);
    let r = run(&docker_save(Some("app"), &[l], &[])).unwrap();
    let u = &r.images[0].user;
    assert_eq!(u.uid, None);
    assert!(!r.partial);
}

#[test]
fn manifests_pointing_at_themselves() {
    // An index blob that lists itself.
    let self_ref = |digest: &str| {
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [{"digest": digest}]})).unwrap()
    };
    // Find a fixed point is impossible with real hashes: point the blob at its own path name instead.
    let fake = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let blob = self_ref(fake);
    let index = json!({"schemaVersion": 2, "manifests": [{"digest": fake}]});
    let a = archive(&[
        Member::File(
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        Member::File("index.json".into(), serde_json::to_vec(&index).unwrap()),
        Member::File(format!("blobs/sha256/{}", &fake[7..]), blob),
    ]);
    let e = run(&a).unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded, "{}", e);

    // manifest.json naming itself as config and layer.
    let m = json!([{"Config": "manifest.json", "RepoTags": ["x:1"], "Layers": ["manifest.json"]}]);
    let a = archive(&[Member::File(
        "manifest.json".into(),
        serde_json::to_vec(&m).unwrap(),
    )]);
    let r = run(&a).unwrap();
    assert!(r.partial);
    assert!(r.errors.iter().all(|e| DOCUMENTED.contains(&e.code)));
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let m =
        serde_json::to_vec(&json!([{"Config": "c.json", "RepoTags": [], "Layers": []}])).unwrap();
    let a = archive(&[
        Member::File("c.json".into(), deep.into_bytes()),
        Member::File("manifest.json".into(), m),
    ]);
    let r = run(&a).unwrap();
    assert!(
        r.errors.iter().any(|e| e.code == ErrorCode::BadJson),
        "{:?}",
        r.errors
    );
}

#[test]
fn absurd_sizes_in_headers() {
    // A member claiming 2^60 bytes: the archive ends long before.
    let mut h = tar::Header::new_gnu();
    h.set_path("manifest.json").unwrap();
    h.set_size(1 << 60);
    h.set_cksum();
    let mut bytes = h.as_bytes().to_vec();
    bytes.extend_from_slice(b"[{}]");
    bytes.resize(4096, 0);
    let result = run(&bytes);
    check_outcome("huge size", &result);
    // Nothing to assemble: an error, or at most a partial report that says it was cut.
    if let Ok(r) = &result {
        assert!(
            r.partial && r.errors.iter().any(|e| e.code == ErrorCode::Truncated),
            "{:?}",
            r.errors
        );
    }
}
