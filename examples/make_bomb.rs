//! Writes the decompression bomb of issue 16: a `docker save` archive
//! (legacy layout, manifest.json last) whose one gzip layer holds a file
//! of 16 GiB of zeros, then a setuid `/usr/bin/su`; about 16 MB on disk.
//!
//! cargo run --release --example make_bomb -- OUT.tar [GIB]

#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: make_bomb OUT.tar [GIB]");
    let gib: u64 = args
        .next()
        .map_or(16, |g| g.parse().expect("GIB: a whole number"));
    let layer = common::zeros_bomb_gzip(gib << 30);
    let archive = common::docker_save(Some("1000"), &[layer], &["bomb:1"]);
    std::fs::write(&out, &archive).unwrap();
    eprintln!(
        "{}: {} bytes, a layer of {} GiB of zeros",
        out,
        archive.len(),
        gib
    );
}
