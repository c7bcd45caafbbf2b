//! Generated tiny archives for what no fixture has: every whiteout case, hard
//! links, long names, PAX, capabilities, short reads, skipping by seek,
//! member links, manifest lists, compression, and broken input.

mod common;

use std::io::Cursor;

use common::*;
use rootless_check::analysis::report::Report;
use rootless_check::archive::{analyze_reader, analyze_seekable, ReadOptions};
use rootless_check::ErrorCode;

fn analyze(bytes: &[u8]) -> Report {
    analyze_seekable(Cursor::new(bytes.to_vec()), &ReadOptions::default()).unwrap()
}

fn analyze_err(bytes: &[u8]) -> ErrorCode {
    analyze_seekable(Cursor::new(bytes.to_vec()), &ReadOptions::default())
        .unwrap_err()
        .code
}

fn setuid_paths(r: &Report) -> Vec<String> {
    r.images[0]
        .setuid_files
        .iter()
        .map(|f| f.path.clone())
        .collect()
}

fn base() -> Vec<E> {
    vec![
        dir("etc"),
        with_data(file("etc/passwd", 0o644), b"root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n"),
        with_data(file("etc/group", 0o644), b"root:x:0:\napp:x:1000:\nshadow:x:42:\n"),
        dir("usr"),
        dir("usr/bin"),
        file("usr/bin/su", 0o4755),
        file("usr/bin/passwd", 0o4755),
        owned(file("usr/bin/chage", 0o2755), 0, 42),
        dir("opt"),
        dir("opt/tool"),
        file("opt/tool/helper", 0o4755),
    ]
}

#[test]
fn base_image_lists_setuid_files_with_owner_layer_and_step() {
    let r = analyze(&docker_save(Some("app"), &[layer(&base())], &["t:1"]));
    assert_eq!(
        setuid_paths(&r),
        [
            "/opt/tool/helper",
            "/usr/bin/chage",
            "/usr/bin/passwd",
            "/usr/bin/su"
        ]
    );
    let chage = &r.images[0].setuid_files[1];
    assert_eq!(
        (
            chage.mode.as_str(),
            chage.uid,
            chage.gid,
            chage.setuid,
            chage.setgid
        ),
        ("2755", 0, 42, false, true)
    );
    assert_eq!(chage.layer, 0);
    assert_eq!(chage.created_by.as_deref(), Some("RUN step 0"));
    assert_eq!(r.images[0].tags, ["t:1"]);
}

#[test]
fn whiteout_of_a_file() {
    let upper = layer(&[whiteout("usr/bin/.wh.su")]);
    let r = analyze(&docker_save(None, &[layer(&base()), upper], &[]));
    assert!(!setuid_paths(&r).contains(&"/usr/bin/su".to_string()));
    assert_eq!(r.images[0].layers[1].whiteouts, ["/usr/bin/su"]);
}

#[test]
fn whiteout_of_a_directory_removes_its_subtree() {
    let upper = layer(&[whiteout(".wh.opt")]);
    let r = analyze(&docker_save(None, &[layer(&base()), upper], &[]));
    assert!(!setuid_paths(&r).iter().any(|p| p.starts_with("/opt/")));
}

#[test]
fn opaque_directory_hides_lower_content_only() {
    let upper = layer(&[
        dir("opt/tool"),
        whiteout("opt/tool/.wh..wh..opq"),
        file("opt/tool/new", 0o4750),
    ]);
    let r = analyze(&docker_save(None, &[layer(&base()), upper], &[]));
    let paths = setuid_paths(&r);
    assert!(!paths.contains(&"/opt/tool/helper".to_string()));
    assert!(paths.contains(&"/opt/tool/new".to_string()));
    assert_eq!(r.images[0].layers[1].opaque_dirs, ["/opt/tool"]);
}

#[test]
fn chmod_u_minus_s_in_a_later_layer_removes_the_bit() {
    let upper = layer(&[file("usr/bin/passwd", 0o755)]);
    let r = analyze(&docker_save(None, &[layer(&base()), upper], &[]));
    assert!(!setuid_paths(&r).contains(&"/usr/bin/passwd".to_string()));
}

