//! Issue 15, how the image will run: every `--run` and compose case of
//! tests/runs/cases.json (which scripts/check-runs.sh also runs against a
//! real dockerd), the Kubernetes manifests of tests/runs/manifests.yaml
//! (Kubernetes cannot run here: the expected messages are kubelet's,
//! pkg/kubelet/kuberuntime/security_context_others.go `verifyRunAsNonRoot`,
//! and the PSS results those of k8s.io/pod-security-admission/policy),
//! pairing, the report surfaces (JSON, SARIF regions, text, --fail-on,
//! ignores) and the CLI.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use rootless_check::analysis::policy::{self, Ignore};
use rootless_check::analysis::report::{Report, RunOutcome, RunReport};
use rootless_check::analysis::runs::{self, RunSpec};
use rootless_check::analysis::spec::{compose, docker_run, k8s};
use rootless_check::archive::{analyze_path, analyze_seekable, ReadOptions};
use serde_json::{json, Value};

fn here(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(here("tests/runs/cases.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn fixture(name: &str) -> Report {
    let path = fixtures_dir().join(name);
    analyze_path(&path, &ReadOptions::default()).unwrap_or_else(|e| panic!("{}: {}", name, e))
}

/// One report holding every image `names` gives, as the CLI merges sources.
fn fixtures(names: &[&str]) -> Report {
    let mut base = fixture(names[0]);
    for n in &names[1..] {
        base.images.extend(fixture(n).images);
    }
    base
}

fn no_fetch(name: &str) -> Result<Vec<rootless_check::analysis::report::ImageReport>, String> {
    Err(format!("{}: not fetched in tests", name))
}

fn hold(report: &mut Report, specs: &[RunSpec]) {
    runs::hold(report, specs, &mut no_fetch);
}

fn compose_specs(env: &[(&str, &str)]) -> Vec<RunSpec> {
    let text = std::fs::read_to_string(here("tests/runs/compose.yml")).unwrap();
    let vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let env = compose::Env {
        lookup: &lookup,
        dotenv: Vec::new(),
    };
    compose::parse(&text, Some("tests/runs/compose.yml"), &env)
        .unwrap()
        .runs
}

fn check(run: &RunReport, expect: &Value, what: &str) {
    assert_eq!(
        run.outcome.as_str(),
        expect["outcome"],
        "{}: outcome ({:?})",
        what,
        run.message
    );
    assert_eq!(
        run.verdict.as_str(),
        expect["verdict"],
        "{}: verdict {:?}",
        what,
        run.verdict_reasons
    );
    if let Some(uid) = expect.get("uid") {
        assert_eq!(json!(run.user.uid), *uid, "{}: uid", what);
    }
    if let Some(gid) = expect.get("gid") {
        assert_eq!(json!(run.user.gid), *gid, "{}: gid", what);
    }
    if let Some(m) = expect.get("message") {
        assert_eq!(json!(run.message), *m, "{}: message", what);
    }
    for rule in expect
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        assert!(
            run.findings
                .iter()
                .any(|f| f.rule == rule.as_str().unwrap()),
            "{}: no {} in {:?}",
            what,
            rule,
            run.findings.iter().map(|f| f.rule).collect::<Vec<_>>()
        );
    }
}

#[test]
fn every_run_case_is_predicted_as_expected() {
    let mut n = 0;
    for case in cases().iter().filter(|c| c.get("run").is_some()) {
        let mut report = fixture(case["fixture"].as_str().unwrap());
        let specs = docker_run::parse(case["run"].as_str().unwrap()).unwrap();
        hold(&mut report, &specs.runs);
        let what = format!("{} --run {:?}", case["fixture"], case["run"]);
        check(&report.runs[0], &case["expect"], &what);
        assert_eq!(report.runs[0].name, "docker run");
        assert_eq!(report.runs[0].image_index, Some(0));
        n += 1;
    }
    assert!(n >= 20, "{} run cases", n);
}

#[test]
fn every_compose_case_is_predicted_and_reads_as_its_docker_run_flags() {
    let specs = compose_specs(&[]);
    let names: Vec<&str> = {
        let mut v: Vec<&str> = Vec::new();
        for c in cases() {
            if c.get("compose").is_some() {
                let f = c["fixture"].as_str().unwrap().to_string();
                if !v.iter().any(|x| *x == f) {
                    v.push(Box::leak(f.into_boxed_str()));
                }
            }
        }
        v
    };
    let mut report = fixtures(&names);
    hold(&mut report, &specs);
    let mut n = 0;
    for case in cases().iter().filter(|c| c.get("compose").is_some()) {
        let service = case["compose"].as_str().unwrap();
        let run = report.runs.iter().find(|r| r.name == service).unwrap();
        check(run, &case["expect"], service);
        // Paired by tag with the case's fixture.
        let image = &report.images[run.image_index.unwrap()];
        assert_eq!(
            fixture(case["fixture"].as_str().unwrap()).images[0].tags,
            image.tags,
            "{}",
            service
        );
        // The service and its docker run flags ask for the same run.
        let spec = specs.iter().find(|s| s.name == service).unwrap();
        let flags = docker_run::parse(case["dockerRun"].as_str().unwrap())
            .unwrap()
            .runs
            .remove(0);
        let key = |s: &RunSpec| {
            (
                s.user.clone(),
                s.privileged,
                s.no_new_privileges,
                s.cap_add.clone(),
                s.cap_drop.clone(),
                s.entrypoint.clone(),
                s.read_only,
                s.group_add.clone(),
                s.userns.clone(),
            )
        };
        assert_eq!(
            key(spec),
            key(&flags),
            "{} vs {:?}",
            service,
            case["dockerRun"]
        );
        // And the flags predict what the service predicts.
        let mut alone = fixture(case["fixture"].as_str().unwrap());
        hold(&mut alone, &[flags]);
        check(
            &alone.runs[0],
            &case["expect"],
            &format!("{} as flags", service),
        );
        n += 1;
    }
    assert!(n >= 8);
    // Interpolation from the environment changes the run.
    let specs = compose_specs(&[("APP_UID", "0")]);
    let mut report = fixtures(&["built/bb-suid-wh.docker20-save.tar"]);
    hold(&mut report, &specs[..1]);
    assert_eq!(report.runs[0].user.uid, Some(0));
    assert_eq!(report.runs[0].verdict.as_str(), "root");
}

#[test]
fn kubernetes_manifests() {
    let text = std::fs::read_to_string(here("tests/runs/manifests.yaml")).unwrap();
    let specs = k8s::parse(&text, Some("tests/runs/manifests.yaml")).unwrap();
    let mut report = fixtures(&[
        "built/bb.docker20-save.tar",
        "built/bb-suid-wh.docker20-save.tar",
    ]);
    hold(&mut report, &specs.runs);
    let names: Vec<&str> = report.runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Deployment/web/app",
            "Deployment/web/legacy",
            "StatefulSet/cache/init",
            "StatefulSet/cache/cache",
            "StatefulSet/cache/fixed"
        ]
    );
    let run = |n: &str| report.runs.iter().find(|r| r.name == n).unwrap();
    // runAsNonRoot: yes (YAML 1.1) over USER 1000:1000, no escalation allowed.
    let app = run("Deployment/web/app");
    assert_eq!(
        (app.outcome, app.user.uid, app.verdict.as_str()),
        (RunOutcome::Starts, Some(1000), "rootless")
    );
    assert!(app
        .findings
        .iter()
        .any(|f| f.rule == "run-escalation-neutralised"));
    assert!(
        app.pss.baseline && app.pss.restricted,
        "{:?}",
        app.pss.failures
    );
    // verifyRunAsNonRoot: `uid != nil && *uid == 0`.
    let legacy = run("Deployment/web/legacy");
    assert_eq!(legacy.outcome, RunOutcome::Refused);
    assert_eq!(
        legacy.message.as_deref(),
        Some("container has runAsNonRoot and image will run as root (pod: \"web-…_shop(<pod-uid>)\", container: legacy)")
    );
    assert!(
        legacy.fixes.iter().any(|f| f.contains("runAsUser: 65534")),
        "{:?}",
        legacy.fixes
    );
    // runAsUser: 0 over a pseudo-rootless image makes the run root.
    let init = run("StatefulSet/cache/init");
    assert_eq!((init.user.uid, init.verdict.as_str()), (Some(0), "root"));
    assert!(init.verdict_reasons[0].contains("runAsUser: 0 makes this run root"));
    // privileged as root: the critical finding, baseline fails.
    let cache = run("StatefulSet/cache/cache");
    assert_eq!(cache.findings[0].rule, "run-privileged-root");
    assert!(!cache.pss.baseline);
    assert!(cache
        .pss
        .failures
        .iter()
        .any(|f| f.control == "Privileged Containers" && f.field == "securityContext.privileged"));
    // 0o177776 is 65534 in YAML 1.1 as go-yaml v2 reads it: nobody.
    let fixed = run("StatefulSet/cache/fixed");
    assert_eq!(
        (fixed.user.uid, fixed.user.name.as_deref()),
        (Some(65534), Some("nobody"))
    );
    assert_eq!(fixed.outcome, RunOutcome::Starts);
    // The restricted failures name their fields.
    let fields: Vec<&str> = fixed
        .pss
        .failures
        .iter()
        .map(|f| f.field.as_str())
        .collect();
    assert!(fields.contains(&"securityContext.allowPrivilegeEscalation"));
    assert!(fields.contains(&"securityContext.capabilities.drop"));
}

