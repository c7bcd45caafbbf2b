//! Each rule with a case where it fires and a case where it does not, the
//! verdict, and suppression — on generated archives.

mod common;

use std::collections::BTreeSet;
use std::io::Cursor;

use common::*;
use rootless_check::analysis::policy::{self, Ignore};
use rootless_check::analysis::report::ImageReport;
use rootless_check::analysis::rules::{Severity, RULES};
use rootless_check::analysis::verdict::Verdict;
use rootless_check::archive::{analyze_seekable, ReadOptions};
use serde_json::json;

/// Image config beyond USER.
#[derive(Default)]
struct Cfg {
    user: Option<&'static str>,
    entrypoint: Option<Vec<&'static str>>,
    cmd: Option<Vec<&'static str>>,
    env: Vec<&'static str>,
    ports: Vec<&'static str>,
}

fn build(cfg: &Cfg, layers: &[Vec<u8>]) -> Vec<u8> {
    let mut c = json!({"Env": cfg.env});
    if let Some(u) = cfg.user {
        c["User"] = json!(u);
    }
    if let Some(e) = &cfg.entrypoint {
        c["Entrypoint"] = json!(e);
    }
    if let Some(cmd) = &cfg.cmd {
        c["Cmd"] = json!(cmd);
    }
    if !cfg.ports.is_empty() {
        let ports: serde_json::Map<String, serde_json::Value> = cfg
            .ports
            .iter()
            .map(|p| (p.to_string(), json!({})))
            .collect();
        c["ExposedPorts"] = json!(ports);
    }
    let history: Vec<serde_json::Value> = (0..layers.len())
        .map(|i| json!({"created_by": format!("RUN step {}", i)}))
        .collect();
    let config = serde_json::to_vec(
        &json!({"architecture": "amd64", "os": "linux", "config": c, "history": history}),
    )
    .unwrap();
    docker_save_with(&config, layers, &["rules:test"])
}

fn analyze(cfg: &Cfg, layers: &[Vec<u8>]) -> ImageReport {
    let r = analyze_seekable(Cursor::new(build(cfg, layers)), &ReadOptions::default()).unwrap();
    assert!(!r.partial, "{:?}", r.errors);
    r.images.into_iter().next().unwrap()
}

fn accounts() -> Vec<E> {
    vec![
        dir("etc"),
        with_data(
            file("etc/passwd", 0o644),
            b"root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\napp:x:1000:1000::/app:/bin/sh\nabc:x:911:911::/config:/bin/false\n",
        ),
        with_data(file("etc/group", 0o644), b"root:x:0:\nshadow:x:42:\napp:x:1000:\nusers:x:100:\n"),
    ]
}

/// A minimal image: accounts only.
fn minimal() -> Vec<u8> {
    layer(&accounts())
}

fn with(extra: Vec<E>) -> Vec<u8> {
    let mut e = accounts();
    e.extend(extra);
    layer(&e)
}

fn rules_of(image: &ImageReport) -> BTreeSet<&'static str> {
    image.findings.iter().map(|f| f.rule).collect()
}

fn fires(image: &ImageReport, rule: &str) -> bool {
    rules_of(image).contains(rule)
}

fn user(u: &'static str) -> Cfg {
    Cfg {
        user: Some(u),
        ..Default::default()
    }
}

#[test]
fn user_not_set() {
    let i = analyze(&Cfg::default(), &[minimal()]);
    assert!(fires(&i, "user-not-set"));
    assert_eq!(i.verdict, Verdict::Root);
    assert!(!fires(
        &analyze(&user("1000"), &[minimal()]),
        "user-not-set"
    ));
}

#[test]
fn user_root_in_any_spelling() {
    for u in ["root", "0", "0:0", "root:root", "00", "0:1000"] {
        let i = analyze(&user(u), &[minimal()]);
        assert!(fires(&i, "user-root"), "{}", u);
        assert_eq!(i.verdict, Verdict::Root, "{}", u);
    }
    for u in ["1000", "app", "10"] {
        assert!(
            !fires(&analyze(&user(u), &[minimal()]), "user-root"),
            "{}",
            u
        );
    }
}

