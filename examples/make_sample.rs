//! Writes `samples/pseudo-rootless.tar.gz`, the small image the README runs
//! on: a `docker save`-style archive of an image that sets a non-root USER
//! but still ships a setuid-root `su` and a file capability. Deterministic:
//! `tests/sample.rs` checks the committed file equals what this writes.
//!
//! cargo run --example make_sample

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;

pub fn sample() -> Vec<u8> {
    let base = layer(&[
        dir("bin"),
        file("bin/sh", 0o755),
        dir("etc"),
        with_data(
            file("etc/passwd", 0o644),
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\napp:x:1000:1000:app:/app:/bin/sh\n",
        ),
        with_data(file("etc/group", 0o644), b"root:x:0:\nshadow:x:42:\napp:x:1000:\n"),
        dir("usr"),
        dir("usr/bin"),
        file("usr/bin/su", 0o4755),
        owned(file("usr/bin/chage", 0o2755), 0, 42),
        with_caps(file("usr/bin/ping", 0o755), &[1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    ]);
    let app = layer(&[
        dir("app"),
        owned(file("app/server", 0o755), 1000, 1000),
        whiteout("usr/bin/.wh.chage"),
    ]);
    let config = config_json(
        Some("app"),
        &[
            "ADD rootfs.tar / # a busybox-like base",
            "COPY --chown=app server /app/",
        ],
    );
    gzip(&docker_save_with(
        &config,
        &[base, app],
        &["example/pseudo-rootless:1"],
    ))
}

fn main() {
    let out =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/pseudo-rootless.tar.gz");
    std::fs::write(&out, sample()).unwrap();
    println!("wrote {}", out.display());
}