#[test]
fn later_layer_adding_the_bit_is_attributed_to_that_layer() {
    let upper = layer(&[file("usr/local/bin/tool", 0o4755)]);
    let r = analyze(&docker_save(None, &[layer(&base()), upper], &[]));
    let f = r.images[0]
        .setuid_files
        .iter()
        .find(|f| f.path == "/usr/local/bin/tool")
        .unwrap();
    assert_eq!((f.layer, f.created_by.as_deref()), (1, Some("RUN step 1")));
}

#[test]
fn non_directory_replacing_a_directory_hides_the_subtree() {
    let upper = layer(&[symlink("opt/tool", "/usr/bin")]);
    let r = analyze(&docker_save(None, &[layer(&base()), upper], &[]));
    assert!(!setuid_paths(&r).contains(&"/opt/tool/helper".to_string()));
}

#[test]
fn whiteout_and_re_add_in_the_same_layer() {
    let upper = layer(&[whiteout("usr/bin/.wh.su"), file("usr/bin/su", 0o4711)]);
    let r = analyze(&docker_save(None, &[layer(&base()), upper], &[]));
    let su = r.images[0]
        .setuid_files
        .iter()
        .find(|f| f.path == "/usr/bin/su")
        .unwrap();
    assert_eq!((su.mode.as_str(), su.layer), ("4711", 1));
}

#[test]
fn hard_links_are_reported_once_per_path() {
    let l = layer(&[
        dir("bin"),
        file("bin/mount", 0o4755),
        hardlink("bin/mount.alias", "bin/mount"),
    ]);
    let r = analyze(&docker_save(None, &[l], &[]));
    assert_eq!(setuid_paths(&r), ["/bin/mount", "/bin/mount.alias"]);
    let alias = &r.images[0].setuid_files[1];
    assert_eq!(alias.hard_link_to.as_deref(), Some("/bin/mount"));
    assert_eq!(alias.mode, "4755");
}

#[test]
fn hard_link_survives_when_its_target_is_deleted_above() {
    let l0 = layer(&[
        dir("bin"),
        file("bin/ping", 0o4755),
        hardlink("bin/ping6", "bin/ping"),
    ]);
    let l1 = layer(&[whiteout("bin/.wh.ping")]);
    let r = analyze(&docker_save(None, &[l0, l1], &[]));
    assert_eq!(setuid_paths(&r), ["/bin/ping6"]);
}

#[test]
fn long_names_gnu_and_ustar_prefix_and_pax_path() {
    let deep = format!("opt/{}/{}/suid", "a".repeat(80), "b".repeat(90));
    let gnu = layer(&[file(&deep, 0o4755)]);
    let r = analyze(&docker_save(None, &[gnu], &[]));
    assert_eq!(setuid_paths(&r), [format!("/{}", deep)]);

    let prefixed = format!("{}/{}/suid", "p".repeat(70), "q".repeat(60));
    let ustar = layer_with(&[file(&prefixed, 0o4755)], true);
    let r = analyze(&docker_save(None, &[ustar], &[]));
    assert_eq!(setuid_paths(&r), [format!("/{}", prefixed)]);

    let mut e = file("short", 0o4755);
    let pax_name = format!("pax/{}/tool", "z".repeat(300));
    e.pax.push(("path".into(), pax_name.clone().into_bytes()));
    let r = analyze(&docker_save(None, &[layer(&[e])], &[]));
    assert_eq!(setuid_paths(&r), [format!("/{}", pax_name)]);
}

#[test]
fn pax_uid_and_gid_override_the_header() {
    let mut e = owned(file("usr/bin/tool", 0o6755), 7, 7);
    e.pax.push(("uid".into(), b"0".to_vec()));
    e.pax.push(("gid".into(), b"4000000".to_vec()));
    let r = analyze(&docker_save(None, &[layer(&[e])], &[]));
    let f = &r.images[0].setuid_files[0];
    assert_eq!((f.uid, f.gid), (0, 4_000_000));
}

