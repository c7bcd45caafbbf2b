//! The decompression budget (issue 16): the real archives stay far below
//! it, and decompression bombs of every kind stop early with `E_LIMIT` and a
//! partial report, whatever reads them.

mod common;

use std::io::{Cursor, Read};
use std::time::{Duration, Instant};

use common::*;
use rootless_check::analysis::budget::{MaxDecompressed, DEFAULT_FLOOR, DEFAULT_RATIO};
use rootless_check::analysis::report::Report;
use rootless_check::archive::{analyze_path, analyze_reader, analyze_seekable, ReadOptions};
use rootless_check::ErrorCode;

/// Bytes `r` yields.
fn count<R: Read>(mut r: R) -> u64 {
    std::io::copy(&mut r, &mut std::io::sink()).unwrap()
}

fn decoded_len(data: &[u8]) -> Option<u64> {
    if data.starts_with(&[0x1f, 0x8b]) {
        Some(count(flate2::read::MultiGzDecoder::new(data)))
    } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(count(
            ruzstd::decoding::StreamingDecoder::new(data).unwrap(),
        ))
    } else {
        None
    }
}

struct Ratios {
    file: String,
    size: u64,
    whole: Option<u64>,
    /// (member, stored, decoded) of every compressed member.
    layers: Vec<(String, u64, u64)>,
}

fn measure(path: &std::path::Path) -> Ratios {
    let data = std::fs::read(path).unwrap();
    let whole = decoded_len(&data);
    let tar_bytes = match whole {
        Some(_) => {
            let mut out = Vec::new();
            if data.starts_with(&[0x1f, 0x8b]) {
                flate2::read::MultiGzDecoder::new(&data[..])
                    .read_to_end(&mut out)
                    .unwrap();
            } else {
                ruzstd::decoding::StreamingDecoder::new(&data[..])
                    .unwrap()
                    .read_to_end(&mut out)
                    .unwrap();
            }
            out
        }
        None => data.clone(),
    };
    let mut layers = Vec::new();
    let mut a = tar::Archive::new(&tar_bytes[..]);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        let mut body = Vec::new();
        e.read_to_end(&mut body).unwrap();
        if let Some(n) = decoded_len(&body) {
            layers.push((name, body.len() as u64, n));
        }
    }
    Ratios {
        file: path.display().to_string(),
        size: data.len() as u64,
        whole,
        layers,
    }
}

