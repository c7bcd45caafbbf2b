//! Sources named rather than given as archives (issue 14), against real
//! components on 127.0.0.1 that `scripts/services.sh` starts once per run
//! (Debian's docker-registry with Basic and with token auth, a token
//! server, a fault-injecting proxy, dockerd; see tests/support/README.md):
//! every fixture pushed to a registry, copied to an OCI layout and loaded
//! into the daemon gives its archive's facts and verdict.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use rootless_check::archive::{analyze_path, ReadOptions};
use rootless_check::source::{analyze_source, auth, Source, SourceOptions};
use rootless_check::ErrorCode;
use serde_json::Value;

/// The services' description (`STATE/env.json`), started once for all tests.
fn services() -> &'static Value {
    static ENV: OnceLock<Value> = OnceLock::new();
    ENV.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new("bash")
            .arg(root.join("scripts/services.sh"))
            .arg("start")
            .output()
            .expect("cannot run scripts/services.sh");
        assert!(
            out.status.success(),
            "scripts/services.sh start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or("")
            .to_string();
        serde_json::from_slice(&std::fs::read(path.trim()).expect("env.json"))
            .expect("env.json is JSON")
    })
}

fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("env.json has no {}", pointer))
}

fn options(authfile: Option<&str>) -> SourceOptions {
    SourceOptions {
        tls_verify: false,
        auth: auth::Lookup {
            creds: None,
            authfile: authfile.map(PathBuf::from),
        },
        ..SourceOptions::default()
    }
}

fn json(report: &rootless_check::Report) -> Value {
    serde_json::from_str(&rootless_check::render::json::render(report)).unwrap()
}

/// What must be the same whatever the source: per image, the verdict and
/// its reasons, the findings (rule, severity, path), the user, the
/// setuid/setgid files, capabilities, s6-overlay and no-new-privileges.
fn facts(report: &Value) -> Value {
    let images: Vec<Value> = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let findings: Vec<Value> = i["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| serde_json::json!([f["rule"], f["severity"], f["path"]]))
                .collect();
            let setuid: Vec<Value> = i["setuidFiles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| serde_json::json!([f["path"], f["mode"], f["uid"], f["gid"]]))
                .collect();
            serde_json::json!({
                "verdict": i["verdict"], "reasons": i["verdictReasons"], "findings": findings,
                "user": i["user"], "setuid": setuid, "capabilities": i["capabilities"],
                "s6": i["s6"], "nnp": i["noNewPrivileges"], "platform": i["platform"],
                "config": i["config"], "mergedEntries": i["mergedEntries"],
            })
        })
        .collect();
    Value::Array(images)
}

fn archive_facts(fixture: &str) -> Value {
    let path = common::fixtures_dir().join(fixture);
    facts(&json(
        &analyze_path(&path, &ReadOptions::default()).unwrap(),
    ))
}

fn registry(
    reference: &str,
    options: &SourceOptions,
) -> Result<rootless_check::Report, rootless_check::Error> {
    let source = Source::parse(reference.as_ref(), &|_: &Path| false).unwrap();
    analyze_source(&source, reference, options)
}

#[test]
fn every_pushed_fixture_gives_its_archives_facts_from_the_registry_and_a_layout() {
    let env = services();
    let host = s(env, "/registryBasic/host");
    let authfile = s(env, "/registryBasic/authfile");
    let images = env["images"].as_array().unwrap();
    assert!(images.len() >= 20, "only {} images pushed", images.len());
    for image in images {
        let fixture = s(image, "/fixture");
        let expected = archive_facts(fixture);
        let reference = format!(
            "docker://{}/{}:{}",
            host,
            s(image, "/repo"),
            s(image, "/tag")
        );
        let report = registry(&reference, &options(Some(authfile)))
            .unwrap_or_else(|e| panic!("{}: {}", reference, e));
        let got = json(&report);
        assert_eq!(facts(&got), expected, "{} from {}", fixture, reference);
        let source = &got["input"]["source"];
        assert_eq!(source["kind"], "registry");
        assert_eq!(source["digest"], image["manifestDigest"], "{}", fixture);
        assert_eq!(source["repository"], image["repo"]);
        assert!(!report.partial, "{}", fixture);

        let layout = format!("oci:{}:{}", s(image, "/layout"), s(image, "/layoutRef"));
        let source = Source::parse(layout.as_ref(), &|_: &Path| false).unwrap();
        let report = analyze_source(&source, &layout, &options(None))
            .unwrap_or_else(|e| panic!("{}: {}", layout, e));
        let got = json(&report);
        assert_eq!(facts(&got), expected, "{} from {}", fixture, layout);
        assert_eq!(got["input"]["source"]["digest"], image["layoutDigest"]);
    }
}