/// A USER name the kubelet cannot verify.
#[test]
fn kubelet_refuses_a_non_numeric_user_and_the_fix_has_its_uid() {
    let passwd = b"root:x:0:0::/root:/bin/sh\nweb:x:1001:1001::/:/bin/sh\n";
    let layer = layer(&[
        dir("etc"),
        with_data(file("etc/passwd", 0o644), passwd),
        with_data(file("etc/group", 0o644), b"root:x:0:\nweb:x:1001:\n"),
    ]);
    let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux", "config": {"User": "web"}, "history": [{"created_by": "x"}]})).unwrap();
    let archive = docker_save_with(&config, &[layer], &["team/web:2"]);
    let mut report =
        analyze_seekable(std::io::Cursor::new(archive), &ReadOptions::default()).unwrap();
    let specs = k8s::parse(
        "kind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers: [{name: c, image: team/web:2}]\n",
        Some("pod.yaml"),
    )
    .unwrap();
    hold(&mut report, &specs.runs);
    let r = &report.runs[0];
    assert_eq!(
        r.message.as_deref(),
        Some("container has runAsNonRoot and image has non-numeric user (web), cannot verify user is non-root (pod: \"p_default(<pod-uid>)\", container: c)")
    );
    assert!(r.fixes[0].contains("runAsUser: 1001"), "{:?}", r.fixes);
    // Docker runs the same image: the name resolves through the image's passwd.
    let mut report2 = report.clone();
    report2.runs.clear();
    hold(&mut report2, &docker_run::parse("").unwrap().runs);
    assert_eq!(
        (report2.runs[0].user.uid, report2.runs[0].outcome),
        (Some(1001), RunOutcome::Starts)
    );
}