#[test]
fn user_name_mapping_to_uid0() {
    let i = analyze(&user("toor"), &[minimal()]);
    assert!(fires(&i, "user-name-uid0"));
    assert!(!fires(&i, "user-root"));
    assert_eq!(i.verdict, Verdict::Root);
    let f = i
        .findings
        .iter()
        .find(|f| f.rule == "user-name-uid0")
        .unwrap();
    assert_eq!(f.path.as_deref(), Some("/etc/passwd"));
    assert!(!fires(
        &analyze(&user("app"), &[minimal()]),
        "user-name-uid0"
    ));
    assert!(!fires(
        &analyze(&user("root"), &[minimal()]),
        "user-name-uid0"
    ));
}

#[test]
fn user_group_root() {
    assert!(fires(
        &analyze(&user("1000:0"), &[minimal()]),
        "user-group-root"
    ));
    // A uid without a passwd entry and without a group gets gid 0.
    assert!(fires(
        &analyze(&user("4242"), &[minimal()]),
        "user-group-root"
    ));
    assert!(!fires(
        &analyze(&user("app"), &[minimal()]),
        "user-group-root"
    ));
    assert!(!fires(
        &analyze(&user("1000:1000"), &[minimal()]),
        "user-group-root"
    ));
    assert!(!fires(
        &analyze(&user("root"), &[minimal()]),
        "user-group-root"
    ));
}

#[test]
fn user_non_numeric_quotes_the_kubelet() {
    let i = analyze(&user("app"), &[minimal()]);
    let f = i
        .findings
        .iter()
        .find(|f| f.rule == "user-non-numeric")
        .unwrap();
    assert_eq!(f.message, "container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root");
    assert_eq!(f.remediation, "USER 1000:1000");
    assert!(!fires(
        &analyze(&user("1000:1000"), &[minimal()]),
        "user-non-numeric"
    ));
}

#[test]
fn user_unresolvable_quotes_docker() {
    let i = analyze(&user("ghost"), &[minimal()]);
    let f = i
        .findings
        .iter()
        .find(|f| f.rule == "user-unresolvable")
        .unwrap();
    assert_eq!(
        f.message,
        "unable to find user ghost: no matching entries in passwd file"
    );
    let i = analyze(&user("app:nogroup"), &[minimal()]);
    let f = i
        .findings
        .iter()
        .find(|f| f.rule == "user-unresolvable")
        .unwrap();
    assert_eq!(
        f.message,
        "unable to find group nogroup: no matching entries in group file"
    );
    let i = analyze(&user("app"), &[layer(&[file("bin/server", 0o755)])]);
    assert!(fires(&i, "user-unresolvable"), "no passwd at all");
    assert!(!fires(
        &analyze(&user("4242:4242"), &[layer(&[file("bin/server", 0o755)])]),
        "user-unresolvable"
    ));
}

#[test]
fn setuid_root() {
    let i = analyze(
        &user("1000:1000"),
        &[with(vec![file("usr/bin/su", 0o4755)])],
    );
    let f = i.findings.iter().find(|f| f.rule == "setuid-root").unwrap();
    assert_eq!(
        (f.path.as_deref(), f.layer, f.created_by.as_deref()),
        (Some("/usr/bin/su"), Some(0), Some("RUN step 0"))
    );
    assert_eq!(f.remediation, "RUN chmod u-s /usr/bin/su");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(i.verdict, Verdict::PseudoRootless);
    let i = analyze(
        &user("1000:1000"),
        &[with(vec![owned(file("usr/games/x", 0o4755), 5, 0)])],
    );
    assert!(!fires(&i, "setuid-root"));
}

#[test]
fn setgid_privileged_group() {
    let i = analyze(
        &user("1000:1000"),
        &[with(vec![owned(file("usr/bin/chage", 0o2755), 0, 42)])],
    );
    assert!(fires(&i, "setgid-privileged-group"));
    assert_eq!(i.verdict, Verdict::PseudoRootless);
    let i = analyze(
        &user("1000:1000"),
        &[with(vec![owned(file("usr/bin/games", 0o2755), 0, 100)])],
    );
    assert!(!fires(&i, "setgid-privileged-group"));
    assert_eq!(i.verdict, Verdict::Rootless);
}

#[test]
fn setuid_setgid_other_owner() {
    let i = analyze(
        &user("1000:1000"),
        &[with(vec![
            owned(file("usr/games/x", 0o4755), 5, 0),
            owned(file("usr/bin/g", 0o2755), 0, 100),
        ])],
    );
    assert_eq!(
        i.findings
            .iter()
            .filter(|f| f.rule == "setuid-setgid-other")
            .count(),
        2
    );
    assert_eq!(i.verdict, Verdict::Rootless);
    assert!(!fires(
        &analyze(
            &user("1000:1000"),
            &[with(vec![file("usr/bin/su", 0o4755)])]
        ),
        "setuid-setgid-other"
    ));
}

