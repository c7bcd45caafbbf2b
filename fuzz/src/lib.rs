//! The fuzz harness, shared by the cargo-fuzz targets (`fuzz/fuzz_targets/`)
//! and by `tests/regressions.rs`, which includes this file with `#[path]` so
//! that a regression input goes through exactly the code the fuzzer ran.
//!
//! Every function takes arbitrary bytes and panics only when the library
//! misbehaves: a panic inside the library, or a broken contract checked here
//! (an error code outside the documented set, the seekable and stream readers
//! disagreeing, renderer output that is not JSON or lets control characters
//! through, a glob that takes too long).
#![allow(dead_code)]

use std::io::Cursor;
use std::time::{Duration, Instant};

use rootless_check::analysis::caps::{self, FileCaps};
use rootless_check::analysis::config::{
    self, parse_config, parse_docker_manifest, parse_manifest_or_index,
};
use rootless_check::analysis::error::{Error, ErrorCode};
use rootless_check::analysis::json;
use rootless_check::analysis::passwd::{Groups, Passwd};
use rootless_check::analysis::policy::{self, glob_match, Ignore};
use rootless_check::analysis::tar::{self as tarfmt, PaxOverrides, TypeFlag, BLOCK};
use rootless_check::analysis::user;
use rootless_check::archive::{analyze_reader, analyze_seekable, ReadOptions};
use rootless_check::render;
use rootless_check::Report;

/// The fuzz targets, by name (the prefix of a regression file's name).
pub const TARGETS: [&str; 11] = [
    "archive",
    "json",
    "passwd_user",
    "caps",
    "tar_header",
    "glob",
    "layer_codec",
    "registry",
    "spec_yaml",
    "docker_run",
    "gzip_blocks",
];

/// Run the target `name` on `data`. `false` when there is no such target.
pub fn run_target(name: &str, data: &[u8]) -> bool {
    match name {
        "archive" => archive(data),
        "json" => json(data),
        "passwd_user" => passwd_user(data),
        "caps" => caps(data),
        "tar_header" => tar_header(data),
        "glob" => glob(data),
        "layer_codec" => layer_codec(data),
        "registry" => registry(data),
        "spec_yaml" => spec_yaml(data),
        "docker_run" => docker_run(data),
        "gzip_blocks" => gzip_blocks(data),
        _ => return false,
    }
    true
}

/// The codes an archive analysis may fail with (README, "Error codes").
pub const ARCHIVE_ERROR_CODES: [&str; 10] = [
    "E_NOT_ARCHIVE",
    "E_TRUNCATED",
    "E_CORRUPT_TAR",
    "E_CORRUPT_GZIP",
    "E_CORRUPT_ZSTD",
    "E_MISSING_BLOB",
    "E_BAD_JSON",
    "E_UNSUPPORTED_FORMAT",
    "E_LIMIT",
    "E_IO",
];

fn check_archive_code(e: &Error, what: &str) {
    assert!(
        ARCHIVE_ERROR_CODES.contains(&e.code.as_str()),
        "{what}: undocumented error code {}: {e}",
        e.code
    );
}

/// `ROOTLESS_FUZZ_SKIP=check,check`: leave out checks that already found
/// a known, reported problem, so that fuzzing goes on past it (regression
/// tests never set it). Checks: `blob-path`, `verify`.
fn skipped(check: &str) -> bool {
    std::env::var("ROOTLESS_FUZZ_SKIP").is_ok_and(|v| v.split(',').any(|c| c.trim() == check))
}

/// `ROOTLESS_FUZZ_STRICT=1`: also require the two readers' JSON reports to
/// be identical (not only Ok/Err and the error code).
fn strict() -> bool {
    std::env::var_os("ROOTLESS_FUZZ_STRICT").is_some_and(|v| v != "0")
}