#[test]
fn pairing_by_normalised_reference_and_the_single_source_rule() {
    let report = fixtures(&[
        "built/bb.docker20-save.tar",
        "built/bb-suid-wh.docker20-save.tar",
    ]);
    // fixture/bb:1 is docker.io/fixture/bb:1.
    assert_eq!(
        runs::pair(&report, Some("docker.io/fixture/bb-suid-wh:1"), false),
        Some(1)
    );
    assert_eq!(
        runs::pair(&report, Some("index.docker.io/fixture/bb:1"), false),
        Some(0)
    );
    assert_eq!(runs::pair(&report, Some("fixture/bb:2"), true), None);
    // One source, one image named: paired whatever the tag says.
    let one = fixture("built/bb.docker20-save.tar");
    assert_eq!(
        runs::pair(&one, Some("registry.example/other:9"), true),
        Some(0)
    );
    assert_eq!(
        runs::pair(&one, Some("registry.example/other:9"), false),
        None
    );
    // Unpaired and not fetched: not checked, with the reason.
    let mut report = report;
    let specs = docker_run::parse("-u 1 --rm ghcr.io/nobody/else:1").unwrap();
    let mut two = report.clone();
    hold(&mut two, &specs.runs);
    assert_eq!(two.runs[0].outcome, RunOutcome::NotChecked);
    assert!(two.runs[0]
        .message
        .as_deref()
        .unwrap()
        .contains("not fetched in tests"));
    // A fetch that succeeds adds the image and pairs the run with it.
    let extra = fixture("built/bb-filecap.docker26-save.tar").images;
    runs::hold(&mut report, &specs.runs, &mut |_| Ok(extra.clone()));
    assert_eq!(report.runs[0].image_index, Some(2));
    assert_eq!(report.runs[0].user.uid, Some(1));
}

