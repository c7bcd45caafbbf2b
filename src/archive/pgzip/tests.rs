//! The parallel decoder against flate2 on generated data, with small
//! chunks so that every path (markers, pinning, member ends, fallbacks)
//! runs on small inputs.

use super::*;
use crate::archive::gzip::tests::gunzip as sequential;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::{format, panic, vec};

fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn parallel(gz: &[u8], chunk: usize, cap: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut p = ParallelGunzip::with_chunks(Box::new(gz), 3, chunk, cap);
    // Odd read sizes.
    let mut buf = vec![0u8; 7919];
    loop {
        let n = p.read(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Pseudo-random bytes (xorshift).
fn random(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Text-like bytes: words from a small vocabulary, some repeated lines.
fn text(n: usize, seed: u64) -> Vec<u8> {
    let words = [
        "usr",
        "bin",
        "lib",
        "etc",
        "passwd",
        "root",
        "nobody",
        "x86_64",
        "linux",
        "gnu",
        "share",
        "locale",
        "python3",
        "site-packages",
        "__init__",
        ".py",
        "so",
        "1000",
    ];
    let r = random(n, seed);
    let mut out = Vec::with_capacity(n + 32);
    let mut i = 0;
    while out.len() < n {
        let w = words[r[i % r.len()] as usize % words.len()];
        out.extend_from_slice(w.as_bytes());
        out.push(if r[(i + 1) % r.len()] % 7 == 0 {
            b'\n'
        } else {
            b'/'
        });
        i += 1;
    }
    out.truncate(n);
    out
}

fn mixed(n: usize, seed: u64) -> Vec<u8> {
    let mut v = Vec::new();
    while v.len() < n {
        let k = v.len() as u64 + seed;
        v.extend(text(40_000, k));
        v.extend(random(9_000, k));
        v.extend(std::iter::repeat_n(0u8, 30_000));
    }
    v.truncate(n);
    v
}

fn same(gz: &[u8], chunk: usize) {
    let want = sequential(gz).unwrap();
    let got = parallel(gz, chunk, 64 << 20).unwrap();
    assert!(got == want, "{} bytes vs {}", got.len(), want.len());
}

#[test]
fn same_bytes_as_flate2_at_every_level() {
    let data = mixed(3 << 20, 1);
    for level in [0, 1, 6, 9] {
        let gz = gzip(&data, level);
        same(&gz, 64 << 10);
    }
}

#[test]
fn random_text_and_zeros() {
    same(&gzip(&random(2 << 20, 7), 6), 100_000);
    same(&gzip(&text(4 << 20, 3), 6), 65_536);
    same(&gzip(&vec![0u8; 8 << 20], 6), 1000);
    same(&gzip(b"", 6), 1000);
    same(&gzip(b"hello", 6), 1000);
}

#[test]
fn members_anywhere() {
    let mut gz = Vec::new();
    for i in 0..40 {
        let n = (i * 7919) % 100_000;
        gz.extend(gzip(&mixed(n, i as u64), (i % 10) as u32));
    }
    for chunk in [3000, 50_000, 1 << 20] {
        same(&gz, chunk);
    }
}

#[test]
fn the_cap_falls_back() {
    let gz = gzip(&mixed(2 << 20, 5), 6);
    let want = sequential(&gz).unwrap();
    assert_eq!(parallel(&gz, 64 << 10, 100_000).unwrap(), want);
    let zeros = gzip(&vec![0u8; 4 << 20], 9);
    assert_eq!(parallel(&zeros, 1000, 100_000).unwrap(), vec![0u8; 4 << 20]);
}

#[test]
fn gzip_cli_levels() {
    let data = mixed(2 << 20, 9);
    let dir = std::env::temp_dir().join(format!("pgzip-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data");
    std::fs::write(&path, &data).unwrap();
    for level in 1..=9 {
        let out = std::process::Command::new("gzip")
            .arg(format!("-{level}"))
            .arg("-c")
            .arg(&path)
            .output();
        let Ok(out) = out else {
            eprintln!("no gzip command: skipped");
            break;
        };
        assert!(out.status.success());
        same(&out.stdout, 40_000);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Errors: the kind the sequential decoder gives, and its bytes before it
/// as a prefix.
fn same_failure(gz: &[u8], chunk: usize) {
    let want = sequential(gz).unwrap_err();
    let mut out = Vec::new();
    let mut p = ParallelGunzip::with_chunks(Box::new(gz), 2, chunk, 1 << 20);
    let err = loop {
        let mut buf = vec![0u8; 65536];
        match p.read(&mut buf) {
            Ok(0) => panic!("no error ({} bytes)", out.len()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), want.kind(), "{err} vs {want}");
    assert_eq!(err.to_string(), want.to_string());
    let mut seq = Vec::new();
    let _ = GzipReader::new(gz).read_to_end(&mut seq);
    assert!(seq.starts_with(&out) || out.starts_with(&seq));
}

#[test]
fn truncated_and_corrupt() {
    let data = mixed(1 << 20, 11);
    let gz = gzip(&data, 6);
    for cut in [
        5,
        10,
        11,
        100,
        gz.len() / 3,
        gz.len() / 2,
        gz.len() - 9,
        gz.len() - 4,
        gz.len() - 1,
    ] {
        same_failure(&gz[..cut], 30_000);
    }
    for at in [20, 1000, gz.len() / 2, gz.len() - 6] {
        let mut bad = gz.clone();
        bad[at] ^= 0x55;
        same_failure(&bad, 30_000);
    }
    let mut junk = gz.clone();
    junk.extend_from_slice(b"not gzip at all");
    same_failure(&junk, 30_000);
    let mut zeros = gz.clone();
    zeros.extend_from_slice(&[0u8; 100]);
    same_failure(&zeros, 30_000);
}

#[test]
fn corrupt_never_panics_or_hangs() {
    let gz = gzip(&mixed(300_000, 4), 6);
    let r = random(4096, 99);
    for i in 0..200 {
        let mut bad = gz.clone();
        for j in 0..(i % 5 + 1) {
            let at = (r[(i * 5 + j) % r.len()] as usize * 7919 + i * 131) % bad.len();
            bad[at] = r[(i + j * 3) % r.len()];
        }
        let a = sequential(&bad);
        let b = parallel(&bad, 20_000, 1 << 20);
        match (a, b) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "case {i}"),
            (a, b) => panic!(
                "case {i}: {:?} vs {:?}",
                a.map(|v| v.len()),
                b.map(|v| v.len())
            ),
        }
    }
}

#[test]
fn the_finder_finds_real_blocks() {
    let gz = gzip(&text(1 << 20, 2), 6);
    // The first block starts after the 10-byte header.
    assert!(finder::plausible(&gz, 80));
    let found = finder::find(&gz, 81, gz.len() as u64 * 8).unwrap();
    assert!(found > 81);
}