#[test]
fn file_capabilities_from_pax_xattrs() {
    let mut rev3 = [0u8; 24];
    rev3[0..4].copy_from_slice(&0x0300_0001u32.to_le_bytes());
    rev3[4..8].copy_from_slice(&((1u32 << 21) | (1 << 12)).to_le_bytes());
    let l = layer(&[
        with_caps(file("usr/sbin/httpd", 0o755), &NET_BIND_EP),
        with_caps(file("usr/sbin/admin", 0o755), &rev3),
    ]);
    let r = analyze(&docker_save(Some("1000"), &[l], &[]));
    let caps = &r.images[0].capabilities;
    assert_eq!(caps.len(), 2);
    let admin = &caps[0];
    assert_eq!(admin.path, "/usr/sbin/admin");
    assert_eq!(admin.capabilities, ["cap_net_admin", "cap_sys_admin"]);
    assert!(admin.effective);
    assert_eq!(admin.root_id, Some(0));
    assert_eq!(caps[1].text, "cap_net_bind_service+ep");
}

#[test]
fn capability_removed_by_a_later_layer() {
    let l0 = layer(&[with_caps(file("usr/sbin/httpd", 0o755), &NET_BIND_EP)]);
    let l1 = layer(&[file("usr/sbin/httpd", 0o755)]);
    let r = analyze(&docker_save(None, &[l0, l1], &[]));
    assert!(r.images[0].capabilities.is_empty());
}

#[test]
fn user_resolution_through_the_merged_passwd() {
    let r = analyze(&docker_save(Some("toor"), &[layer(&base())], &[]));
    let u = &r.images[0].user;
    assert_eq!((u.uid, u.gid, u.numeric), (Some(0), Some(0), false));

    let r = analyze(&docker_save(Some("app"), &[layer(&base())], &[]));
    assert_eq!(r.images[0].user.uid, Some(1000));

    // A later layer replaces /etc/passwd: the merged one counts.
    let upper = layer(&[with_data(
        file("etc/passwd", 0o644),
        b"root:x:0:0::/:/bin/sh\napp:x:0:0::/:/bin/sh\n",
    )]);
    let r = analyze(&docker_save(Some("app"), &[layer(&base()), upper], &[]));
    assert_eq!(r.images[0].user.uid, Some(0));

    let r = analyze(&docker_save(Some("ghost"), &[layer(&base())], &[]));
    assert_eq!(r.images[0].user.uid, None);
    assert_eq!(r.images[0].user.problems.len(), 1);

    let r = analyze(&docker_save(None, &[layer(&base())], &[]));
    assert_eq!(r.images[0].user.configured.as_deref(), Some(""));
    assert_eq!(r.images[0].user.uid, Some(0));
}

#[test]
fn one_byte_reads_give_the_same_report() {
    let archive = gzip(&docker_save(
        Some("app"),
        &[layer(&base()), gzip(&layer(&[whiteout("usr/bin/.wh.su")]))],
        &["x:1"],
    ));
    let a = analyze(&archive);
    let b = analyze_reader(
        OneByte(Cursor::new(archive.clone())),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&a.images).unwrap(),
        serde_json::to_value(&b.images).unwrap()
    );
    assert_eq!(
        setuid_paths(&b),
        ["/opt/tool/helper", "/usr/bin/chage", "/usr/bin/passwd"]
    );
}

#[test]
fn seekable_source_skips_contents_without_reading_them() {
    let big = vec![0x5au8; 8 << 20];
    let l = layer(&[
        with_data(file("usr/lib/big.so", 0o644), &big),
        file("usr/bin/su", 0o4755),
    ]);
    let archive = docker_save(None, &[l], &[]);
    let mut src = CountingSeek {
        inner: Cursor::new(archive.clone()),
        read: 0,
    };
    let r = analyze_seekable(&mut src, &ReadOptions::default()).unwrap();
    assert_eq!(setuid_paths(&r), ["/usr/bin/su"]);
    assert!(
        src.read < (1 << 20),
        "read {} of {} bytes",
        src.read,
        archive.len()
    );
}

#[test]
fn member_order_does_not_matter() {
    // OCI archive with index first; docker save with manifest last; and reversed.
    let layers = [layer(&base())];
    let a = analyze(&oci_archive(Some("app"), &layers, "img:1"));
    let b = analyze(&docker_save(Some("app"), &layers, &["img:1"]));
    assert_eq!(setuid_paths(&a), setuid_paths(&b));
    assert_eq!(a.images[0].tags, ["img:1"]);
    assert_eq!(
        a.images[0].layers[0].created_by.as_deref(),
        Some("RUN step 0")
    );
}