#[test]
fn fail_on_and_ignores_count_run_findings() {
    let mut report = fixture("built/bb-filecap.docker26-save.tar");
    // The image alone fails at high (setuid root); ignore that to see the run.
    policy::apply_ignores(
        &mut report,
        &[
            Ignore::parse("setuid-root").unwrap(),
            Ignore::parse("capability-narrow").unwrap(),
        ],
    );
    assert!(!policy::fails(
        &report,
        Some(rootless_check::analysis::rules::Severity::High)
    ));
    hold(
        &mut report,
        &docker_run::parse("--privileged -u 0").unwrap().runs,
    );
    assert!(policy::fails(
        &report,
        Some(rootless_check::analysis::rules::Severity::Critical)
    ));
    policy::apply_ignores(
        &mut report,
        &[Ignore::parse("run-privileged-root").unwrap()],
    );
    assert_eq!(report.runs[0].suppressed[0].rule, "run-privileged-root");
    assert!(!policy::fails(
        &report,
        Some(rootless_check::analysis::rules::Severity::Critical)
    ));
}

#[test]
fn sarif_locates_run_findings_in_the_spec_file() {
    let specs = compose_specs(&[]);
    let mut report = fixtures(&["built/bb.docker20-save.tar"]);
    hold(&mut report, &specs);
    let sarif: Value =
        serde_json::from_str(&rootless_check::render::sarif::render(&report)).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let admin = results
        .iter()
        .find(|r| r["ruleId"] == "run-privileged-root")
        .expect("admin's finding");
    let loc = &admin["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "tests/runs/compose.yml");
    // `privileged: yes` is on line 27 of compose.yml.
    assert_eq!(loc["region"]["startLine"], 27);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let index = admin["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "run-privileged-root");
    // Text shows each run.
    let text = rootless_check::render::text::render(&report, Default::default());
    assert!(
        text.contains("-- admin (tests/runs/compose.yml:25)"),
        "{}",
        text
    );
    assert!(text.contains("outcome  REFUSED"));
}

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rootless-check"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_takes_specs_and_several_sources() {
    let f = |n: &str| fixtures_dir().join(n).to_string_lossy().into_owned();
    let (code, out, err) = cli(&[
        "--compose",
        "tests/runs/compose.yml",
        "--format",
        "json",
        "--fail-on",
        "none",
        &f("built/bb.docker20-save.tar"),
        &f("built/bb-suid-wh.docker20-save.tar"),
        &f("built/s6-overlay-real.docker-archive.tar"),
    ]);
    assert_eq!(code, 0, "{}", err);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["images"].as_array().unwrap().len(), 3);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 9);
    let s6 = runs.iter().find(|r| r["name"] == "s6").unwrap();
    assert_eq!(s6["outcome"], "fails");
    assert_eq!(
        s6["source"],
        json!({"file": "tests/runs/compose.yml", "line": 28})
    );
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("\"yes\" for boolean")));
    // --run with the default --fail-on: the privileged root run fails it.
    let (code, out, _) = cli(&["--run", "--privileged", &f("built/bb.docker20-save.tar")]);
    assert_eq!(code, 1);
    assert!(out.contains("run-privileged-root"));
    // A spec that does not parse: E_BAD_SPEC with file, line and column.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("runs-bad");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("c.yml");
    std::fs::write(&bad, "services:\n  a:\n    user: x\n    user: y\n").unwrap();
    let (code, _, err) = cli(&[
        "--compose",
        bad.to_str().unwrap(),
        &f("built/bb.docker20-save.tar"),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("E_BAD_SPEC")
            && err.contains("c.yml:4:5: mapping key")
            && err.contains("already defined at line 3"),
        "{}",
        err
    );
    // .env beside the compose file.
    std::fs::write(dir.join(".env"), "U=4242\n").unwrap();
    let good = dir.join("ok.yml");
    std::fs::write(&good, "services:\n  a:\n    user: \"${U}\"\n").unwrap();
    let (code, out, err) = cli(&[
        "--compose",
        good.to_str().unwrap(),
        "-f",
        "json",
        &f("built/bb.docker20-save.tar"),
    ]);
    assert_eq!(code, 1, "{}", err);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["runs"][0]["user"]["uid"], 4242);
    // Usage mistakes.
    let (code, _, err) = cli(&["--run", "-u 1", "a.tar", "b.tar"]);
    assert_eq!(code, 2);
    assert!(err.contains("--run takes one source"));
    let (code, _, err) = cli(&["--run", "-Z", &f("built/bb.docker20-save.tar")]);
    assert_eq!(code, 2);
    assert!(
        err.contains("E_BAD_SPEC: --run: unknown shorthand flag"),
        "{}",
        err
    );
}