fn caps_with(bits: u32) -> [u8; 20] {
    let mut raw = [0u8; 20];
    raw[0..4].copy_from_slice(&0x0200_0001u32.to_le_bytes());
    raw[4..8].copy_from_slice(&bits.to_le_bytes());
    raw
}

#[test]
fn capabilities_dangerous_and_narrow() {
    let admin = with_caps(file("usr/bin/tool", 0o755), &caps_with(1 << 21));
    let i = analyze(&user("1000:1000"), &[with(vec![admin])]);
    assert!(fires(&i, "capability-dangerous") && !fires(&i, "capability-narrow"));
    assert_eq!(i.verdict, Verdict::PseudoRootless);
    let bind = with_caps(file("usr/bin/server", 0o755), &NET_BIND_EP);
    let i = analyze(&user("1000:1000"), &[with(vec![bind])]);
    assert!(fires(&i, "capability-narrow") && !fires(&i, "capability-dangerous"));
    assert_eq!(i.verdict, Verdict::Rootless);
    let f = i
        .findings
        .iter()
        .find(|f| f.rule == "capability-narrow")
        .unwrap();
    assert!(f.message.contains("narrow alternative to setuid"));
    let i = analyze(&user("1000:1000"), &[minimal()]);
    assert!(!fires(&i, "capability-narrow") && !fires(&i, "capability-dangerous"));
}

fn s6_v3() -> Vec<E> {
    vec![
        file("init", 0o755),
        dir("package"),
        dir("package/admin"),
        dir("package/admin/s6-overlay-3.2.0.2"),
        symlink("package/admin/s6-overlay", "s6-overlay-3.2.0.2"),
        dir("package/admin/s6-overlay-helpers-0.1.1.0"),
        dir("package/admin/s6-overlay-helpers-0.1.1.0/command"),
        file(
            "package/admin/s6-overlay-helpers-0.1.1.0/command/s6-overlay-suexec",
            0o4755,
        ),
        dir("command"),
        symlink(
            "command/s6-overlay-suexec",
            "../package/admin/s6-overlay-helpers-0.1.1.0/command/s6-overlay-suexec",
        ),
        dir("etc/s6-overlay"),
        dir("etc/s6-overlay/s6-rc.d"),
    ]
}

#[test]
fn s6_overlay_v3_with_version() {
    let cfg = Cfg {
        entrypoint: Some(vec!["/init"]),
        env: vec!["S6_KEEP_ENV=1"],
        ..Default::default()
    };
    let i = analyze(&cfg, &[with(s6_v3())]);
    assert!(i.s6.detected);
    assert_eq!(
        (i.s6.major, i.s6.version.as_deref()),
        (Some(3), Some("3.2.0.2"))
    );
    assert_eq!(
        i.s6.setuid_helper.as_deref(),
        Some("/package/admin/s6-overlay-helpers-0.1.1.0/command/s6-overlay-suexec")
    );
    assert!(i.s6.evidence.iter().any(|e| e.contains("S6_KEEP_ENV")));
    assert!(fires(&i, "s6-overlay"));
    assert_eq!(i.verdict, Verdict::Root);
    assert!(i
        .verdict_reasons
        .iter()
        .any(|r| r.contains("drops privileges later")));
    // Started as a non-root user it climbs back through suexec.
    let i = analyze(
        &Cfg {
            user: Some("1000:1000"),
            entrypoint: Some(vec!["/init"]),
            ..Default::default()
        },
        &[with(s6_v3())],
    );
    assert_eq!(i.verdict, Verdict::PseudoRootless);
    assert!(!i.no_new_privileges.compatible);
    assert!(fires(&i, "no-new-privileges-breaks"));
}

#[test]
fn s6_overlay_v2_and_absent() {
    let v2 = vec![
        file("init", 0o755),
        dir("etc/s6"),
        dir("etc/s6/init"),
        file("etc/s6/init/init-stage1", 0o755),
        dir("etc/services.d"),
        file("bin/s6-overlay-preinit", 0o4755),
    ];
    let i = analyze(&user("1000:1000"), &[with(v2)]);
    assert_eq!((i.s6.detected, i.s6.major), (true, Some(2)));
    assert_eq!(
        i.s6.setuid_helper.as_deref(),
        Some("/bin/s6-overlay-preinit")
    );
    let i = analyze(&user("1000:1000"), &[minimal()]);
    assert!(!i.s6.detected && !fires(&i, "s6-overlay"));
}