/// End to end: the bytes as a whole archive, read both through seeks and as
/// a stream; both must agree; every report renders in all three formats.
pub fn archive(data: &[u8]) {
    let options = ReadOptions::default();
    let seekable = analyze_seekable(Cursor::new(data), &options);
    let stream = analyze_reader(data, &options);
    match (&seekable, &stream) {
        (Ok(_), Ok(_)) => {}
        (Err(a), Err(b)) => assert_eq!(
            a.code, b.code,
            "the seekable and stream readers fail differently: {a} / {b}"
        ),
        (Ok(_), Err(e)) => panic!("only the stream reader fails: {e}"),
        (Err(e), Ok(_)) => panic!("only the seekable reader fails: {e}"),
    }
    // `--verify` hashes every member on the way: it adds checks (digest
    // mismatches in the report) but must not change what is read.
    let verify_options = ReadOptions {
        verify: true,
        ..ReadOptions::default()
    };
    let verified = analyze_seekable(Cursor::new(data), &verify_options);
    match (&seekable, &verified) {
        _ if skipped("verify") => {}
        (Ok(_), Ok(_)) => {}
        (Err(a), Err(b)) => assert_eq!(
            a.code, b.code,
            "reading with and without verify fails differently: {a} / {b}"
        ),
        (Ok(_), Err(e)) => panic!("only the verifying read fails: {e}"),
        (Err(e), Ok(_)) => panic!("only the non-verifying read fails: {e}"),
    }
    let mut jsons = Vec::new();
    if let Ok(report) = &verified {
        check_report(report, "seekable, verify");
    }
    for (what, result) in [("seekable", &seekable), ("stream", &stream)] {
        match result {
            Ok(report) => jsons.push(check_report(report, what)),
            Err(e) => check_archive_code(e, what),
        }
    }
    if strict() && jsons.len() == 2 {
        assert_eq!(
            jsons[0], jsons[1],
            "the seekable and stream readers give different reports"
        );
    }
    // Suppressions over whatever was found (every rule, any path).
    if let Ok(mut report) = seekable {
        let ignores: Vec<Ignore> = ["setuid-root:/**", "shell-present", "capability-narrow:*"]
            .iter()
            .map(|s| Ignore::parse(s).expect("a valid ignore"))
            .collect();
        policy::apply_ignores(&mut report, &ignores);
        let _ = policy::fails(&report, Some(policy::DEFAULT_FAIL_ON));
        check_report(&report, "seekable, with ignores");
    }
}

/// Render with all three renderers and check what can be checked; returns
/// the JSON report.
fn check_report(report: &Report, what: &str) -> String {
    for e in &report.errors {
        check_archive_code(e, what);
    }
    let json = render::json::render(report);
    let value: serde_json::Value = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("{what}: the JSON report is not JSON: {e}"));
    assert_eq!(
        value["partial"].as_bool(),
        Some(report.partial),
        "{what}: JSON report without partial"
    );
    let sarif = render::sarif::render(report);
    serde_json::from_str::<serde_json::Value>(&sarif)
        .unwrap_or_else(|e| panic!("{what}: the SARIF report is not JSON: {e}"));
    let text = render::text::render(report, render::text::TextOptions::default());
    // Without colours, names from the archive must not bring control
    // characters (or bidi overrides) to a terminal.
    if let Some(c) = text.chars().find(|&c| {
        c != '\n'
            && (c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
    }) {
        panic!(
            "{what}: the text report lets {:?} through:\n{}",
            c,
            text.escape_debug()
        );
    }
    json
}

