//! docs/rules.md is generated from the rule registry and must match it.
//! Regenerate with: UPDATE_DOCS=1 cargo test --test docs

use std::path::Path;

#[test]
fn rule_catalogue_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let want = rootless_check::render::catalogue::markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/rules.md is out of date: run UPDATE_DOCS=1 cargo test --test docs"
    );
}

#[test]
fn error_catalogue_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/errors.md");
    let want = rootless_check::render::catalogue::errors_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/errors.md is out of date: run UPDATE_DOCS=1 cargo test --test docs"
    );
    for code in rootless_check::ErrorCode::ALL {
        assert!(have.contains(&format!("`{}`", code.as_str())));
    }
}

#[test]
fn catalogue_lists_every_rule_with_rationale_and_fix() {
    let md = rootless_check::render::catalogue::markdown();
    for r in rootless_check::analysis::rules::RULES {
        assert!(md.contains(&format!("\n## {}\n", r.id)), "{}", r.id);
        assert!(
            !r.rationale.is_empty() && !r.remediation.is_empty() && !r.title.is_empty(),
            "{}",
            r.id
        );
    }
    // CIS Docker Benchmark references the issue asks for.
    assert!(md.contains("CIS Docker Benchmark 4.1") && md.contains("CIS Docker Benchmark 4.8"));
}