#[test]
fn entrypoint_privilege_drop() {
    for ep in [
        vec!["/usr/local/bin/gosu", "app", "server"],
        vec!["sh", "-c", "chown app /data && exec su-exec app server"],
        vec!["chroot", "--userspec=1000:1000", "/", "server"],
    ] {
        let i = analyze(
            &Cfg {
                entrypoint: Some(ep.clone()),
                ..Default::default()
            },
            &[minimal()],
        );
        assert!(fires(&i, "entrypoint-privilege-drop"), "{:?}", ep);
    }
    let i = analyze(
        &Cfg {
            entrypoint: Some(vec!["/server"]),
            cmd: Some(vec!["--sudo-mode"]),
            ..Default::default()
        },
        &[minimal()],
    );
    assert!(!fires(&i, "entrypoint-privilege-drop"));
    let i = analyze(
        &Cfg {
            entrypoint: Some(vec!["chroot", "/jail", "x"]),
            ..Default::default()
        },
        &[minimal()],
    );
    assert!(!fires(&i, "entrypoint-privilege-drop"));
}

#[test]
fn puid_pgid_env() {
    let i = analyze(
        &Cfg {
            env: vec!["PUID=1000", "PGID=1000"],
            ..Default::default()
        },
        &[minimal()],
    );
    let f = i
        .findings
        .iter()
        .find(|f| f.rule == "puid-pgid-env")
        .unwrap();
    assert!(f.evidence.iter().any(|e| e.contains("abc with uid 911")));
    assert!(!fires(
        &analyze(
            &Cfg {
                env: vec!["PUIDX=1"],
                ..Default::default()
            },
            &[minimal()]
        ),
        "puid-pgid-env"
    ));
}

#[test]
fn privilege_drop_tool_present() {
    let i = analyze(
        &user("1000:1000"),
        &[with(vec![file("usr/local/bin/gosu", 0o755)])],
    );
    assert!(fires(&i, "privilege-drop-tool"));
    assert_eq!(i.verdict, Verdict::Rootless);
    assert!(!fires(
        &analyze(&user("1000:1000"), &[minimal()]),
        "privilege-drop-tool"
    ));
}

#[test]
fn no_new_privileges_prediction() {
    // Non-root start that needs sudo (setuid) breaks.
    let cfg = Cfg {
        user: Some("1000:1000"),
        entrypoint: Some(vec!["sudo", "-E", "/start"]),
        ..Default::default()
    };
    let i = analyze(&cfg, &[with(vec![file("usr/bin/sudo", 0o4755)])]);
    assert_eq!(i.no_new_privileges.breaks, ["/usr/bin/sudo"]);
    assert!(fires(&i, "no-new-privileges-breaks"));
    // Setuid files that the start does not need: keeps working, lists what loses effect.
    let i = analyze(
        &user("1000:1000"),
        &[with(vec![file("usr/bin/su", 0o4755)])],
    );
    assert!(i.no_new_privileges.compatible);
    assert_eq!(i.no_new_privileges.ineffective, ["/usr/bin/su"]);
    assert!(!fires(&i, "no-new-privileges-breaks"));
    // As root nothing depends on setuid.
    let i = analyze(
        &Cfg {
            entrypoint: Some(vec!["/init"]),
            ..Default::default()
        },
        &[with(s6_v3())],
    );
    assert!(i.no_new_privileges.compatible);
}

#[test]
fn privileged_port() {
    let i = analyze(
        &Cfg {
            user: Some("1000:1000"),
            ports: vec!["80/tcp", "8443/tcp"],
            ..Default::default()
        },
        &[minimal()],
    );
    let f = i
        .findings
        .iter()
        .find(|f| f.rule == "privileged-port")
        .unwrap();
    assert!(f.message.contains("80/tcp") && !f.message.contains("8443"));
    assert!(!fires(
        &analyze(
            &Cfg {
                user: Some("1000:1000"),
                ports: vec!["8080/tcp"],
                ..Default::default()
            },
            &[minimal()]
        ),
        "privileged-port"
    ));
    assert!(!fires(
        &analyze(
            &Cfg {
                ports: vec!["80/tcp"],
                ..Default::default()
            },
            &[minimal()]
        ),
        "privileged-port"
    ));
}

