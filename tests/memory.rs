//! Memory stays bounded by what the merge needs, not by archive or layer
//! size: a gzip bomb (1 GiB of zeros behind ~1 MiB of gzip) and a gzip-wrapped
//! archive around it are read with a small, fixed amount of memory; and what
//! an entry costs stays small (issue 16), measured in fresh processes (this
//! binary run again). The bomb is the only other test in this binary, so the
//! process's peak RSS is its own.

mod common;

use std::io::{Cursor, Read, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use rootless_check::archive::{analyze_path, analyze_reader, analyze_seekable, ReadOptions};

/// Peak resident set size of this process, in KiB (Linux).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A gzip layer holding one file of `zeros` bytes and a setuid file, built
/// without ever holding the uncompressed bytes.
fn bomb_layer(zeros: u64) -> Vec<u8> {
    let mut b = tar::Builder::new(GzEncoder::new(Vec::new(), flate2::Compression::best()));
    let mut h = tar::Header::new_gnu();
    h.set_size(zeros);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "zeros", std::io::repeat(0).take(zeros))
        .unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_mode(0o4755);
    h.set_cksum();
    b.append_data(&mut h, "usr/bin/su", &[][..]).unwrap();
    b.into_inner().unwrap().finish().unwrap()
}

#[test]
fn gzip_bomb_memory_is_bounded() {
    let layer = bomb_layer(1 << 30);
    assert!(layer.len() < 2 << 20, "bomb is {} bytes", layer.len());
    let archive = common::oci_archive(Some("1000"), &[layer], "bomb:1");
    let mut wrapped = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    wrapped.write_all(&archive).unwrap();
    let wrapped = wrapped.finish().unwrap();
    let before = peak_rss_kib();

    let r = analyze_seekable(Cursor::new(&archive), &ReadOptions::default()).unwrap();
    assert_eq!(r.images[0].setuid_files[0].path, "/usr/bin/su");
    let r = analyze_reader(Cursor::new(&wrapped), &ReadOptions::default()).unwrap();
    assert_eq!(r.images[0].setuid_files[0].path, "/usr/bin/su");

    let grown = peak_rss_kib().saturating_sub(before);
    // 1 GiB went through the decoders twice; a few MiB of buffers may stay.
    assert!(grown < 64 << 10, "peak RSS grew by {} KiB", grown);
    eprintln!("peak RSS grew by {} KiB while decompressing 2 GiB", grown);
}

/// A `docker save` file whose one uncompressed layer holds `n` empty files
/// (100 a directory) and a setuid `usr/bin/su`, written to `path` as it is
/// made (never whole in memory: the bomb test may be measuring).
fn write_entries_archive(path: &Path, n: usize) {
    let layer_path = path.with_extension("layer");
    let mut layer = tar::Builder::new(std::io::BufWriter::new(
        std::fs::File::create(&layer_path).unwrap(),
    ));
    let mut add = |name: &str, kind: tar::EntryType, mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(0);
        layer.append_data(&mut h, name, &[][..]).unwrap();
    };
    add("usr/bin/su", tar::EntryType::Regular, 0o4755);
    for i in 0..n {
        if i % 100 == 0 {
            add(
                &format!("data/d{:05}", i / 100),
                tar::EntryType::Directory,
                0o755,
            );
        }
        let name = format!("data/d{:05}/f{:07}", i / 100, i);
        add(&name, tar::EntryType::Regular, 0o644);
    }
    layer.into_inner().unwrap().flush().unwrap();
    let config = common::config_json(Some("1000"), &["RUN make"]);
    let manifest = br#"[{"Config":"config.json","RepoTags":["e:1"],"Layers":["l/layer.tar"]}]"#;
    let mut archive = tar::Builder::new(std::fs::File::create(path).unwrap());
    archive
        .append_path_with_name(&layer_path, "l/layer.tar")
        .unwrap();
    for (name, bytes) in [
        ("config.json", &config[..]),
        ("manifest.json", &manifest[..]),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        archive.append_data(&mut h, name, bytes).unwrap();
    }
    archive.finish().unwrap();
    std::fs::remove_file(layer_path).unwrap();
}

/// The analysis `memory_per_entry_child` runs: `file` or `stream`, a path.
const CHILD_ENV: &str = "ROOTLESS_CHECK_MEMORY_CHILD";

/// Not a test of its own: run by `memory_per_entry_stays_small` in a fresh
/// process (this test binary again), it analyses one archive and prints its
/// peak RSS, so that nothing of the parent's (the archives it built) counts.
#[test]
fn memory_per_entry_child() {
    let Some(job) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let job = job.to_string_lossy().into_owned();
    let (how, path) = job.split_once(':').unwrap();
    let options = ReadOptions::default();
    let r = match how {
        "file" => analyze_path(Path::new(path), &options).unwrap(),
        _ => analyze_reader(std::fs::File::open(path).unwrap(), &options).unwrap(),
    };
    assert_eq!(r.images[0].setuid_files[0].path, "/usr/bin/su");
    println!(
        "PEAK_KIB={} MERGED={}",
        peak_rss_kib(),
        r.images[0].merged_entries
    );
}

/// Peak RSS (KiB) of a fresh process analysing `path` as `how`.
fn child_peak(how: &str, path: &Path) -> u64 {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "memory_per_entry_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{}:{}", how, path.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix("PEAK_KIB="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no peak in {}", stdout))
}

#[test]
fn memory_per_entry_stays_small() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = common::TempDir::new("memory");
    let (small, large) = (20_000usize, 80_000usize);
    let (small_path, large_path) = (dir.path().join("small.tar"), dir.path().join("large.tar"));
    write_entries_archive(&small_path, small);
    write_entries_archive(&large_path, large);
    let at = |how: &str| (child_peak(how, &small_path), child_peak(how, &large_path));
    let (file, stream) = (at("file"), at("stream"));
    drop(dir);
    let added = (large - small) as u64;
    for (how, (a, b)) in [("file", file), ("stream", stream)] {
        let per_entry = b.saturating_sub(a) * 1024 / added;
        eprintln!(
            "{}: peak {} KiB for {} entries, {} KiB for {}: {} bytes an entry",
            how, a, small, b, large, per_entry
        );
        // A plain file is a 12-byte path hash (layer/plain.rs), its group
        // (one per directory here) a fraction of a byte; whole records (32
        // bytes, the name, 8 bytes of merged view) only for the directories.
        // It was ~100 bytes before issue 16, ~57 with whole records only.
        assert!(per_entry <= 24, "{}: {} bytes an entry", how, per_entry);
    }
}