/// The three JSON document parsers, and what callers do with their results.
pub fn json(data: &[u8]) {
    check_blob_path_of(data);
    check_json_syntax(data);
    match parse_docker_manifest(data) {
        Ok(items) => {
            for item in &items {
                let names = item.config.iter().chain(item.layers.iter().flatten());
                for name in names {
                    check_blob_path_of(name.as_bytes());
                    let _ = config::digest_of_blob_path(name);
                }
                let _ = item.repo_tags.as_ref().map(|t| t.len());
            }
        }
        Err(e) => assert_eq!(e.code, ErrorCode::BadJson, "{e}"),
    }
    match parse_manifest_or_index(data) {
        Ok(m) => {
            let descriptors = m
                .manifests
                .iter()
                .flatten()
                .chain(m.config.iter())
                .chain(m.layers.iter().flatten());
            for d in descriptors {
                check_blob_path_of(d.digest.as_bytes());
                if let Some(p) = &d.platform {
                    let _ = p.display();
                }
            }
        }
        Err(e) => assert_eq!(e.code, ErrorCode::BadJson, "{e}"),
    }
    match parse_config(data) {
        Ok(c) => {
            let _ = c.layer_steps();
            let _ = config::platform_string(
                c.os.as_deref(),
                c.architecture.as_deref(),
                c.variant.as_deref(),
            );
            if let Some(run) = &c.config {
                let _ = run.entrypoint.as_ref().map(|e| e.to_vec());
                let _ = run.cmd.as_ref().map(|e| e.to_vec());
                if let Some(spec) = &run.user {
                    let _ = user::resolve(Some(spec), None, None);
                }
            }
            for id in c.rootfs.iter().flat_map(|r| r.diff_ids.iter().flatten()) {
                check_blob_path_of(id.as_bytes());
            }
        }
        Err(e) => assert_eq!(e.code, ErrorCode::BadJson, "{e}"),
    }
}

/// The hand-written reader accepts every document serde_json accepts, and
/// more only where it decodes as Go does (invalid UTF-8 and lone surrogates
/// read as U+FFFD) or where serde_json's own limits stop it (numbers out of
/// f64's range, nesting of 128).
fn check_json_syntax(data: &[u8]) {
    let mut reader = json::Reader::new(data);
    let ours = reader.skip().and_then(|_| reader.finish());
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(_) => assert!(ours.is_ok(), "serde_json accepts, we reject: {:?}", ours),
        Err(e) if ours.is_ok() => {
            let e = e.to_string();
            assert!(
                [
                    "invalid unicode code point",
                    "surrogate",
                    "end of hex escape",
                    "number out of range",
                    "recursion limit"
                ]
                .iter()
                .any(|allowed| e.contains(allowed)),
                "we accept, serde_json rejects: {e}"
            );
        }
        Err(_) => {}
    }
}

/// `blob_path` must give `blobs/<alg>/<hex>`, three plain components, so that
/// a hostile digest cannot name another member; and it must round-trip.
fn check_blob_path_of(digest: &[u8]) {
    let Ok(digest) = std::str::from_utf8(digest) else {
        return;
    };
    if skipped("blob-path") {
        let _ = config::blob_path(digest);
        return;
    }
    let Some(p) = config::blob_path(digest) else {
        return;
    };
    let parts: Vec<&str> = p.split('/').collect();
    assert!(
        parts.len() == 3
            && parts[0] == "blobs"
            && parts
                .iter()
                .all(|c| !c.is_empty() && *c != "." && *c != ".."),
        "blob_path({digest:?}) = {p:?} names something outside blobs/<alg>/"
    );
    assert_eq!(
        config::digest_of_blob_path(&p).as_deref(),
        Some(digest),
        "blob_path does not round-trip"
    );
}