#[test]
fn distroless_traits() {
    let i = analyze(
        &user("1000:1000"),
        &[with(vec![
            file("bin/sh", 0o755),
            file("usr/bin/apt-get", 0o755),
        ])],
    );
    assert!(fires(&i, "shell-present") && fires(&i, "package-manager-present"));
    assert!(i
        .findings
        .iter()
        .filter(|f| f.rule.ends_with("-present"))
        .all(|f| f.severity == Severity::Info));
    let i = analyze(&user("1000:1000"), &[minimal()]);
    assert!(!fires(&i, "shell-present") && !fires(&i, "package-manager-present"));
}

#[test]
fn rootless_and_unknown_verdicts() {
    let i = analyze(&user("1000:1000"), &[with(vec![file("app/server", 0o755)])]);
    assert_eq!(i.verdict, Verdict::Rootless);
    assert!(
        i.findings.iter().all(|f| f.severity <= Severity::Low),
        "{:?}",
        i.findings
    );
    let r = analyze_seekable(
        Cursor::new(with(vec![file("usr/bin/su", 0o4755)])),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(r.images[0].verdict, Verdict::Unknown);
    assert!(r.images[0].findings.iter().any(|f| f.rule == "setuid-root"));
}

#[test]
fn findings_are_sorted_most_severe_first() {
    let i = analyze(
        &Cfg::default(),
        &[with(vec![
            file("usr/bin/su", 0o4755),
            file("bin/sh", 0o755),
        ])],
    );
    let sev: Vec<Severity> = i.findings.iter().map(|f| f.severity).collect();
    let mut sorted = sev.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(sev, sorted);
}

#[test]
fn suppression_moves_findings_but_keeps_the_verdict() {
    let data = build(
        &user("1000:1000"),
        &[with(vec![
            file("usr/bin/passwd", 0o4755),
            file("usr/bin/su", 0o4755),
        ])],
    );
    let mut r = analyze_seekable(Cursor::new(data), &ReadOptions::default()).unwrap();
    let ignores = vec![Ignore::parse("setuid-root:/usr/bin/passwd").unwrap()];
    policy::apply_ignores(&mut r, &ignores);
    let i = &r.images[0];
    let setuid: Vec<&str> = i
        .findings
        .iter()
        .filter(|f| f.rule == "setuid-root")
        .filter_map(|f| f.path.as_deref())
        .collect();
    assert_eq!(setuid, ["/usr/bin/su"]);
    assert_eq!(i.suppressed.len(), 1);
    assert_eq!(i.verdict, Verdict::PseudoRootless);
    assert!(policy::fails(&r, Some(Severity::High)));
    policy::apply_ignores(&mut r, &[Ignore::parse("setuid-root").unwrap()]);
    assert!(!policy::fails(&r, Some(Severity::High)));
    assert!(policy::fails(&r, Some(Severity::Info)) || r.images[0].findings.is_empty());
    assert!(!policy::fails(&r, None));
}

#[test]
fn every_rule_fires_in_some_case() {
    let cases: Vec<ImageReport> = vec![
        analyze(&Cfg::default(), &[minimal()]),
        analyze(&user("root"), &[minimal()]),
        analyze(&user("toor"), &[minimal()]),
        analyze(&user("4242"), &[minimal()]),
        analyze(&user("ghost"), &[minimal()]),
        analyze(
            &Cfg {
                user: Some("app"),
                entrypoint: Some(vec!["/init"]),
                cmd: Some(vec!["gosu", "app", "x"]),
                env: vec!["PUID=1"],
                ports: vec!["80/tcp"],
            },
            &[with({
                let mut e = s6_v3();
                e.extend([
                    owned(file("usr/bin/chage", 0o2755), 0, 42),
                    owned(file("usr/games/x", 0o4755), 5, 0),
                    with_caps(file("usr/bin/a", 0o755), &caps_with(1 << 21)),
                    with_caps(file("usr/bin/b", 0o755), &NET_BIND_EP),
                    file("usr/bin/gosu", 0o755),
                    file("bin/sh", 0o755),
                    file("sbin/apk", 0o755),
                ]);
                e
            })],
        ),
    ];
    let fired: BTreeSet<&str> = cases.iter().flat_map(rules_of).collect();
    // The run rules fire on runs, not images: tests/runs.rs covers them.
    let all: BTreeSet<&str> = RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| {
            !rootless_check::analysis::runs::RUN_RULES
                .iter()
                .any(|r| r.id == *id)
        })
        .collect();
    let missing: Vec<&&str> = all.difference(&fired).collect();
    assert!(missing.is_empty(), "rules never fired: {:?}", missing);
}