/// `--verify` on images by name: every manifest, config and layer the
/// source checked is counted, every layer's uncompressed stream is held
/// against the config's diff_id, and nothing else changes.
#[test]
fn verify_counts_every_blob_of_a_registry_image_and_a_layout() {
    let env = services();
    let host = s(env, "/registryBasic/host");
    let authfile = s(env, "/registryBasic/authfile");
    let verifying = |authfile: Option<&str>| SourceOptions {
        read: ReadOptions {
            verify: true,
            ..ReadOptions::default()
        },
        ..options(authfile)
    };
    let mut verified = 0;
    for image in env["images"].as_array().unwrap() {
        let fixture = s(image, "/fixture");
        let reference = format!(
            "docker://{}/{}:{}",
            host,
            s(image, "/repo"),
            s(image, "/tag")
        );
        let layout = format!("oci:{}:{}", s(image, "/layout"), s(image, "/layoutRef"));
        for (name, authfile) in [(&reference, Some(authfile)), (&layout, None)] {
            let source = Source::parse(name.as_ref(), &|_: &Path| false).unwrap();
            let report = analyze_source(&source, name, &verifying(authfile))
                .unwrap_or_else(|e| panic!("{}: {}", name, e));
            let got = json(&report);
            assert_eq!(
                facts(&got),
                archive_facts(fixture),
                "{} from {}",
                fixture,
                name
            );
            for i in got["images"].as_array().unwrap() {
                let v = &i["verification"];
                assert_eq!(v["mismatches"], serde_json::json!([]), "{}: {}", name, v);
                // A config, a manifest and one layer at least, each checked.
                assert!(v["verified"].as_u64().unwrap() >= 3, "{}: {}", name, v);
                verified += v["verified"].as_u64().unwrap();
            }
        }
    }
    assert!(verified > 0);
}