/// Input: the USER spec on the first line; then `/etc/passwd`, a NUL byte and
/// `/etc/group`. A first line starting with 0xff stands for "no image config";
/// an empty passwd or group part for "no such file".
pub fn passwd_user(data: &[u8]) {
    let (spec_line, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(n) => (&data[..n], &data[n + 1..]),
        None => (data, &[][..]),
    };
    let (passwd_text, group_text) = match rest.iter().position(|&b| b == 0) {
        Some(n) => (&rest[..n], &rest[n + 1..]),
        None => (rest, rest),
    };
    let passwd = Passwd::parse(passwd_text);
    let groups = Groups::parse(group_text);
    for e in &passwd.entries {
        assert!(!e.name.is_empty() && !e.name.contains(':') && !e.name.contains('\n'));
        assert_eq!(
            passwd.by_name(&e.name).map(|f| f.name.as_str()),
            Some(e.name.as_str())
        );
        assert!(passwd.by_uid(e.uid).is_some());
    }
    for g in &groups.entries {
        assert!(!g.name.is_empty() && !g.name.contains(':') && !g.name.contains('\n'));
        assert!(g.members.iter().all(|m| !m.is_empty() && !m.contains(',')));
        assert!(groups.by_gid(g.gid).is_some());
    }
    let spec = String::from_utf8_lossy(spec_line);
    let configured = if spec_line.first() == Some(&0xff) {
        None
    } else {
        Some(spec.as_ref())
    };
    let passwd = (!passwd_text.is_empty()).then_some(&passwd);
    let groups = (!group_text.is_empty()).then_some(&groups);
    let facts = user::resolve(configured, passwd, groups);
    match configured {
        None => {
            assert_eq!(facts.configured, None);
            assert_eq!((facts.uid, facts.gid), (None, None));
        }
        Some(spec) => {
            assert_eq!(facts.configured.as_deref(), Some(spec));
            // A user name that resolved: the uid is that user's.
            let user_part = spec.split(':').next().unwrap_or("");
            let is_name = !user_part.is_empty() && !user_part.bytes().all(|b| b.is_ascii_digit());
            if let (true, Some(uid), Some(p)) = (is_name, facts.uid, passwd) {
                assert_eq!(facts.name.as_deref(), Some(user_part), "{facts:?}");
                assert_eq!(p.by_name(user_part).map(|e| e.uid), Some(uid), "{facts:?}");
            }
            // A known uid without a group gets a gid.
            if facts.uid.is_some() && !spec.contains(':') {
                assert!(facts.gid.is_some(), "{facts:?}");
            }
        }
    }
    let _ = serde_json::to_string(&facts).expect("user facts serialise");
}

/// `security.capability` values: the whole input, and its first 12/20/24 bytes.
pub fn caps(data: &[u8]) {
    for raw in [
        data,
        &data[..data.len().min(12)],
        &data[..data.len().min(20)],
        &data[..data.len().min(24)],
    ] {
        let Some(c) = FileCaps::decode(raw) else {
            continue;
        };
        assert!(matches!(
            (c.revision, raw.len()),
            (1, 12) | (2, 20) | (3, 24)
        ));
        assert_eq!(c.root_id.is_some(), c.revision == 3);
        let p = c.permitted_names();
        let i = c.inheritable_names();
        assert_eq!(p.len(), c.permitted.count_ones() as usize);
        assert_eq!(i.len(), c.inheritable.count_ones() as usize);
        let text = c.to_getcap_string();
        assert!(text.contains('+'));
        for n in p.iter().chain(&i) {
            assert!(n.starts_with("cap_"));
            assert!(text.contains(n.as_str()));
        }
        let _ = serde_json::to_string(&c).expect("caps serialise");
    }
    if data.len() >= 8 {
        let mask = u64::from_le_bytes(data[..8].try_into().unwrap());
        assert_eq!(caps::names(mask).len(), mask.count_ones() as usize);
    }
}

/// Every 512-byte block of the input as a tar header; a PAX header's body
/// (the blocks after it) through the PAX parser; and the whole input too.
pub fn tar_header(data: &[u8]) {
    let mut pax = PaxOverrides::default();
    if let Err(e) = tarfmt::parse_pax(data, &mut pax) {
        assert_eq!(e.code, ErrorCode::CorruptTar, "{e}");
    }
    let mut at = 0;
    while at + BLOCK <= data.len() {
        let block: &[u8; BLOCK] = data[at..at + BLOCK].try_into().unwrap();
        at += BLOCK;
        let _ = tarfmt::is_zero_block(block);
        let _ = tarfmt::sparse_block_continues(block);
        let sniffed = tarfmt::looks_like_header(block);
        match tarfmt::parse_header(block) {
            Ok(h) => {
                assert!(sniffed || tarfmt::is_zero_block(block));
                assert!(h.mode <= 0o7777);
                if matches!(h.type_flag, TypeFlag::PaxLocal | TypeFlag::PaxGlobal) {
                    let end = at.saturating_add(h.size.min(data.len() as u64) as usize);
                    let body = &data[at..end.min(data.len())];
                    let mut o = PaxOverrides::default();
                    if let Err(e) = tarfmt::parse_pax(body, &mut o) {
                        assert_eq!(e.code, ErrorCode::CorruptTar, "{e}");
                    }
                }
            }
            Err(e) => assert_eq!(e.code, ErrorCode::CorruptTar, "{e}"),
        }
    }
}