#[test]
fn every_run_rule_fires_in_some_case() {
    let mut fired = std::collections::BTreeSet::new();
    for case in cases().iter().filter(|c| c.get("run").is_some()) {
        let mut report = fixture(case["fixture"].as_str().unwrap());
        hold(
            &mut report,
            &docker_run::parse(case["run"].as_str().unwrap())
                .unwrap()
                .runs,
        );
        fired.extend(report.runs[0].findings.iter().map(|f| f.rule));
    }
    let text = std::fs::read_to_string(here("tests/runs/manifests.yaml")).unwrap();
    let mut report = fixtures(&[
        "built/bb.docker20-save.tar",
        "built/bb-suid-wh.docker20-save.tar",
    ]);
    hold(&mut report, &k8s::parse(&text, None).unwrap().runs);
    hold(
        &mut report,
        &docker_run::parse("--privileged -u 1000 --cap-add SYS_ADMIN fixture/bb-suid-wh:1")
            .unwrap()
            .runs,
    );
    hold(
        &mut report,
        &docker_run::parse("-u 0 --cap-add SYS_ADMIN fixture/bb:1")
            .unwrap()
            .runs,
    );
    fired.extend(
        report
            .runs
            .iter()
            .flat_map(|r| r.findings.iter().map(|f| f.rule)),
    );
    let missing: Vec<&str> = runs::RUN_RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| !fired.contains(id))
        .collect();
    assert!(missing.is_empty(), "run rules never fired: {:?}", missing);
}