/// An `identitytoken` (what `docker login` stores when the token service
/// hands out OAuth2 refresh tokens) is exchanged with the refresh-token
/// grant, from an auth file and from a credential helper answering
/// `Username: <token>`; a wrong one is E_AUTH.
#[test]
fn identity_tokens_are_exchanged_at_the_token_service() {
    let env = services();
    let host = s(env, "/registryToken/host");
    let private = &env["privateImages"][0];
    let reference = format!("docker://{}/{}:latest", host, s(private, "/repo"));
    let stats = || -> Value {
        let url = s(env, "/registryToken/statsUrl");
        let out = Command::new("curl").args(["-sf", url]).output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let refresh_grants = || {
        stats()["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["grant"] == "refresh_token" && r["status"] == 200)
            .count()
    };
    let before = refresh_grants();
    let report = registry(
        &reference,
        &options(Some(s(env, "/registryToken/authfileIdentity"))),
    )
    .unwrap();
    assert_eq!(facts(&json(&report)), archive_facts(s(private, "/fixture")));
    assert!(
        refresh_grants() > before,
        "no refresh-token grant: {}",
        stats()
    );

    // A helper holding the token, through the CLI (PATH and HOME its own).
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("identity-helper");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::fs::create_dir_all(home.join("bin")).unwrap();
    let token = std::fs::read_to_string(s(env, "/registryToken/authfileIdentity")).unwrap();
    let token: Value = serde_json::from_str(&token).unwrap();
    let token = token["auths"][host]["identitytoken"]
        .as_str()
        .unwrap()
        .to_string();
    let helper = home.join("bin/docker-credential-rcidentity");
    let write_helper = |secret: &str| {
        std::fs::write(
            &helper,
            format!(
                "#!/bin/sh\nread server\n[ \"$server\" = \"{host}\" ] || exit 1\necho '{{\"Username\":\"<token>\",\"Secret\":\"{secret}\"}}'\n"
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    std::fs::write(
        home.join(".docker/config.json"),
        format!(r#"{{"credHelpers": {{"{host}": "rcidentity"}}}}"#),
    )
    .unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_rootless-check"))
            .args([
                "--tls-verify=false",
                "--format",
                "json",
                "--fail-on",
                "none",
                &reference,
            ])
            .env("HOME", &home)
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", home.join("bin").display()),
            )
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("DOCKER_CONFIG")
            .env_remove("XDG_RUNTIME_DIR")
            .output()
            .unwrap()
    };
    write_helper(&token);
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(facts(&got), archive_facts(s(private, "/fixture")));

    write_helper("not-the-identity-token");
    let out = run();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("E_AUTH"), "{}", stderr);
    assert!(!stderr.contains(&token), "the token must never be shown");
}

#[test]
fn token_auth_anonymous_for_public_credentials_for_private() {
    let env = services();
    let host = s(env, "/registryToken/host");
    let public = &env["images"][0];
    let reference = format!("docker://{}/{}:latest", host, s(public, "/tokenRepo"));
    let report = registry(&reference, &options(Some("/nonexistent/auth.json"))).unwrap();
    assert_eq!(facts(&json(&report)), archive_facts(s(public, "/fixture")));

    let private = &env["privateImages"][0];
    let reference = format!("docker://{}/{}:latest", host, s(private, "/repo"));
    let e = registry(&reference, &options(Some("/nonexistent/auth.json"))).unwrap_err();
    assert_eq!(e.code, ErrorCode::Auth, "{}", e);
    assert!(
        e.message.contains("/nonexistent/auth.json"),
        "names what was tried: {}",
        e
    );
    let report = registry(
        &reference,
        &options(Some(s(env, "/registryToken/authfile"))),
    )
    .unwrap();
    assert_eq!(facts(&json(&report)), archive_facts(s(private, "/fixture")));
    // --creds wins over the files; wrong ones are refused, and never shown.
    let mut wrong = options(Some(s(env, "/registryToken/authfile")));
    wrong.auth.creds = Some(String::from("rcuser:not-the-password-x9"));
    let e = registry(&reference, &wrong).unwrap_err();
    assert_eq!(e.code, ErrorCode::Auth);
    assert!(
        e.message.contains("--creds") && !e.to_string().contains("not-the-password-x9"),
        "{}",
        e
    );
}

/// The CLI: exit codes, one line on stderr, and the password nowhere.
#[test]
fn cli_errors_are_stable_codes_and_never_show_secrets() {
    let env = services();
    let host = s(env, "/registryBasic/host");
    let password = s(env, "/registryBasic/password");
    let repo = s(&env["images"][0], "/repo");
    let run = |args: &[&str], env_vars: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rootless-check"));
        cmd.args(args)
            .env("HOME", "/nonexistent")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("DOCKER_CONFIG")
            .env_remove("XDG_CONFIG_HOME");
        for (k, v) in env_vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let reference = format!("{}/{}:latest", host, repo);
    let (code, out, err) = run(&["--tls-verify=false", &reference], &[]);
    assert_eq!(code, Some(2), "{}", err);
    assert!(
        out.is_empty() && err.starts_with("rootless-check: E_AUTH: ") && err.lines().count() == 1,
        "{}",
        err
    );

    let authfile = s(env, "/registryBasic/authfile");
    let (code, out, err) = run(
        &[
            "--tls-verify=false",
            "--authfile",
            authfile,
            "-f",
            "json",
            &format!("docker://{}", reference),
        ],
        &[],
    );
    assert!(code == Some(0) || code == Some(1), "{}", err);
    assert!(out.contains("\"kind\": \"registry\""));

    let (code, _, err) = run(
        &[
            "--tls-verify=false",
            "--authfile",
            authfile,
            &format!("{}/{}:no-such-tag", host, repo),
        ],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with("rootless-check: E_NOT_FOUND: ") && err.contains("no-such-tag"),
        "{}",
        err
    );

    let creds = format!("rcuser:{}", password);
    let (code, out, err) = run(
        &[
            "--tls-verify=false",
            "--creds",
            &creds,
            "-f",
            "json",
            &reference,
        ],
        &[],
    );
    assert!(code == Some(0) || code == Some(1), "{}", err);
    assert!(!out.contains(password) && !err.contains(password));
    let wrong = format!("rcuser:{}-wrong", password);
    let (code, out, err) = run(&["--tls-verify=false", "--creds", &wrong, &reference], &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("E_AUTH") && !out.contains(password) && !err.contains(password),
        "{}",
        err
    );
    // The same password through REGISTRY_AUTH_FILE.
    let (code, out, err) = run(
        &["--tls-verify=false", "-f", "sarif", &reference],
        &[("REGISTRY_AUTH_FILE", authfile)],
    );
    assert!(code == Some(0) || code == Some(1), "{}", err);
    assert!(!out.contains(password) && !err.contains(password));
    // TLS is verified unless turned off: this registry speaks plain HTTP.
    let (code, _, err) = run(&["--authfile", authfile, &reference], &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with("rootless-check: E_NETWORK: ") && err.contains("--tls-verify=false"),
        "{}",
        err
    );
}

#[test]
fn platforms_of_an_index() {
    let env = services();
    let host = s(env, "/registryBasic/host");
    let authfile = s(env, "/registryBasic/authfile");
    let multi = &env["multiarch"];
    let reference = format!(
        "docker://{}/{}:{}",
        host,
        s(multi, "/repo"),
        s(multi, "/tag")
    );
    let mut o = options(Some(authfile));
    o.platform = Some(String::from("linux/amd64"));
    let amd = json(&registry(&reference, &o).unwrap());
    assert_eq!(amd["images"].as_array().unwrap().len(), 1);
    assert_eq!(amd["images"][0]["platform"], "linux/amd64");
    assert_eq!(amd["input"]["source"]["digest"], multi["indexDigest"]);
    assert_eq!(
        amd["input"]["source"]["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64/v8"])
    );
    assert_eq!(facts(&amd), archive_facts(s(multi, "/platforms/0/fixture")));
    o.platform = Some(String::from("linux/arm64"));
    let arm = json(&registry(&reference, &o).unwrap());
    assert_eq!(arm["images"][0]["platform"], "linux/arm64/v8");
    assert_eq!(
        arm["images"][0]["manifestDigest"],
        multi["platforms"][1]["manifestDigest"]
    );
    o.platform = Some(String::from("linux/s390x"));
    let e = registry(&reference, &o).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert!(e.message.contains("linux/amd64, linux/arm64/v8"), "{}", e);
    o.platform = None;
    o.all_platforms = true;
    let all = json(&registry(&reference, &o).unwrap());
    assert_eq!(all["images"].as_array().unwrap().len(), 2);
}

/// Faults between client and registry (the proxy in tests/support): the
/// report comes out right, or the right code within the retry budget.
#[test]
fn faults_retried_resumed_or_refused_with_the_right_code() {
    let env = services();
    let proxy = s(env, "/proxy/base");
    let authfile = s(env, "/registryBasic/authfile");
    let image = env["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["fixture"] == "built/s6-overlay-v3.docker-archive.tar")
        .expect("the s6 fixture is pushed");
    let repo = s(image, "/repo");
    let expected = archive_facts(s(image, "/fixture"));
    let _ = curl_reset(s(env, "/proxy/resetUrl"));
    for mode in ["ok", "cut", "429", "503", "slow", "redirect"] {
        let reference = format!("docker://{}/{}.sources/{}:latest", proxy, mode, repo);
        let started = std::time::Instant::now();
        let report = registry(&reference, &options(Some(authfile)))
            .unwrap_or_else(|e| panic!("{}: {}", mode, e));
        assert_eq!(facts(&json(&report)), expected, "mode {}", mode);
        assert!(
            started.elapsed().as_secs() < 60,
            "mode {} took {:?}",
            mode,
            started.elapsed()
        );
    }
    let stats: Value = serde_json::from_str(&curl_get(s(env, "/proxy/statsUrl"))).unwrap();
    assert_eq!(
        stats["redirectAuthSeen"], 0,
        "Authorization was sent to another host: {}",
        stats
    );
    for (mode, code) in [
        ("hostile-digest", ErrorCode::DigestMismatch),
        ("hostile-blobdigest", ErrorCode::DigestMismatch),
        ("hostile-ctype", ErrorCode::Registry),
        ("hostile-loop", ErrorCode::Network),
        ("hostile-endless", ErrorCode::LimitExceeded),
        ("hostile-bigmanifest", ErrorCode::LimitExceeded),
        // One byte a second: cut off after 20 s, not waited for.
        ("hostile-drip", ErrorCode::Network),
    ] {
        let reference = format!("docker://{}/{}.sources/{}:latest", proxy, mode, repo);
        let started = std::time::Instant::now();
        let e = registry(&reference, &options(Some(authfile))).unwrap_err();
        assert_eq!(e.code, code, "mode {}: {}", mode, e);
        assert!(
            started.elapsed().as_secs() < 60,
            "mode {} took {:?}",
            mode,
            started.elapsed()
        );
    }
}

fn curl_get(url: &str) -> String {
    let out = Command::new("curl")
        .args(["-sf", "--max-time", "10", url])
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn curl_reset(url: &str) -> String {
    let out = Command::new("curl")
        .args(["-sf", "--max-time", "10", "-X", "POST", url])
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn the_daemon_streams_what_docker_save_would() {
    let env = services();
    if env["docker"]["available"] != true {
        eprintln!(
            "skipped: dockerd is not available here: {}",
            env["docker"]["reason"]
        );
        return;
    }
    let host = s(env, "/docker/host");
    // One process-wide variable: this is the only test that sets it.
    std::env::set_var("DOCKER_HOST", host);
    for image in env["docker"]["images"].as_array().unwrap() {
        let given = format!("docker-daemon:{}", s(image, "/ref"));
        let source = Source::parse(given.as_ref(), &|_: &Path| false).unwrap();
        let report = analyze_source(&source, &given, &options(None))
            .unwrap_or_else(|e| panic!("{}: {}", given, e));
        let got = json(&report);
        assert_eq!(
            facts(&got),
            archive_facts(s(image, "/fixture")),
            "{}",
            given
        );
        assert_eq!(got["input"]["source"]["kind"], "docker-daemon");
    }
    let e = analyze_source(
        &Source::Daemon(String::from("fixtures/no-such-image:1")),
        "x",
        &options(None),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound, "{}", e);
    std::env::set_var("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let e = analyze_source(&Source::Daemon(String::from("x")), "x", &options(None)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Network, "{}", e);
}

/// One entry of a layer tar as a TOC (eStargz, zstd:chunked) lists it,
/// offsets aside; with its content and where that starts in the tar.
fn toc_entry(entry: &mut tar::Entry<'_, std::io::Cursor<&[u8]>>) -> (Value, Vec<u8>, usize) {
    use base64::Engine;
    let header = entry.header().clone();
    let start = entry.raw_file_position() as usize;
    let kind = match header.entry_type() {
        tar::EntryType::Directory => "dir",
        tar::EntryType::Symlink => "symlink",
        tar::EntryType::Link => "hardlink",
        _ => "reg",
    };
    let mut toc = serde_json::json!({
        "name": String::from_utf8_lossy(&entry.path_bytes()), "type": kind,
        "mode": header.mode().unwrap() & 0o7777, "uid": header.uid().unwrap(), "gid": header.gid().unwrap(),
        "size": entry.size(),
    });
    if let Some(link) = entry.link_name_bytes() {
        toc["linkName"] = String::from_utf8_lossy(&link).into();
    }
    if let Some(pax) = entry.pax_extensions().unwrap() {
        for ext in pax {
            let ext = ext.unwrap();
            if let Some(name) = ext.key().unwrap().strip_prefix("SCHILY.xattr.") {
                toc["xattrs"][name] = base64::engine::general_purpose::STANDARD
                    .encode(ext.value_bytes())
                    .into();
            }
        }
    }
    let mut payload = Vec::new();
    std::io::Read::read_to_end(entry, &mut payload).unwrap();
    (toc, payload, start)
}

/// An eStargz blob made from a layer tar as the format lays it out: a gzip
/// member starts at every non-empty regular file's payload, the TOC
/// (`stargz.index.json`) is the last entry in its own member, then the
/// 51-byte footer. Returns the blob, the TOC's JSON and the diff_id.
fn estargz(layer: &[u8]) -> (Vec<u8>, Vec<u8>, String) {
    let mut blob = Vec::new();
    let mut entries = Vec::new();
    let mut cut = 0usize; // start of the bytes not yet in a member
    let mut end = 0usize; // end of the last entry (payload and padding)
    let mut archive = tar::Archive::new(std::io::Cursor::new(layer));
    for entry in archive.entries().unwrap() {
        let (mut toc, payload, start) = toc_entry(&mut entry.unwrap());
        if toc["type"] == "reg" && !payload.is_empty() {
            blob.extend(common::gzip(&layer[cut..start]));
            cut = start;
            toc["offset"] = blob.len().into();
            toc["chunkDigest"] = format!("sha256:{}", common::sha256_hex(&payload)).into();
        }
        end = start + payload.len().div_ceil(512) * 512;
        entries.push(toc);
    }
    blob.extend(common::gzip(&layer[cut..end]));
    let toc_at = blob.len();
    let json = serde_json::to_vec(&serde_json::json!({"version": 1, "entries": entries})).unwrap();
    let mut toc_tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_path("stargz.index.json").unwrap();
    h.set_size(json.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    toc_tar.append(&h, &json[..]).unwrap();
    let toc_tar = toc_tar.into_inner().unwrap();
    blob.extend(common::gzip(&toc_tar));
    let mut footer = vec![
        0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 26, 0, b'S', b'G', 22, 0,
    ];
    footer.extend(format!("{:016x}STARGZ", toc_at).bytes());
    footer.extend([1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
    blob.extend(footer);
    let mut uncompressed = layer[..end].to_vec();
    uncompressed.extend(&toc_tar);
    (
        blob,
        json,
        format!("sha256:{}", common::sha256_hex(&uncompressed)),
    )
}

/// An OCI layout holding one image with `layer_blob`, pushed to the
/// registry byte for byte; returns the layout's directory.
fn push_layout(name: &str, config: &[u8], layer_blob: &[u8], annotations: Value) -> PathBuf {
    push_layout_as(
        name,
        config,
        layer_blob,
        "application/vnd.oci.image.layer.v1.tar+gzip",
        annotations,
    )
}

fn push_layout_as(
    name: &str,
    config: &[u8],
    layer_blob: &[u8],
    media_type: &str,
    annotations: Value,
) -> PathBuf {
    let env = services();
    let dir = Path::new(s(env, "/dir")).join("generated").join(name);
    common::write_oci_layout(&dir, config, layer_blob, media_type, annotations);
    let creds = format!(
        "{}:{}",
        s(env, "/registryBasic/user"),
        s(env, "/registryBasic/password")
    );
    let out = Command::new("skopeo")
        .args([
            "copy",
            "--quiet",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
        ])
        .arg(format!("oci:{}:latest", dir.display()))
        .arg(format!(
            "docker://{}/generated/{}:latest",
            s(env, "/registryBasic/host"),
            name
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

#[test]
fn estargz_layers_are_read_through_their_table_of_contents() {
    use common::*;
    let env = services();
    let noise: Vec<u8> = (0..2_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let layer = common::layer(&[
        dir("etc"),
        with_data(
            file("etc/passwd", 0o644),
            b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
        ),
        with_data(file("etc/group", 0o644), b"root:x:0:\napp:x:1000:\n"),
        dir("usr"),
        dir("usr/bin"),
        file("usr/bin/su", 0o4755),
        owned(file("usr/bin/wall", 0o2755), 0, 5),
        with_caps(file("usr/bin/ping", 0o755), &NET_BIND_EP),
        symlink("usr/bin/sh", "busybox"),
        hardlink("usr/bin/su2", "usr/bin/su"),
        with_data(file("srv/big.bin", 0o644), &noise),
        whiteout("srv/.wh.gone"),
    ]);
    let (blob, toc, diff_id) = estargz(&layer);
    let mut config: Value =
        serde_json::from_slice(&config_json(Some("app"), &["COPY . /"])).unwrap();
    config["rootfs"]["diff_ids"] = serde_json::json!([diff_id]);
    let config = serde_json::to_vec(&config).unwrap();
    let toc_digest = format!("sha256:{}", sha256_hex(&toc));
    let good = push_layout(
        "estargz",
        &config,
        &blob,
        serde_json::json!({"containerd.io/snapshot/stargz/toc.digest": toc_digest}),
    );
    // The layout is read whole (its layer file through the tar walker): the reference.
    let whole = json(
        &analyze_source(
            &Source::OciLayout {
                dir: good.clone(),
                name: None,
            },
            "oci:x",
            &options(None),
        )
        .unwrap(),
    );
    assert!(
        whole["images"][0]["setuidFiles"].as_array().unwrap().len() == 3,
        "{}",
        whole["images"][0]["setuidFiles"]
    );
    let reference = format!(
        "docker://{}/generated/estargz:latest",
        s(env, "/registryBasic/host")
    );
    let authfile = s(env, "/registryBasic/authfile");
    let report = json(&registry(&reference, &options(Some(authfile))).unwrap());
    assert_eq!(facts(&report), facts(&whole));
    assert_eq!(
        report["images"][0]["user"]["uid"], 1000,
        "passwd was read through the TOC"
    );
    let downloaded = report["input"]["bytesRead"].as_u64().unwrap();
    assert!(
        downloaded * 20 <= blob.len() as u64,
        "{} bytes downloaded for a {}-byte layer: more than 5 %",
        downloaded,
        blob.len()
    );
    // A TOC whose digest is not the annotation's is not trusted: the whole blob is read.
    push_layout(
        "estargz-bad-toc",
        &config,
        &blob,
        serde_json::json!({"containerd.io/snapshot/stargz/toc.digest": format!("sha256:{}", "0".repeat(64))}),
    );
    let reference = format!(
        "docker://{}/generated/estargz-bad-toc:latest",
        s(env, "/registryBasic/host")
    );
    let report = json(&registry(&reference, &options(Some(authfile))).unwrap());
    assert_eq!(facts(&report), facts(&whole));
    assert!(report["input"]["bytesRead"].as_u64().unwrap() >= blob.len() as u64);
}

/// A zstd:chunked blob made from a layer tar as containers/storage lays it
/// out: one zstd frame for each non-empty regular file's content (without
/// padding) and frames for what lies between; then skippable frames with
/// the zstd-compressed TOC ("manifest"), a tar-split stand-in and the
/// 72-byte footer. Returns the blob and the manifest-position and
/// manifest-checksum annotations.
fn zstd_chunked(layer: &[u8]) -> (Vec<u8>, String, String) {
    let mut blob = Vec::new();
    let mut entries = Vec::new();
    let mut cut = 0usize;
    let mut archive = tar::Archive::new(std::io::Cursor::new(layer));
    for entry in archive.entries().unwrap() {
        let (mut toc, payload, start) = toc_entry(&mut entry.unwrap());
        if toc["type"] == "reg" && !payload.is_empty() {
            blob.extend(common::zstd(&layer[cut..start]));
            toc["offset"] = blob.len().into();
            blob.extend(common::zstd(&payload));
            toc["endOffset"] = blob.len().into();
            toc["digest"] = format!("sha256:{}", common::sha256_hex(&payload)).into();
            cut = start + payload.len();
        }
        entries.push(toc);
    }
    blob.extend(common::zstd(&layer[cut..]));
    let skippable = |blob: &mut Vec<u8>, content: &[u8]| {
        blob.extend(0x184D2A50u32.to_le_bytes());
        blob.extend((content.len() as u32).to_le_bytes());
        let at = blob.len();
        blob.extend(content);
        at
    };
    let json = serde_json::to_vec(&serde_json::json!({"version": 1, "entries": entries})).unwrap();
    let manifest = common::zstd(&json);
    let manifest_at = skippable(&mut blob, &manifest);
    let tarsplit = common::zstd(b"");
    let tarsplit_at = skippable(&mut blob, &tarsplit);
    let mut footer = Vec::new();
    for n in [
        manifest_at,
        manifest.len(),
        json.len(),
        1,
        tarsplit_at,
        tarsplit.len(),
        0,
    ] {
        footer.extend((n as u64).to_le_bytes());
    }
    footer.extend(b"GNUlInUx");
    skippable(&mut blob, &footer);
    let position = format!("{}:{}:{}:1", manifest_at, manifest.len(), json.len());
    (
        blob,
        position,
        format!("sha256:{}", common::sha256_hex(&manifest)),
    )
}

#[test]
fn zstd_chunked_layers_are_read_through_their_table_of_contents() {
    use common::*;
    let env = services();
    let noise: Vec<u8> = (0..2_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let layer = common::layer(&[
        dir("etc"),
        with_data(
            file("etc/passwd", 0o644),
            b"root:x:0:0:root:/root:/bin/sh\nsvc:x:2000:2000::/srv:/bin/sh\n",
        ),
        with_data(file("etc/group", 0o644), b"root:x:0:\nsvc:x:2000:\n"),
        dir("usr"),
        dir("usr/sbin"),
        file("usr/sbin/helper", 0o4755),
        with_caps(file("usr/sbin/ping", 0o755), &NET_BIND_EP),
        symlink("usr/sbin/alias", "helper"),
        with_data(file("srv/big.bin", 0o644), &noise),
        whiteout("srv/.wh.gone"),
    ]);
    let (blob, position, checksum) = zstd_chunked(&layer);
    let mut config: Value =
        serde_json::from_slice(&config_json(Some("svc"), &["COPY . /"])).unwrap();
    config["rootfs"]["diff_ids"] = serde_json::json!([format!("sha256:{}", sha256_hex(&layer))]);
    let config = serde_json::to_vec(&config).unwrap();
    let zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    let annotations = |checksum: &str| {
        serde_json::json!({
            "io.github.containers.zstd-chunked.manifest-position": position,
            "io.github.containers.zstd-chunked.manifest-checksum": checksum,
        })
    };
    let dir = push_layout_as("zstd-chunked", &config, &blob, zstd, annotations(&checksum));
    let whole = json(
        &analyze_source(
            &Source::OciLayout { dir, name: None },
            "oci:x",
            &options(None),
        )
        .unwrap(),
    );
    assert_eq!(
        whole["images"][0]["setuidFiles"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        whole["images"][0]["capabilities"].as_array().unwrap().len(),
        1
    );
    let authfile = s(env, "/registryBasic/authfile");
    let host = s(env, "/registryBasic/host");
    let report = json(
        &registry(
            &format!("docker://{}/generated/zstd-chunked:latest", host),
            &options(Some(authfile)),
        )
        .unwrap(),
    );
    assert_eq!(facts(&report), facts(&whole));
    assert_eq!(
        report["images"][0]["user"]["uid"], 2000,
        "passwd was read through the TOC"
    );
    let downloaded = report["input"]["bytesRead"].as_u64().unwrap();
    assert!(
        downloaded * 20 <= blob.len() as u64,
        "{} bytes downloaded for a {}-byte layer",
        downloaded,
        blob.len()
    );
    // A manifest whose checksum is not the annotation's: the whole blob.
    push_layout_as(
        "zstd-chunked-bad",
        &config,
        &blob,
        zstd,
        annotations(&format!("sha256:{}", "1".repeat(64))),
    );
    let report = json(
        &registry(
            &format!("docker://{}/generated/zstd-chunked-bad:latest", host),
            &options(Some(authfile)),
        )
        .unwrap(),
    );
    assert_eq!(facts(&report), facts(&whole));
    assert!(report["input"]["bytesRead"].as_u64().unwrap() >= blob.len() as u64);
}