#[test]
fn fixtures_decompress_far_below_the_budget() {
    // Measured: whole files and analyses up to 2.7 times their size, small
    // layers up to 27 times (tar padding), big layers up to 2.6 times.
    let dir = fixtures_dir();
    let mut files = Vec::new();
    for sub in ["built", "public"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    files.sort();
    assert!(files.len() > 30);
    let mut highest = 0.0f64;
    for f in files {
        let r = measure(&f);
        let total: u64 = r.whole.unwrap_or(0) + r.layers.iter().map(|l| l.2).sum::<u64>();
        let ratio = total as f64 / r.size as f64;
        highest = highest.max(ratio);
        let layer = r
            .layers
            .iter()
            .map(|l| (l.2 as f64 / l.1 as f64, l.1, l.2))
            .fold((0.0, 0, 0), |a, b| if b.0 > a.0 { b } else { a });
        eprintln!(
            "{:52} {:>10} bytes, whole file {:>6}, analysis {:>11} bytes ({:>4.2}x); {:>2} compressed layers, highest {:>5.1}x ({} -> {})",
            r.file.rsplit('/').next().unwrap(),
            r.size,
            r.whole
                .map(|w| format!("{:.2}x", w as f64 / r.size as f64))
                .unwrap_or_else(|| "-".into()),
            total,
            ratio,
            r.layers.len(),
            layer.0,
            layer.1,
            layer.2
        );
        // Ten times below the ratio, and below the floor.
        assert!(total < DEFAULT_FLOOR, "{}", r.file);
        assert!(
            ratio * 10.0 < DEFAULT_RATIO as f64,
            "{}: {:.1}x",
            r.file,
            ratio
        );
        // And the analysis says nothing of a budget.
        let report = analyze_path(&f, &ReadOptions::default());
        if let Ok(report) = report {
            assert!(
                !report
                    .errors
                    .iter()
                    .any(|e| e.code == ErrorCode::LimitExceeded),
                "{}",
                r.file
            );
        }
    }
    eprintln!("highest ratio of an analysis: {:.2}x", highest);
}

fn budget(limit: MaxDecompressed) -> ReadOptions {
    ReadOptions {
        max_decompressed: limit,
        ..ReadOptions::default()
    }
}

fn limit_error(r: &Report) -> &rootless_check::Error {
    assert!(r.partial);
    let e = &r.errors[0];
    assert_eq!(e.code, ErrorCode::LimitExceeded, "{}", e);
    e
}

fn has_su(r: &Report) -> bool {
    r.images[0]
        .setuid_files
        .iter()
        .any(|f| f.path == "/usr/bin/su")
}

#[test]
fn the_16_gib_bomb_stops_fast_with_e_limit() {
    // A 16 MB docker save whose one gzip layer is a 16 GiB file of zeros:
    // it took 5-7 s (9-11 s in another build) to report `rootless`.
    let archive = docker_save(Some("1000"), &[zeros_bomb_gzip(16 << 30)], &["bomb:1"]);
    assert!(archive.len() < 17 << 20, "{} bytes", archive.len());
    let layer_name = format!("{}/layer.tar", sha256_hex(&zeros_bomb_gzip(16 << 30)));
    let dir = TempDir::new("limits");
    let path = dir.file("bomb.tar", &archive);
    type Run<'a> = Box<dyn Fn() -> Report + 'a>;
    let ways: [(&str, Run); 3] = [
        (
            "file (layers on threads)",
            Box::new(|| analyze_path(&path, &ReadOptions::default()).unwrap()),
        ),
        (
            "seekable",
            Box::new(|| analyze_seekable(Cursor::new(&archive), &ReadOptions::default()).unwrap()),
        ),
        (
            "stream",
            Box::new(|| analyze_reader(Cursor::new(&archive), &ReadOptions::default()).unwrap()),
        ),
    ];
    for (way, run) in ways {
        let started = Instant::now();
        let r = run();
        let took = started.elapsed();
        eprintln!("{}: {:?}", way, took);
        let e = limit_error(&r);
        assert_eq!(e.entry.as_deref(), Some(layer_name.as_str()), "{}", way);
        // The figures: the budget (the floor: 100 times 16 MB is less), what
        // was decompressed, the layer's stored size.
        let m = &e.message;
        assert!(
            m.contains(&format!("the budget of {} bytes", DEFAULT_FLOOR)),
            "{}",
            m
        );
        assert!(
            m.contains(&format!("{} bytes decompressed in all", DEFAULT_FLOOR)),
            "{}",
            m
        );
        assert!(m.contains("--max-decompressed"), "{}", m);
        // What was read is there: the image, its USER; the setuid file after the zeros is not.
        assert_eq!(r.images[0].user.configured.as_deref(), Some("1000"));
        assert!(r.images[0].layers[0].partial);
        assert!(!has_su(&r));
        // 2 GiB of 16 decompressed: well under the 5 s the whole took.
        assert!(took < Duration::from_secs(4), "{}: {:?}", way, took);
    }
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}

#[test]
fn the_budget_can_be_raised_or_lifted() {
    let archive = docker_save(Some("1000"), &[zeros_bomb_gzip(256 << 20)], &["bomb:1"]);
    let run = |limit| analyze_seekable(Cursor::new(&archive), &budget(limit)).unwrap();
    // Under the default budget (the floor): whole.
    let r = run(MaxDecompressed::Auto);
    assert!(!r.partial && has_su(&r));
    let e = limit_error(&run(MaxDecompressed::Bytes(100 << 20))).clone();
    assert!(
        e.message
            .contains("the budget of 104857600 bytes (--max-decompressed)"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("104857600 bytes decompressed in all"),
        "{}",
        e.message
    );
    let r = run(MaxDecompressed::Bytes(300 << 20));
    assert!(!r.partial && has_su(&r));
    let r = run(MaxDecompressed::Unlimited);
    assert!(!r.partial && has_su(&r));
    // Exactly what the walk takes from the layer is enough; a byte less is not.
    let mut lo = 256 << 20;
    let mut hi = 300 << 20;
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if run(MaxDecompressed::Bytes(mid)).partial {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    assert!(run(MaxDecompressed::Bytes(lo)).partial);
    assert!(!run(MaxDecompressed::Bytes(hi)).partial);
}

#[test]
fn a_spent_budget_decompresses_no_later_layer() {
    let small = gzip(&layer(&[file("bin/mount", 0o4755)]));
    let layers = [
        zeros_bomb_gzip(64 << 20),
        zeros_bomb_gzip((64 << 20) - 512),
        small.clone(),
        layer(&[file("bin/ping", 0o4755)]),
    ];
    let archive = docker_save(Some("1000"), &layers, &["x:1"]);
    let r = analyze_seekable(
        Cursor::new(&archive),
        &budget(MaxDecompressed::Bytes(100 << 20)),
    )
    .unwrap();
    let e = limit_error(&r);
    // The second layer was stopped, with 36 MiB of the 100 left.
    assert_eq!(
        e.entry.as_deref(),
        Some(format!("{}/layer.tar", sha256_hex(&layers[1])).as_str())
    );
    assert!(
        e.message.contains("104857600 bytes decompressed in all"),
        "{}",
        e.message
    );
    let infos = &r.images[0].layers;
    assert_eq!(
        infos.iter().map(|l| l.partial).collect::<Vec<_>>(),
        [false, true, true, false],
        "the small gzip layer after is not decompressed; the uncompressed one is read"
    );
    let paths: Vec<&str> = r.images[0]
        .setuid_files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(paths, ["/bin/ping", "/usr/bin/su"]);
    assert_eq!(
        r.errors
            .iter()
            .filter(|e| e.code == ErrorCode::LimitExceeded)
            .count(),
        1
    );
}

#[test]
fn layers_on_threads_share_the_budget() {
    // Eight gzip layers of 64 MiB each, summarised on threads: 200 MiB in all
    // whatever the order, and the report says the budget stopped them.
    let layers: Vec<Vec<u8>> = (0..8)
        .map(|i| zeros_bomb_gzip((64 << 20) - 512 * i))
        .collect();
    let archive = docker_save(Some("1000"), &layers, &["x:1"]);
    let dir = TempDir::new("limits");
    let path = dir.file("eight.tar", &archive);
    let r = analyze_path(&path, &budget(MaxDecompressed::Bytes(200 << 20))).unwrap();
    let e = limit_error(&r);
    assert!(
        e.message
            .contains(&format!("{} bytes decompressed in all", 200 << 20)),
        "{}",
        e.message
    );
    assert!(r.images[0].layers.iter().filter(|l| l.partial).count() >= 5);
    let r = analyze_path(&path, &budget(MaxDecompressed::Bytes(600 << 20))).unwrap();
    assert!(!r.partial);
}

#[test]
fn a_zstd_bomb_stops_too() {
    let bomb = zeros_bomb_zstd(1 << 30);
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let archive = oci_archive(Some("1000"), &[bomb], "zstd:1");
    for r in [
        analyze_seekable(
            Cursor::new(&archive),
            &budget(MaxDecompressed::Bytes(256 << 20)),
        )
        .unwrap(),
        analyze_reader(
            Cursor::new(&archive),
            &budget(MaxDecompressed::Bytes(256 << 20)),
        )
        .unwrap(),
    ] {
        let e = limit_error(&r);
        assert!(e.entry.as_deref().unwrap().starts_with("blobs/sha256/"));
        assert!(!has_su(&r));
    }
    // The default budget (2 GiB) holds the whole 1 GiB.
    let r = analyze_seekable(Cursor::new(&archive), &ReadOptions::default()).unwrap();
    assert!(!r.partial && has_su(&r));
}

/// A docker save (config, one uncompressed layer of `zeros` zeros, then
/// manifest.json) gzipped as a whole: a multi-member gzip, made quickly.
fn gzipped_docker_save_of_zeros(zeros: u64) -> Vec<u8> {
    let (head, chunk, count, tail) = zeros_layer_parts(zeros);
    let layer_len = head.len() as u64 + zeros + tail.len() as u64;
    let diff_id = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(&head);
        let block = vec![0u8; 1 << 20];
        for _ in 0..zeros >> 20 {
            h.update(&block);
        }
        h.update(&tail);
        h.finalize()
            .iter()
            .map(|b| format!("{:02x}", b))
            .collect::<String>()
    };
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {"User": "1000"},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", diff_id)]},
        "history": [{"created_by": "RUN zeros"}]
    }))
    .unwrap();
    let config_name = format!("{}.json", sha256_hex(&config));
    let mut prefix = archive(&[Member::File(config_name.clone(), config)]);
    prefix.truncate(prefix.len() - 1024); // no end-of-archive blocks yet
    let mut h = tar::Header::new_gnu();
    // Named by its diff_id, as containers/image names its layers.
    let layer_name = format!("{}.tar", diff_id);
    h.set_path(&layer_name).unwrap();
    h.set_size(layer_len);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    prefix.extend_from_slice(h.as_bytes());
    prefix.extend_from_slice(&head);
    let mut suffix = tail;
    suffix.resize(suffix.len() + ((512 - layer_len % 512) % 512) as usize, 0);
    let manifest =
        serde_json::json!([{"Config": config_name, "RepoTags": ["z:1"], "Layers": [layer_name]}]);
    suffix.extend(archive(&[Member::File(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    )]));
    let mut out = gzip(&prefix);
    let member = gzip(&vec![0u8; chunk as usize]);
    for _ in 0..count {
        out.extend_from_slice(&member);
    }
    out.extend(gzip(&suffix));
    out
}

