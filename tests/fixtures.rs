//! Every fixture in ../shared/fixtures/EXPECTED.json, read as a user would
//! (by path, so seekable), must agree with the ground truth on tags,
//! platform, USER, layers, the merged setuid/setgid set with owners, file
//! capabilities and whiteouts. All forms of one image must give the same facts.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;

use rootless_check::analysis::layer::LayerLimits;
use rootless_check::analysis::report::{ImageReport, Report};
use rootless_check::analysis::verdict::Verdict;
use rootless_check::archive::{analyze_path, analyze_reader, analyze_seekable, ReadOptions};
use serde_json::Value;

fn expected() -> Vec<Value> {
    let path = common::fixtures_dir().join("EXPECTED.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {}", path.display(), e));
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// `-rwsr-xr-x` → 0o4755.
fn ls_mode(text: &str) -> u32 {
    let b: Vec<char> = text.chars().collect();
    assert_eq!(b.len(), 10, "mode {}", text);
    let mut mode = 0;
    let bits = [0o400, 0o200, 0o100, 0o40, 0o20, 0o10, 0o4, 0o2, 0o1];
    for (i, bit) in bits.iter().enumerate() {
        let c = b[i + 1];
        let special = match i {
            2 => 0o4000,
            5 => 0o2000,
            8 => 0o1000,
            _ => 0,
        };
        match c {
            '-' => {}
            's' | 't' => mode |= bit | special,
            'S' | 'T' => mode |= special,
            _ => mode |= bit,
        }
    }
    mode
}

/// `"-rwsr-xr-x 0:0 usr/bin/su"` → (path, mode, uid, gid).
fn parse_setuid(line: &str) -> (String, u32, u32, u32) {
    let mut parts = line.splitn(3, ' ');
    let mode = ls_mode(parts.next().unwrap());
    let second = parts.next().unwrap();
    let (uid, gid, path) = match second.split_once(':') {
        Some((u, g)) if u.chars().all(|c| c.is_ascii_digit()) => (
            u.parse().unwrap(),
            g.parse().unwrap(),
            parts.next().unwrap().to_string(),
        ),
        _ => (
            0,
            0,
            format!("{} {}", second, parts.next().unwrap_or(""))
                .trim()
                .to_string(),
        ),
    };
    (format!("/{}", path), mode, uid, gid)
}

type Facts = (
    Option<String>,
    BTreeSet<(String, u32, u32, u32)>,
    BTreeSet<String>,
);

fn facts(image: &ImageReport) -> Facts {
    let setuid = image
        .setuid_files
        .iter()
        .map(|f| {
            (
                f.path.clone(),
                u32::from_str_radix(&f.mode, 8).unwrap(),
                f.uid,
                f.gid,
            )
        })
        .collect();
    let caps = image
        .capabilities
        .iter()
        .map(|c| format!("{} {}", c.path, c.text))
        .collect();
    (image.user.configured.clone(), setuid, caps)
}