/// Longest a single glob match may take: it must stay polynomial (about
/// pattern × text steps), never exponential.
pub const GLOB_TIME_LIMIT: Duration = Duration::from_millis(500);

/// Input: pattern, a NUL byte, text (or a newline, if there is no NUL). The
/// first line is also tried as an ignore spec, and the whole input as an
/// ignore file.
pub fn glob(data: &[u8]) {
    let (pattern, text) = match data.iter().position(|&b| b == 0) {
        Some(n) => (&data[..n], &data[n + 1..]),
        None => match data.iter().position(|&b| b == b'\n') {
            Some(n) => (&data[..n], &data[n + 1..]),
            None => (data, &b"/usr/bin/passwd"[..]),
        },
    };
    let start = Instant::now();
    let matched = glob_match(pattern, text);
    let took = start.elapsed();
    assert!(
        took < GLOB_TIME_LIMIT,
        "glob_match took {took:?} on a {}-byte pattern and a {}-byte text",
        pattern.len(),
        text.len()
    );
    if std::env::var_os("ROOTLESS_FUZZ_GLOB_ORACLE").is_some() {
        assert_eq!(
            matched,
            reference_glob(pattern, text),
            "glob_match({:?}, {:?}) disagrees with the reference matcher",
            String::from_utf8_lossy(pattern),
            String::from_utf8_lossy(text)
        );
    }
    let spec = String::from_utf8_lossy(pattern);
    if let Ok(ignore) = Ignore::parse(&spec) {
        let path = String::from_utf8_lossy(text);
        let _ = ignore.matches(&ignore.rule.clone(), Some(&path));
        let _ = ignore.matches(&ignore.rule.clone(), None);
    }
    if let Ok(file) = std::str::from_utf8(data) {
        if let Err(e) = policy::parse_ignore_file(file) {
            assert_eq!(e.code, ErrorCode::Usage, "{e}");
        }
    }
}

/// A plain dynamic-programming matcher with the documented semantics (`*`
/// within a component, `**` across components, `?` one character but not
/// '/'), to compare with `glob_match`. O(pattern × text).
pub fn reference_glob(pattern: &[u8], text: &[u8]) -> bool {
    #[derive(Clone, Copy)]
    enum Tok {
        Star,
        Double,
        Any,
        Byte(u8),
    }
    let mut toks = Vec::new();
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'*' if pattern.get(i + 1) == Some(&b'*') => {
                toks.push(Tok::Double);
                i += 2;
                continue;
            }
            b'*' => toks.push(Tok::Star),
            b'?' => toks.push(Tok::Any),
            b => toks.push(Tok::Byte(b)),
        }
        i += 1;
    }
    // m[j]: the tokens so far match text[..j].
    let n = text.len();
    let mut m = vec![false; n + 1];
    m[0] = true;
    for tok in toks {
        let mut next = vec![false; n + 1];
        match tok {
            Tok::Double => {
                let mut any = false;
                for j in 0..=n {
                    any |= m[j];
                    next[j] = any;
                }
            }
            Tok::Star => {
                for j in 0..=n {
                    next[j] = m[j] || (j > 0 && next[j - 1] && text[j - 1] != b'/');
                }
            }
            Tok::Any => {
                for j in 1..=n {
                    next[j] = m[j - 1] && text[j - 1] != b'/';
                }
            }
            Tok::Byte(b) => {
                for j in 1..=n {
                    next[j] = m[j - 1] && text[j - 1] == b;
                }
            }
        }
        m = next;
    }
    m[n]
}