#[test]
fn a_bomb_gzipped_as_a_whole_stops_the_archive_decoder() {
    let gz = gzipped_docker_save_of_zeros(512 << 20);
    // Whole under a big enough budget.
    let r = analyze_reader(Cursor::new(&gz), &budget(MaxDecompressed::Bytes(600 << 20))).unwrap();
    assert!(!r.partial && has_su(&r), "{:?}", r.errors);
    // Stopped: the archive's decoder is, so manifest.json is never read. The
    // config and the part of the layer before the stop are reported, the
    // layer put in its place by the config's diff_ids (issue 16's cut archives).
    for r in [
        analyze_reader(Cursor::new(&gz), &budget(MaxDecompressed::Bytes(128 << 20))).unwrap(),
        analyze_seekable(Cursor::new(&gz), &budget(MaxDecompressed::Bytes(128 << 20))).unwrap(),
    ] {
        let e = limit_error(&r);
        assert!(
            e.message
                .starts_with("decompressing the archive went past the budget of 134217728 bytes"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("134217728 bytes decompressed;"),
            "{}",
            e.message
        );
        assert_eq!(r.images[0].user.configured.as_deref(), Some("1000"));
        assert_eq!(r.images[0].layers.len(), 1);
        assert!(r.images[0].layers[0].partial);
        assert!(!has_su(&r));
    }
    // A budget smaller than the first block.
    let e = analyze_reader(Cursor::new(&gz), &budget(MaxDecompressed::Bytes(100))).unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
    assert!(
        e.message.contains("the budget of 100 bytes"),
        "{}",
        e.message
    );
}

#[test]
fn the_memory_bomb_fits_the_default_budget() {
    // tests/memory.rs's bomb (1 GiB of zeros behind ~1 MiB of gzip, 1000:1)
    // is an image a user may really have (a zeroed database file): the
    // floor lets it through.
    let archive = docker_save(Some("1000"), &[zeros_bomb_gzip(1 << 30)], &["db:1"]);
    let r = analyze_reader(Cursor::new(&archive), &ReadOptions::default()).unwrap();
    assert!(!r.partial && has_su(&r));
}