fn check_image(file: &str, image: &ImageReport, want: &Value) {
    let ctx = |what: &str| format!("{}: {}", file, what);
    // USER
    let want_user = want["config_User"].as_str().unwrap();
    match want_user {
        "<no config>" => assert_eq!(image.user.configured, None, "{}", ctx("user")),
        "<absent>" => assert_eq!(
            image.user.configured.as_deref(),
            Some(""),
            "{}",
            ctx("user")
        ),
        u => assert_eq!(image.user.configured.as_deref(), Some(u), "{}", ctx("user")),
    }
    // Tags: a list, a single ref name, or none.
    match &want["tags"] {
        Value::Array(tags) => {
            for t in tags {
                assert!(
                    image.tags.contains(&t.as_str().unwrap().to_string()),
                    "{}: {:?} in {:?}",
                    ctx("tags"),
                    t,
                    image.tags
                );
            }
        }
        Value::String(t) => assert!(
            image.tags.contains(t),
            "{}: {:?} in {:?}",
            ctx("tags"),
            t,
            image.tags
        ),
        _ => {}
    }
    if let Some(arch) = want["architecture"].as_str() {
        let platform = image.platform.as_deref().unwrap_or("");
        assert!(
            platform.split('/').nth(1) == Some(arch),
            "{}: {} vs {}",
            ctx("platform"),
            platform,
            arch
        );
    }
    assert_eq!(
        image.layers.len() as u64,
        want["layers"].as_u64().unwrap(),
        "{}",
        ctx("layer count")
    );
    let want_comp: BTreeSet<&str> = want["layer_compression"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let our_comp: BTreeSet<&str> = image
        .layers
        .iter()
        .filter_map(|l| l.compression.map(|c| c.as_str()))
        .collect();
    if want_user != "<no config>" {
        assert_eq!(our_comp, want_comp, "{}", ctx("layer compression"));
    }
    // Merged setuid/setgid files with mode and owner.
    let mut want_setuid = BTreeSet::new();
    for key in [
        "setuid_setgid_root_owned_after_merge",
        "setuid_setgid_non_root_owned_after_merge",
    ] {
        for line in want[key].as_array().unwrap() {
            want_setuid.insert(parse_setuid(line.as_str().unwrap()));
        }
    }
    let (_, our_setuid, our_caps) = facts(image);
    assert_eq!(
        our_setuid,
        want_setuid,
        "{}",
        ctx("merged setuid/setgid files")
    );
    let want_caps: BTreeSet<String> = want["file_caps_after_merge"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("/{}", c.as_str().unwrap()))
        .collect();
    assert_eq!(our_caps, want_caps, "{}", ctx("file capabilities"));
    // Whiteouts, as the deleted paths.
    let our_wh: BTreeSet<String> = image
        .layers
        .iter()
        .flat_map(|l| l.whiteouts.iter().cloned())
        .collect();
    for w in want["whiteouts"].as_array().unwrap() {
        let w = w.as_str().unwrap();
        let (dir, name) = w
            .rsplit_once('/')
            .map(|(d, n)| (format!("/{}/", d), n))
            .unwrap_or(("/".into(), w));
        let deleted = format!("{}{}", dir, name.strip_prefix(".wh.").unwrap());
        assert!(
            our_wh.contains(&deleted),
            "{}: {} in {:?}",
            ctx("whiteouts"),
            deleted,
            our_wh
        );
    }
    let our_opq: BTreeSet<String> = image
        .layers
        .iter()
        .flat_map(|l| l.opaque_dirs.iter().cloned())
        .collect();
    for w in want["opaque_whiteouts"].as_array().unwrap() {
        let dir = w
            .as_str()
            .unwrap()
            .trim_end_matches(".wh..wh..opq")
            .trim_end_matches('/');
        assert!(
            our_opq.contains(&format!("/{}", dir)),
            "{}: {} in {:?}",
            ctx("opaque dirs"),
            dir,
            our_opq
        );
    }
    assert!(!image.partial, "{}", ctx("partial"));
    // s6-overlay, with the version the layout shows.
    match &want["s6_overlay"] {
        Value::String(text) => {
            assert!(image.s6.detected, "{}", ctx("s6 detected"));
            let version = text
                .split('(')
                .nth(1)
                .and_then(|v| v.split(',').next())
                .unwrap();
            assert_eq!(
                image.s6.version.as_deref(),
                Some(version),
                "{}",
                ctx("s6 version")
            );
            assert_eq!(image.s6.major, Some(3), "{}", ctx("s6 major"));
        }
        _ => assert!(!image.s6.detected, "{}", ctx("s6 not detected")),
    }
    // The verdict the ground truth implies: root when USER resolves to uid 0
    // (empty, absent, root, 0); pseudo-rootless when a root-owned setuid/setgid
    // file or s6-overlay survives the merge; rootless otherwise; unknown without a config.
    let root_owned = !want["setuid_setgid_root_owned_after_merge"]
        .as_array()
        .unwrap()
        .is_empty();
    let s6 = want["s6_overlay"].is_string();
    let user_part = want_user.split(':').next().unwrap();
    let implied = if want_user == "<no config>" {
        Verdict::Unknown
    } else if matches!(user_part, "" | "<absent>" | "root") || user_part.chars().all(|c| c == '0') {
        Verdict::Root
    } else if root_owned || s6 {
        Verdict::PseudoRootless
    } else {
        Verdict::Rootless
    };
    assert_eq!(
        image.verdict,
        implied,
        "{}: {:?}",
        ctx("verdict"),
        image.verdict_reasons
    );
}

fn run(file: &str) -> Report {
    let path = common::fixtures_dir().join(file);
    analyze_path(&path, &ReadOptions::default()).unwrap_or_else(|e| panic!("{}: {}", file, e))
}

#[test]
fn every_fixture_matches_expected() {
    let all = expected();
    assert!(all.len() >= 30, "EXPECTED.json lists {} files", all.len());
    for fx in &all {
        let file = fx["file"].as_str().unwrap();
        let report = run(file);
        let want_images = fx["images"].as_array().unwrap();
        assert_eq!(
            report.images.len(),
            want_images.len(),
            "{}: image count",
            file
        );
        // A filesystem tar without its end-of-archive marker (two zero blocks)
        // cannot be told from one cut short: it is reported partial.
        let bytes = std::fs::read(common::fixtures_dir().join(file)).unwrap();
        let marker = bytes.len() >= 1024 && bytes[bytes.len() - 1024..].iter().all(|&b| b == 0);
        let gz = bytes.starts_with(&[0x1f, 0x8b]);
        if !marker && !gz && fx["images"][0]["config_User"] == "<no config>" {
            assert!(report.partial, "{}", file);
            assert_eq!(report.errors.len(), 1, "{}: {:?}", file, report.errors);
            assert_eq!(report.errors[0].code, rootless_check::ErrorCode::Truncated);
            continue;
        }
        assert!(report.errors.is_empty(), "{}: {:?}", file, report.errors);
        for (image, want) in report.images.iter().zip(want_images) {
            check_image(file, image, want);
        }
    }
}

#[test]
fn streaming_read_gives_the_same_report_as_seeking() {
    for fx in expected() {
        let file = fx["file"].as_str().unwrap();
        let seek = run(file);
        let f = File::open(common::fixtures_dir().join(file)).unwrap();
        let stream = analyze_reader(f, &ReadOptions::default()).unwrap();
        let a = serde_json::to_value(&seek.images).unwrap();
        let b = serde_json::to_value(&stream.images).unwrap();
        assert_eq!(a, b, "{}", file);
    }
}

/// Plain files kept as hashes of their paths (the default) and every entry
/// kept whole (no key, as the page's wasm does) give the same report, byte
/// for byte, read from a file and from a stream (issue 16).
#[test]
fn path_hashes_give_the_report_of_whole_entries() {
    let whole = ReadOptions {
        layer_limits: LayerLimits {
            path_key: None,
            ..ReadOptions::default().layer_limits
        },
        ..ReadOptions::default()
    };
    assert!(ReadOptions::default().layer_limits.path_key.is_some());
    for fx in expected() {
        let file = fx["file"].as_str().unwrap();
        let path = common::fixtures_dir().join(file);
        let json = |r: Report| rootless_check::render::json::render(&r);
        let hashed = json(run(file));
        assert_eq!(
            hashed,
            json(analyze_path(&path, &whole).unwrap()),
            "{}",
            file
        );
        let stream = analyze_reader(File::open(&path).unwrap(), &whole).unwrap();
        let hashed_stream = analyze_reader(File::open(&path).unwrap(), &ReadOptions::default());
        assert_eq!(json(hashed_stream.unwrap()), json(stream), "{}", file);
    }
}

/// A file is read with its layers deferred and summarised on several
/// threads; that must give exactly the report of one sequential pass, also
/// for archives cut short (layers then stop being deferred where they end).
#[test]
fn parallel_layers_give_the_sequential_report() {
    let dir = common::TempDir::new("parallel");
    let report_json = |r: Result<Report, rootless_check::analysis::error::Error>| match r {
        Ok(r) => serde_json::to_string(&r).unwrap(),
        Err(e) => format!("error {}", e),
    };
    let mut deferring = 0;
    for fx in expected() {
        let file = fx["file"].as_str().unwrap();
        let path = common::fixtures_dir().join(file);
        let bytes = std::fs::read(&path).unwrap();
        let options = ReadOptions {
            defer_layers: true,
            ..ReadOptions::default()
        };
        let input =
            rootless_check::archive::input::SeekInput::new(std::io::Cursor::new(&bytes)).unwrap();
        if let Ok(c) = rootless_check::archive::read_archive(input, &options) {
            deferring += usize::from(!c.deferred_layers.is_empty());
        }
        let mut cuts = vec![bytes.len()];
        cuts.extend((1..4).map(|k| bytes.len() * k / 4));
        for cut in cuts {
            let copy = dir.file("cut.tar", &bytes[..cut]);
            let parallel = report_json(analyze_path(&copy, &ReadOptions::default()));
            let sequential = report_json(analyze_seekable(
                std::io::Cursor::new(&bytes[..cut]),
                &ReadOptions::default(),
            ));
            assert_eq!(parallel, sequential, "{} cut at {}", file, cut);
        }
    }
    drop(dir);
    // Uncompressed archives defer their layers: most fixtures are such.
    assert!(
        deferring >= 10,
        "only {} fixtures deferred layers",
        deferring
    );
}

#[test]
fn all_forms_of_an_image_agree() {
    let mut by_image: BTreeMap<String, Vec<(String, Facts)>> = BTreeMap::new();
    for fx in expected() {
        let file = fx["file"].as_str().unwrap().to_string();
        let Some(name) = file.strip_prefix("built/") else {
            continue;
        };
        let image = name.split('.').next().unwrap().to_string();
        let report = run(&file);
        by_image
            .entry(image)
            .or_default()
            .push((file.clone(), facts(&report.images[0])));
    }
    let mut compared = 0;
    for (image, forms) in by_image {
        for (file, f) in &forms[1..] {
            assert_eq!(
                f, &forms[0].1,
                "{} differs between {} and {}",
                image, forms[0].0, file
            );
            compared += 1;
        }
    }
    assert!(compared >= 8, "only {} comparisons", compared);
}

#[test]
fn every_fixture_verifies_against_its_own_digests() {
    let options = ReadOptions {
        verify: true,
        ..ReadOptions::default()
    };
    let mut verified = 0;
    for fx in expected() {
        let file = fx["file"].as_str().unwrap();
        let report = analyze_path(&common::fixtures_dir().join(file), &options).unwrap();
        for image in &report.images {
            // Flattened filesystems have no digests to check.
            let Some(v) = &image.verification else {
                continue;
            };
            assert!(v.mismatches.is_empty(), "{}: {:?}", file, v.mismatches);
            verified += v.verified;
        }
    }
    assert!(verified > 100, "only {} digests checked", verified);
}

/// An input over `data` that only has the bytes of `window` (as the browser's
/// stream window): outside it a read fails and says so in `waiting`, as the
/// wasm's input does when its read callback returns -1. `end` bounds it, as
/// a deferred layer's member does; skips only move the position.
struct WindowInput<'a> {
    data: &'a [u8],
    window: (u64, u64),
    end: u64,
    position: u64,
    waiting: bool,
}