#[test]
fn layer_compressions_gzip_zstd_and_multi_member_gzip() {
    let plain = layer(&base());
    // estargz-style: several gzip members, split at an entry boundary.
    let split = 512 * 4;
    let mut multi = gzip(&plain[..split]);
    multi.extend(gzip(&plain[split..]));
    // zstd with two frames and a skippable frame between them.
    let mut zst = zstd(&plain[..split]);
    zst.extend_from_slice(&0x184D2A50u32.to_le_bytes());
    zst.extend_from_slice(&4u32.to_le_bytes());
    zst.extend_from_slice(b"skip");
    zst.extend(zstd(&plain[split..]));
    let want = setuid_paths(&analyze(&docker_save(
        None,
        std::slice::from_ref(&plain),
        &[],
    )));
    for (name, blob) in [("gzip", gzip(&plain)), ("multi-gzip", multi), ("zstd", zst)] {
        let r = analyze(&oci_archive(None, &[blob], "x"));
        assert!(!r.partial, "{}: {:?}", name, r.errors);
        assert_eq!(setuid_paths(&r), want, "{}", name);
        assert_eq!(
            r.images[0].layers[0].compression.unwrap().as_str(),
            if name == "zstd" { "zstd" } else { "gzip" }
        );
    }
}

#[test]
fn whole_archive_wrapped_in_gzip_or_zstd() {
    let archive = docker_save(Some("app"), &[layer(&base())], &["a:1"]);
    for wrapped in [gzip(&archive), zstd(&archive)] {
        let r = analyze(&wrapped);
        assert_eq!(setuid_paths(&r).len(), 4);
        assert_ne!(r.input.compression.as_str(), "none");
    }
}

#[test]
fn layer_tar_symlinks_and_hardlinks_to_other_members() {
    let l = layer(&base());
    let config = config_json(Some("app"), &["ADD"]);
    let manifest = serde_json::json!([
        {"Config": "c.json", "RepoTags": ["sym:1"], "Layers": ["aaa/layer.tar"]},
        {"Config": "c.json", "RepoTags": ["hard:1"], "Layers": ["bbb/layer.tar"]}
    ]);
    let a = archive(&[
        Member::File("top.tar".into(), l),
        Member::Symlink("aaa/layer.tar".into(), "../top.tar".into()),
        Member::Hardlink("bbb/layer.tar".into(), "top.tar".into()),
        Member::File("c.json".into(), config),
        Member::File(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        ),
    ]);
    let r = analyze(&a);
    assert_eq!(r.images.len(), 2);
    for image in &r.images {
        assert_eq!(image.setuid_files.len(), 4);
    }
}

#[test]
fn member_link_cycle_is_a_missing_blob_not_a_hang() {
    let manifest =
        serde_json::json!([{"Config": "c.json", "RepoTags": [], "Layers": ["a/layer.tar"]}]);
    let a = archive(&[
        Member::Symlink("a/layer.tar".into(), "../b/layer.tar".into()),
        Member::Symlink("b/layer.tar".into(), "../a/layer.tar".into()),
        Member::File("c.json".into(), config_json(None, &[])),
        Member::File(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        ),
    ]);
    let r = analyze(&a);
    assert!(r.partial);
    assert_eq!(r.errors[0].code, ErrorCode::MissingBlob);
}

#[test]
fn manifest_list_with_a_missing_platform() {
    let l = layer(&base());
    let config = config_json(Some("app"), &["ADD"]);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "config": {"digest": format!("sha256:{}", sha256_hex(&config))},
        "layers": [{"digest": format!("sha256:{}", sha256_hex(&l))}]}))
    .unwrap();
    let list = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"digest": format!("sha256:{}", sha256_hex(&manifest)), "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111", "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}
        ]})).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": format!("sha256:{}", sha256_hex(&list)),
        "annotations": {"io.containerd.image.name": "docker.io/library/multi:1"}}]});
    let a = archive(&[
        Member::File("index.json".into(), serde_json::to_vec(&index).unwrap()),
        Member::File(
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        Member::File(format!("blobs/sha256/{}", sha256_hex(&list)), list),
        Member::File(format!("blobs/sha256/{}", sha256_hex(&manifest)), manifest),
        Member::File(format!("blobs/sha256/{}", sha256_hex(&config)), config),
        Member::File(format!("blobs/sha256/{}", sha256_hex(&l)), l),
    ]);
    let r = analyze(&a);
    assert_eq!(r.images.len(), 1);
    assert!(!r.partial, "{:?}", r.errors);
    assert_eq!(r.images[0].tags, ["docker.io/library/multi:1"]);
    assert_eq!(r.images[0].platform.as_deref(), Some("linux/amd64"));
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].contains("linux/arm64/v8"));
}