/// Layer summaries as bytes (what parallel workers hand back): arbitrary
/// bytes either are refused or decode to a summary that every accessor can
/// read and that encodes back to the same bytes; and the summary of any
/// bytes read as a layer survives the round trip.
pub fn layer_codec(data: &[u8]) {
    use rootless_check::analysis::layer::{Compression, LayerLimits, LayerSummary, PathKey};
    use rootless_check::analysis::merge::MergedView;
    use rootless_check::archive::input::StreamInput;

    let check = |summary: &LayerSummary| {
        for e in summary.entries() {
            assert!(summary.get(e.path).is_some());
            let _ = e.caps.map(|c| c.permitted_names());
        }
        // Plain files (kept as path hashes) are counted but not listed.
        let merged = MergedView::merge(&[summary, summary]);
        assert!(merged.iter().count() <= merged.len());
        assert!(merged.len() <= summary.len() + summary.plain_len());
        for e in &summary.errors {
            let _ = format!("{}", e);
        }
    };
    if let Some(summary) = LayerSummary::decode(data) {
        check(&summary);
        assert_eq!(summary.encode(), data, "decode/encode is not the identity");
    }
    let input = Box::new(StreamInput::new(Cursor::new(data)));
    let limits = LayerLimits {
        max_entries: 10_000,
        path_key: PathKey::new([1, 2]),
        ..LayerLimits::default()
    };
    // The analysis's default decompression budget for an input of this size.
    let budget = rootless_check::archive::budget::Budget::new(
        rootless_check::analysis::budget::MaxDecompressed::Auto,
        Some(data.len() as u64),
    );
    let layer = rootless_check::archive::LayerRead {
        limits,
        budget: &budget,
        digest: false,
    };
    let summary = rootless_check::archive::scan_layer(
        input,
        Compression::sniff(data),
        data.len() as u64,
        &layer,
    );
    let bytes = summary.encode();
    let back = LayerSummary::decode(&bytes).expect("a summary's own bytes decode");
    assert_eq!(back.encode(), bytes);
    check(&back);
}

/// What registries, token services, auth files and eStargz blobs send
/// (issue 16): every parser of it on the same bytes (see
/// `rootless_check::source::parse_untrusted` for what each must hold).
pub fn registry(data: &[u8]) {
    rootless_check::source::parse_untrusted(data);
}

/// Compose files and Kubernetes manifests (the YAML spec reader): the first
/// byte picks the reader, the rest is the file (lossy UTF-8, as a file read
/// with `read_to_string` would fail instead). What parses is held against a
/// small image and the reports rendered; spec errors must carry positions
/// inside the text.
pub fn spec_yaml(data: &[u8]) {
    use rootless_check::analysis::spec::{compose, k8s};
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    // Variables: some set, some empty, some missing, so that every
    // interpolation form (`${A:-x}`, `${B?err}`, `$$`) takes each branch.
    let lookup = |name: &str| match name.as_bytes().first() {
        Some(b'A'..=b'M') => Some(format!("v-{name}")),
        Some(b'N'..=b'S') => Some(String::new()),
        _ => None,
    };
    let parsed = if selector & 1 == 0 {
        let env = compose::Env {
            lookup: &lookup,
            dotenv: compose::parse_dotenv(&text),
        };
        compose::parse(&text, Some("compose.yml"), &env)
    } else {
        k8s::parse(&text, Some("pod.yaml"))
    };
    match parsed {
        Ok(specs) => hold_specs(&specs.runs),
        Err(e) => {
            // Line breaks as YAML counts them: LF, CRLF and a lone CR.
            let lines = text.replace("\r\n", "\n").matches(['\n', '\r']).count() as u32 + 1;
            if let Some(line) = e.line {
                assert!(
                    line >= 1 && line <= lines,
                    "error line {line} outside the text: {e}"
                );
            }
        }
    }
}