impl rootless_check::archive::input::Input for WindowInput<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.position >= self.end || buf.is_empty() {
            return Ok(0);
        }
        if self.position < self.window.0 || self.position >= self.window.1 {
            self.waiting = true;
            return Err(std::io::Error::other("no bytes yet"));
        }
        let n = (buf.len() as u64).min(self.window.1 - self.position) as usize;
        let at = self.position as usize;
        buf[..n].copy_from_slice(&self.data[at..at + n]);
        self.position += n as u64;
        Ok(n)
    }

    fn skip(&mut self, n: u64) -> std::io::Result<u64> {
        let target = self.position.saturating_add(n).min(self.end);
        let skipped = target - self.position;
        self.position = target;
        Ok(skipped)
    }

    fn position(&self) -> u64 {
        self.position
    }
}

/// A deferred layer's summary made in steps of `width` bytes, the way the
/// wasm's `LayerScan` makes it for the browser: each step walks until the
/// window runs out, and the next starts over where the walk stood before
/// its entry (a gzip layer's decoder keeps its state between steps).
fn summary_in_steps(
    data: &[u8],
    layer: &rootless_check::analysis::contents::DeferredLayer,
    width: u64,
) -> Vec<u8> {
    use rootless_check::analysis::layer::{Compression, LayerBuilder, LayerLimits};
    use rootless_check::archive::{gzip::GunzipSteps, input::DynInput, walk_layer_from};
    use rootless_check::ErrorCode;

    let end = layer.offset + layer.size;
    let compression = Compression::sniff(&data[layer.offset as usize..end as usize]);
    let mut builder = LayerBuilder::new(LayerLimits::default());
    builder.set_compression(compression, layer.size);
    let gzip = compression == Compression::Gzip;
    let mut gunzip = GunzipSteps::default();
    let (mut from, mut window, mut width, mut last) = ((0, 0), (0, 0), width, None);
    for _ in 0..1_000_000 {
        let at = layer.offset + if gzip { gunzip.taken() } else { from.0 };
        let mut input = WindowInput {
            data,
            window,
            end,
            position: at,
            waiting: false,
        };
        let (outcome, next) = if gzip {
            let tar = Box::new(gunzip.input(&mut input, from.0)) as DynInput<'_>;
            walk_layer_from(tar, u64::MAX, from, ErrorCode::CorruptGzip, &mut builder)
        } else {
            let input = Box::new(&mut input) as DynInput<'_>;
            walk_layer_from(input, layer.size, from, ErrorCode::Io, &mut builder)
        };
        from = next;
        if !input.waiting {
            if let Err(e) = outcome {
                builder.fail(e);
            }
            return gunzip.finish(builder).encode();
        }
        let need = layer.offset
            + if gzip {
                gunzip.taken()
            } else {
                from.0 + from.1
            };
        if last == Some(need) {
            width *= 2; // an entry bigger than the window
        }
        last = Some(need);
        window = (need, (need + width).min(end));
    }
    panic!("{}: no end in sight", layer.name);
}