#[test]
fn index_with_null_manifests_uses_manifest_json() {
    let l = layer(&base());
    let config = config_json(Some("1000"), &["ADD"]);
    let cfg_path = format!("blobs/sha256/{}", sha256_hex(&config));
    let layer_path = format!("blobs/sha256/{}", sha256_hex(&l));
    let manifest =
        serde_json::json!([{"Config": cfg_path, "RepoTags": null, "Layers": [layer_path]}]);
    let a = archive(&[
        Member::File(layer_path.clone(), l),
        Member::File(cfg_path.clone(), config),
        Member::File(
            "index.json".into(),
            br#"{"schemaVersion":2,"manifests":null}"#.to_vec(),
        ),
        Member::File(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        ),
        Member::File(
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
    ]);
    let r = analyze(&a);
    assert_eq!(r.images.len(), 1);
    assert_eq!(r.images[0].user.uid, Some(1000));
    assert_eq!(
        r.images[0].layers[0].digest,
        Some(format!("sha256:{}", layer_path.rsplit('/').next().unwrap()))
    );
}

#[test]
fn multi_image_archive_reports_each_image() {
    let l = layer(&base());
    let c1 = config_json(Some("app"), &["ADD"]);
    let c2 = config_json(None, &["ADD", "RUN"]);
    let l2 = layer(&[whiteout("usr/bin/.wh.su")]);
    let manifest = serde_json::json!([
        {"Config": "c1.json", "RepoTags": ["one:1"], "Layers": ["l/layer.tar"]},
        {"Config": "c2.json", "RepoTags": ["two:1"], "Layers": ["l/layer.tar", "m/layer.tar"]}
    ]);
    let a = archive(&[
        Member::File("l/layer.tar".into(), l),
        Member::File("m/layer.tar".into(), l2),
        Member::File("c1.json".into(), c1),
        Member::File("c2.json".into(), c2),
        Member::File(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        ),
    ]);
    let r = analyze(&a);
    assert_eq!(r.images.len(), 2);
    assert_eq!(r.images[0].setuid_files.len(), 4);
    assert_eq!(r.images[1].setuid_files.len(), 3);
    assert_eq!(r.images[1].user.configured.as_deref(), Some(""));
}

#[test]
fn flattened_filesystem_has_no_config() {
    let r = analyze(&layer(&base()));
    assert_eq!(r.images.len(), 1);
    assert_eq!(r.images[0].user.configured, None);
    assert_eq!(setuid_paths(&r).len(), 4);
    assert_eq!(serde_json::to_value(r.input.format).unwrap(), "filesystem");
    // gzipped docker export too.
    let r = analyze(&gzip(&layer(&base())));
    assert_eq!(setuid_paths(&r).len(), 4);
}

#[test]
fn names_escaping_the_root_are_clamped_and_counted() {
    // The tar crate refuses to write such names: set the header bytes by hand.
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..24].copy_from_slice(b"a/../../../usr/bin/evil\0");
    h.set_mode(0o4755);
    h.set_size(0);
    h.set_cksum();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&h, &[][..]).unwrap();
    let l = b.into_inner().unwrap();
    let r = analyze(&docker_save(None, &[l], &[]));
    assert_eq!(setuid_paths(&r), ["/usr/bin/evil"]);
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("climb above the root")));
}

// ---- broken input: a clear error code, never a panic ----

#[test]
fn empty_and_non_archives() {
    assert_eq!(analyze_err(b""), ErrorCode::NotAnArchive);
    assert_eq!(
        analyze_err(b"PK\x03\x04 this is a zip"),
        ErrorCode::NotAnArchive
    );
    assert_eq!(analyze_err(b"{\"Config\": 1}"), ErrorCode::NotAnArchive);
    assert_eq!(analyze_err(&vec![0x41u8; 4096]), ErrorCode::NotAnArchive);
    assert_eq!(
        analyze_err(&gzip(b"hello, not a tar")),
        ErrorCode::NotAnArchive
    );
}