/// `docker run`/`podman run` options (`--run`): the text through the shell
/// splitter, and the same bytes split at NUL as ready-made words.
pub fn docker_run(data: &[u8]) {
    use rootless_check::analysis::spec::docker_run;
    let text = String::from_utf8_lossy(data);
    if let Ok(specs) = docker_run::parse(&text) {
        hold_specs(&specs.runs);
    }
    let words: Vec<String> = text.split('\0').map(String::from).collect();
    if let Ok(specs) = docker_run::parse_words(&words) {
        hold_specs(&specs.runs);
    }
}

/// Hold specs against a small image (USER app, a setuid-root s6 helper,
/// gosu, /run owned by root) and render the report with every renderer.
fn hold_specs(runs: &[rootless_check::analysis::spec::RunSpec]) {
    use rootless_check::analysis::runs;
    let mut report = spec_image().clone();
    let mut fetches = 0;
    runs::hold(&mut report, runs, &mut |_| {
        fetches += 1;
        assert!(
            fetches <= runs.len(),
            "fetched more often than there are runs"
        );
        Err(String::from("not fetched while fuzzing"))
    });
    assert_eq!(report.runs.len(), runs.len(), "one run report per spec");
    let held = report.runs.len();
    // Each spec also against the image directly, whatever image it names
    // (pairing by name leaves most of a mutated compose file unpaired).
    for spec in runs {
        report.runs.push(runs::predict(spec, &report.images[0], 0));
        let _ = runs::pss(spec, Some(0));
        let _ = runs::pss(spec, None);
    }
    assert!(
        report.runs[held..]
            .iter()
            .all(|r| r.outcome != rootless_check::analysis::report::RunOutcome::NotChecked),
        "a run held against the image was not checked"
    );
    check_report(&report, "runs");
    let _ = policy::fails(&report, Some(policy::DEFAULT_FAIL_ON));
}

fn spec_image() -> &'static Report {
    static IMAGE: std::sync::OnceLock<Report> = std::sync::OnceLock::new();
    IMAGE.get_or_init(|| {
        let layer = tar_bytes(&[
            ("etc/", 0o40755, 0, b"" as &[u8]),
            ("etc/passwd", 0o100644, 0, b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\n"),
            ("etc/group", 0o100644, 0, b"root:x:0:\napp:x:1000:\nnogroup:x:65534:\n"),
            ("run/", 0o40755, 0, b""),
            ("init", 0o100755, 0, b"#!/bin/sh\nexec s6-overlay-suexec\n"),
            ("command/s6-overlay-suexec", 0o104755, 0, b"\x7fELF"),
            ("usr/local/bin/gosu", 0o104755, 0, b"\x7fELF"),
            ("bin/sh", 0o100755, 0, b"\x7fELF"),
        ]);
        let config = br#"{"architecture":"amd64","os":"linux","config":{"User":"app","Entrypoint":["/init"],"ExposedPorts":{"80/tcp":{}}},"rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]},"history":[{"created_by":"COPY . /"}]}"#;
        let manifest = br#"[{"Config":"config.json","RepoTags":["fuzz/app:1"],"Layers":["layer.tar"]}]"#;
        let archive = tar_bytes(&[
            ("config.json", 0o100644, 0, config as &[u8]),
            ("layer.tar", 0o100644, 0, &layer),
            ("manifest.json", 0o100644, 0, manifest),
        ]);
        analyze_seekable(Cursor::new(archive), &ReadOptions::default())
            .expect("the fuzz harness's own image reads")
    })
}

