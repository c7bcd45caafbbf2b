//! The bundled sample stays what its generator writes, and says what the README says.

#[path = "../examples/make_sample.rs"]
#[allow(dead_code)]
mod make_sample;

use rootless_check::archive::{analyze_path, ReadOptions};

#[test]
fn committed_sample_matches_its_generator() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/pseudo-rootless.tar.gz");
    let committed = std::fs::read(&path).unwrap();
    assert!(
        committed == make_sample::sample(),
        "run `cargo run --example make_sample` and commit the result"
    );
}

#[test]
fn sample_report() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/pseudo-rootless.tar.gz");
    let r = analyze_path(&path, &ReadOptions::default()).unwrap();
    let image = &r.images[0];
    assert_eq!(image.user.uid, Some(1000));
    let setuid: Vec<&str> = image.setuid_files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(setuid, ["/usr/bin/su"]);
    assert_eq!(image.capabilities[0].text, "cap_net_raw+ep");
}