/// Every uncompressed and gzip layer of every fixture, walked in steps (the
/// browser's streams) with windows from less than a header to more than
/// most layers, gives the summary of one pass, byte for byte.
#[test]
fn layers_walked_in_steps_give_the_summary_of_one_pass() {
    use common::*;
    use rootless_check::analysis::layer::{Compression, LayerLimits};
    use rootless_check::archive::input::{DynInput, SeekInput};
    // Besides the fixtures, layers of entries that each have extension
    // headers (PAX capabilities, GNU long names, so bodies and paddings
    // inside the entry), a captured /etc/passwd, and big contents, in windows
    // of a few bytes: steps stop everywhere.
    let entries: Vec<E> = (0..60)
        .flat_map(|i| {
            let long = format!("opt/{}/tool{i}", "very-long-directory-name/".repeat(5));
            [
                with_caps(file(&format!("usr/bin/ping{i}"), 0o755), &NET_BIND_EP),
                with_data(file(&long, 0o4755), &vec![i as u8; 700 * i]),
            ]
        })
        .chain([with_data(
            file("etc/passwd", 0o644),
            b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n",
        )])
        .collect();
    let tar = layer(&entries);
    let generated = [
        docker_save(Some("app"), std::slice::from_ref(&tar), &["steps:plain"]),
        docker_save(Some("app"), &[gzip(&tar)], &["steps:gzip"]),
    ];
    let mut inputs: Vec<(String, Vec<u8>, Vec<u64>)> = generated
        .into_iter()
        .enumerate()
        .map(|(i, bytes)| (format!("generated {i}"), bytes, vec![1, 7, 64, 300, 5000]))
        .collect();
    for fx in expected() {
        let file = fx["file"].as_str().unwrap();
        let bytes = std::fs::read(common::fixtures_dir().join(file)).unwrap();
        inputs.push((file.to_string(), bytes, vec![300, 1500, 20_000, 1 << 20]));
    }
    let mut layers = 0;
    for (file, bytes, widths) in inputs {
        let options = ReadOptions {
            defer_layers: true,
            ..ReadOptions::default()
        };
        let input = SeekInput::new(std::io::Cursor::new(&bytes)).unwrap();
        let Ok(contents) = rootless_check::archive::read_archive(input, &options) else {
            continue;
        };
        for layer in &contents.deferred_layers {
            let blob = &bytes[layer.offset as usize..(layer.offset + layer.size) as usize];
            if Compression::sniff(blob) == Compression::Zstd {
                continue; // walked in one go
            }
            let mut source = SeekInput::new(std::io::Cursor::new(&bytes)).unwrap();
            rootless_check::archive::input::Input::skip(&mut source, layer.offset).unwrap();
            let one_pass = rootless_check::archive::scan_deferred_layer(
                Box::new(source) as DynInput<'_>,
                layer.size,
                LayerLimits::default(),
                &rootless_check::archive::budget::Budget::of(None),
                false,
            )
            .encode();
            for &width in &widths {
                assert!(
                    summary_in_steps(&bytes, layer, width) == one_pass,
                    "{file}: {} in steps of {width} bytes",
                    layer.name
                );
            }
            layers += 1;
        }
    }
    assert!(layers >= 20, "only {layers} layers walked");
}