/// A ustar archive of `(path, mode with type bits, uid, contents)`.
fn tar_bytes(entries: &[(&str, u32, u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(path, mode, uid, data) in entries {
        let mut h = [0u8; 512];
        h[..path.len()].copy_from_slice(path.as_bytes());
        let octal = |h: &mut [u8; 512], at: usize, width: usize, value: u64| {
            let s = format!("{:0w$o}", value, w = width - 1);
            h[at..at + width - 1].copy_from_slice(s.as_bytes());
        };
        octal(&mut h, 100, 8, u64::from(mode & 0o7777));
        octal(&mut h, 108, 8, u64::from(uid));
        octal(&mut h, 116, 8, u64::from(uid));
        octal(&mut h, 124, 12, data.len() as u64);
        octal(&mut h, 136, 12, 0);
        h[156] = if mode & 0o170000 == 0o40000 {
            b'5'
        } else {
            b'0'
        };
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        let s = format!("{:06o}\0 ", sum);
        h[148..156].copy_from_slice(s.as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}
/// The parallel gzip decoder (issue 17): the block finder at every bit
/// offset, then the bytes decoded in small chunks on two threads against
/// the sequential decoder: the same bytes, or errors of the same kind after
/// a common prefix. Seeds are real gzip files (`gzip -1..-9`): the
/// mutations reach the finder, the markers, the chain checks and the
/// fallbacks.
pub fn gzip_blocks(data: &[u8]) {
    use rootless_check::archive::gzip::GzipReader;
    use rootless_check::archive::pgzip::{plausible_block, ParallelGunzip};
    use std::io::Read;

    for p in 0..data.len().min(4096) as u64 * 8 {
        let _ = plausible_block(data, p);
    }
    const LIMIT: u64 = 16 << 20;
    let read = |r: &mut dyn Read| {
        let mut out = Vec::new();
        let e = r.take(LIMIT).read_to_end(&mut out).err();
        (out, e)
    };
    let (seq, seq_err) = read(&mut GzipReader::new(data));
    let chunk = 256 + data.len() % 3000;
    let mut par = ParallelGunzip::with_chunks(Box::new(data), 2, chunk, 1 << 20);
    let (out, err) = read(&mut par);
    match (&seq_err, &err) {
        (None, None) => assert!(out == seq, "different bytes"),
        (Some(a), Some(b)) => {
            assert_eq!(a.kind(), b.kind(), "{a} vs {b}");
            let n = out.len().min(seq.len());
            assert!(out[..n] == seq[..n], "different bytes before the error");
        }
        (a, b) => panic!(
            "sequential {a:?} ({} bytes), parallel {b:?} ({} bytes)",
            seq.len(),
            out.len()
        ),
    }
    split_gunzip_agrees(data, &seq, seq_err.is_none(), LIMIT);
}

/// Node's two-thread gunzip trusts the split decoder (members inflated raw,
/// trailers checked by the caller) only when it ends cleanly and every
/// trailer matches its member's bytes: then the sequential decoder must
/// give the same bytes without error.
fn split_gunzip_agrees(data: &[u8], seq: &[u8], seq_ok: bool, limit: u64) {
    use rootless_check::archive::split_gunzip::{Piece, SplitGunzip};
    let mut d = SplitGunzip::new(data);
    let mut buf = vec![0u8; 1 + data.len() % 5000];
    let (mut out, mut member, mut trailers_match) = (Vec::new(), 0usize, true);
    loop {
        match d.next(&mut buf) {
            Ok(Piece::Bytes(n)) => {
                assert!(n > 0 && n <= buf.len());
                out.extend_from_slice(&buf[..n]);
                if out.len() as u64 > limit {
                    return;
                }
            }
            Ok(Piece::MemberEnd(t)) => {
                let bytes = &out[member..];
                trailers_match &=
                    t.crc == zlib_rs::crc32::crc32(0, bytes) && t.size == bytes.len() as u32;
                member = out.len();
            }
            Ok(Piece::End) => break,
            Err(_) => return,
        }
    }
    assert_eq!(d.taken(), data.len() as u64, "a clean end uses every byte");
    if trailers_match {
        assert!(
            seq_ok,
            "the split decoder ended cleanly, the sequential one did not"
        );
        assert!(out == seq, "different bytes");
    }
}
