//! Whole-file gzip archives read with the parallel gzip decoder
//! (`ROOTLESS_CHECK_GZIP_THREADS=2`) give the reports and errors of the
//! sequential one: the real Debian fixtures, whole and cut short, and one
//! with a byte flipped. One test in its own binary: it sets the variable.

mod common;

use rootless_check::archive::{analyze_path, analyze_reader, ReadOptions};

fn report(bytes: &[u8], threads: &str) -> String {
    std::env::set_var("ROOTLESS_CHECK_GZIP_THREADS", threads);
    match analyze_reader(bytes, &ReadOptions::default()) {
        Ok(r) => serde_json::to_string(&r).unwrap(),
        Err(e) => format!("{}: {}", e.code.as_str(), e.message),
    }
}

#[test]
fn parallel_gzip_gives_the_sequential_reports() {
    let dir = common::fixtures_dir().join("built");
    let mut seen = 0;
    for name in [
        "deb12-minbase.docker20-save.tar.gz",
        "deb12-hardened.docker26-save.tar.gz",
    ] {
        let Ok(whole) = std::fs::read(dir.join(name)) else {
            eprintln!("{name}: no fixture, skipped");
            continue;
        };
        seen += 1;
        let n = whole.len();
        let mut flipped = whole.clone();
        flipped[n / 2] ^= 0x40;
        for (what, bytes) in [
            ("whole", &whole[..]),
            ("cut at 60%", &whole[..n * 6 / 10]),
            ("cut before the trailer", &whole[..n - 5]),
            ("a byte flipped", &flipped[..]),
        ] {
            let a = report(bytes, "1");
            let b = report(bytes, "2");
            assert!(
                a == b,
                "{name}, {what}: {}\nvs\n{}",
                &a[..a.len().min(300)],
                &b[..b.len().min(300)]
            );
        }
        // From a file too (the size known).
        std::env::set_var("ROOTLESS_CHECK_GZIP_THREADS", "2");
        let r = analyze_path(&dir.join(name), &ReadOptions::default()).unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), report(&whole, "1"));
    }
    if seen == 0 {
        eprintln!("no fixtures: nothing tested");
    }
}
