//! Memory stays bounded by what the merge needs, not by archive or layer
//! size: a gzip bomb (1 GiB of zeros behind ~1 MiB of gzip) and a gzip-wrapped
//! archive around it are read with a small, fixed amount of memory. The only
//! test in this binary, so the process's peak RSS is its own.

mod common;

use std::io::{Cursor, Read, Write};

use flate2::write::GzEncoder;
use rootless_check::archive::{analyze_reader, analyze_seekable, ReadOptions};

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