#[test]
fn truncation_anywhere_is_an_error_or_a_partial_report() {
    let archive = docker_save(
        Some("app"),
        &[layer(&base()), gzip(&layer(&[whiteout("usr/bin/.wh.su")]))],
        &["t:1"],
    );
    let gz = gzip(&archive);
    let full = serde_json::to_value(&analyze(&archive).images).unwrap();
    for data in [&archive, &gz] {
        let step = (data.len() / 97).max(1);
        for cut in (1..data.len())
            .step_by(step)
            .chain(data.len() - 1100..data.len())
        {
            match analyze_seekable(Cursor::new(data[..cut].to_vec()), &ReadOptions::default()) {
                // A complete report is fine only when nothing that matters was cut
                // (the end-of-archive blocks, the gzip trailer).
                Ok(r) => assert!(
                    r.partial || serde_json::to_value(&r.images).unwrap() == full,
                    "cut at {} of {} gave a wrong complete report",
                    cut,
                    data.len()
                ),
                Err(e) => assert!(
                    matches!(
                        e.code,
                        ErrorCode::Truncated
                            | ErrorCode::NotAnArchive
                            | ErrorCode::MissingBlob
                            | ErrorCode::CorruptGzip
                    ),
                    "cut at {}: {}",
                    cut,
                    e
                ),
            }
        }
    }
}

#[test]
fn truncated_before_the_manifest_says_truncated() {
    let archive = docker_save(Some("app"), &[layer(&base())], &["t:1"]);
    let cut = archive.len() - 2048;
    let e = analyze_seekable(
        Cursor::new(archive[..cut].to_vec()),
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Truncated, "{}", e);
}

#[test]
fn missing_layer_blob() {
    let manifest = serde_json::json!([{"Config": "c.json", "RepoTags": ["m:1"], "Layers": ["nope/layer.tar"]}]);
    let a = archive(&[
        Member::File("c.json".into(), config_json(None, &[])),
        Member::File(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        ),
    ]);
    let r = analyze(&a);
    assert!(r.partial);
    assert_eq!(r.errors[0].code, ErrorCode::MissingBlob);
    assert_eq!(r.errors[0].entry.as_deref(), Some("nope/layer.tar"));
}

#[test]
fn corrupt_gzip_layer_gives_a_partial_report() {
    let mut gz = gzip(&layer(&base()));
    let mid = gz.len() / 2;
    for b in &mut gz[mid..mid + 16] {
        *b ^= 0xff;
    }
    let r = analyze(&oci_archive(None, &[gz], "x"));
    assert!(r.partial);
    assert!(r.images[0].layers[0].partial);
}

#[test]
fn corrupt_tar_header_checksum() {
    let mut l = layer(&base());
    l[600] ^= 0x20; // inside the second header's name
    let r = analyze(&docker_save(None, &[l], &[]));
    assert!(r.partial);
}

#[test]
fn bad_manifest_json_is_reported() {
    let a = archive(&[
        Member::File("x/layer.tar".into(), layer(&base())),
        Member::File("manifest.json".into(), b"[{\"Config\": ".to_vec()),
    ]);
    assert_eq!(analyze_err(&a), ErrorCode::BadJson);
}

// ---- --verify: digests checked against the manifests ----

fn analyze_verified(bytes: &[u8]) -> Report {
    let options = ReadOptions {
        verify: true,
        ..ReadOptions::default()
    };
    analyze_seekable(Cursor::new(bytes.to_vec()), &options).unwrap()
}

/// Replace `from` by `to` (same length) at its first occurrence after `skip` bytes.
fn patch(data: &mut [u8], from: &[u8], to: &[u8], skip: usize) {
    assert_eq!(from.len(), to.len());
    let at = skip
        + data[skip..]
            .windows(from.len())
            .position(|w| w == from)
            .expect("pattern");
    data[at..at + to.len()].copy_from_slice(to);
}

#[test]
fn verify_accepts_an_untouched_archive() {
    let a = oci_archive(
        Some("app"),
        &[layer(&base()), gzip(&layer(&[file("x", 0o755)]))],
        "v:1",
    );
    let r = analyze_verified(&a);
    let v = r.images[0].verification.as_ref().unwrap();
    assert!(v.mismatches.is_empty(), "{:?}", v.mismatches);
    assert_eq!(v.verified, 4, "manifest, config, two layers");
    // Without --verify nothing is claimed.
    assert!(analyze(&a).images[0].verification.is_none());
}

#[test]
fn verify_reports_a_tampered_layer_and_config() {
    let mut a = oci_archive(Some("app"), &[layer(&base())], "v:1");
    // A file's content inside the layer: the tar stays valid, the digest does not.
    patch(&mut a, b"#!/bin/sh\n", b"#!/bin/sX\n", 0);
    let r = analyze_verified(&a);
    let m = &r.images[0].verification.as_ref().unwrap().mismatches;
    assert_eq!(m.len(), 1, "{:?}", m);
    assert_eq!(m[0].what, "layer 0");
    let mut a = oci_archive(Some("app"), &[layer(&base())], "v:1");
    patch(&mut a, b"\"amd64\"", b"\"arm64\"", 0);
    let r = analyze_verified(&a);
    let m = &r.images[0].verification.as_ref().unwrap().mismatches;
    assert_eq!(
        m.iter().map(|m| m.what.as_str()).collect::<Vec<_>>(),
        ["config"]
    );
    assert_eq!(r.images[0].platform.as_deref(), Some("linux/arm64"));
}

#[test]
fn verify_checks_diff_ids_of_compressed_layers() {
    let plain = layer(&base());
    let gz = gzip(&plain);
    let good = serde_json::to_vec(
        &serde_json::json!({"architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha256_hex(&plain))]}}),
    )
    .unwrap();
    let bad = serde_json::to_vec(
        &serde_json::json!({"architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha256_hex(&gz))]}}),
    )
    .unwrap();
    let r = analyze_verified(&docker_save_with(
        &good,
        std::slice::from_ref(&gz),
        &["d:1"],
    ));
    let v = r.images[0].verification.as_ref().unwrap();
    assert!(v.mismatches.is_empty(), "{:?}", v.mismatches);
    let r = analyze_verified(&docker_save_with(&bad, std::slice::from_ref(&gz), &["d:1"]));
    let v = r.images[0].verification.as_ref().unwrap();
    assert_eq!(v.mismatches[0].what, "layer 0 (uncompressed)");
}

// ---- the config decoded as Docker decodes it ----

#[test]
fn a_repeated_or_miscased_user_is_read_as_docker_reads_it() {
    use rootless_check::analysis::verdict::Verdict;
    let layers = [layer(&base())];
    for (config, user) in [
        // Go's encoding/json: keys match case-insensitively, the last wins.
        (r#"{"config":{"User":"app","user":"root"}}"#, Some("root")),
        (r#"{"config":{"user":"root","User":"1000"}}"#, Some("1000")),
        (r#"{"config":{"USER":"0:0"}}"#, Some("0:0")),
        // A repeated object merges; null leaves the string as it was.
        (
            r#"{"config":{"User":"root"},"config":{"User":null}}"#,
            Some("root"),
        ),
    ] {
        let r = analyze(&docker_save_with(config.as_bytes(), &layers, &["t:1"]));
        let image = &r.images[0];
        assert_eq!(image.user.configured.as_deref(), user, "{}", config);
        if user != Some("1000") {
            assert_eq!(image.verdict, Verdict::Root, "{}", config);
        }
    }
}

#[test]
fn corrupt_zstd_says_what_kind_of_damage() {
    let archive = docker_save(Some("app"), &[layer(&base())], &["t:1"]);
    let good = zstd(&archive);
    let mut messages = std::collections::BTreeSet::new();
    for at in (8..good.len()).step_by(good.len() / 40) {
        let mut bad = good.clone();
        bad[at] ^= 0x5a;
        let outcome = analyze_seekable(Cursor::new(bad), &ReadOptions::default());
        let errors = match outcome {
            Ok(report) => report.errors,
            Err(e) => vec![e],
        };
        for e in errors.iter().filter(|e| e.code == ErrorCode::CorruptZstd) {
            messages.insert(e.message.clone());
        }
    }
    assert!(!messages.is_empty());
    let kinds = [
        "bad frame header",
        "bad block header",
        "bad block",
        "bad checksum field",
        "bad data",
    ];
    for m in &messages {
        let kind = m.split_once("corrupt zstd stream: ").map(|(_, kind)| kind);
        assert!(kind.is_some_and(|kind| kinds.contains(&kind)), "{m}");
    }
}
