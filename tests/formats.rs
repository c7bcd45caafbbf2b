//! The CI and documentation formats (markdown, junit, badge, shields) on
//! fixtures and on generated images whose names hold Markdown, HTML and XML
//! markup, control characters and table separators: nothing from the
//! archive is read as markup, and the exit status is the other formats'.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootless-check"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

const NASTY: &str =
    "opt/a|b `x` <script>alert(1)</script> [l](javascript:x) **b** &amp; \u{1b}[31m\nforged | row";

/// A generated image, USER app, with a setuid-root file and a file with
/// capabilities named NASTY, tagged with markup too. Returns its path.
fn nasty_image(dir: &std::path::Path) -> String {
    let passwd = b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n";
    let caps = {
        // VFS_CAP_REVISION_2, effective, CAP_NET_RAW (13) permitted.
        let mut v = vec![0x01, 0x00, 0x00, 0x02];
        v.extend_from_slice(&(1u32 << 13).to_le_bytes());
        v.extend_from_slice(&[0; 12]);
        v
    };
    let entries = vec![
        dir_entry("etc"),
        with_data(file("etc/passwd", 0o644), passwd),
        with_data(file("etc/group", 0o644), b"root:x:0:\napp:x:1000:\n"),
        dir_entry("opt"),
        file(NASTY, 0o4755),
        with_caps(file(&format!("{}-cap", NASTY), 0o755), &caps),
    ];
    let bytes = docker_save(
        Some("app"),
        &[layer(&entries)],
        &["evil/<img src=x onerror=alert(1)>|`tag`:1"],
    );
    let path = dir.join("nasty.tar");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
    path.to_string_lossy().into_owned()
}

fn dir_entry(p: &str) -> E {
    dir(p)
}

/// Markdown outside fenced code blocks, and the blocks' contents. A block
/// ends only at a fence at least as long as the one that opened it.
fn split_code_blocks(md: &str) -> (String, Vec<String>) {
    let mut prose = String::new();
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for line in md.lines() {
        let ticks = line.chars().take_while(|c| *c == '`').count();
        match &mut open {
            None if ticks >= 3 => open = Some((ticks, String::new())),
            None => {
                prose.push_str(line);
                prose.push('\n');
            }
            Some((n, _)) if ticks >= *n && line.trim_end().len() == ticks => {
                blocks.push(open.take().unwrap().1)
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    assert!(open.is_none(), "an unclosed code block");
    (prose, blocks)
}

/// Pipes that are not escaped with a backslash.
fn cell_separators(line: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => n += 1,
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    n
}

#[test]
fn markdown_never_passes_archive_text_through() {
    let dir = TempDir::new("formats");
    let file = nasty_image(dir.path());
    let out = cli(&["--format", "markdown", &file]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a setuid-root file fails at high"
    );
    let md = stdout(&out);
    assert!(md.contains("**Verdict: ⚠️ pseudo-rootless**"), "{}", md);
    assert!(!md.contains('\u{1b}'));
    // Outside code blocks: no HTML from the archive, no forged lines.
    let (prose, blocks) = split_code_blocks(&md);
    assert!(!prose.contains('<'), "{}", prose);
    assert!(prose.contains("&lt;script&gt;alert\\(1\\)&lt;/script&gt;"));
    assert!(!prose.lines().any(|l| l.starts_with("forged")));
    // The fix with the name is a code block: shown as it is, and its
    // backticks did not close the fence.
    assert!(blocks
        .iter()
        .any(|b| b.contains("RUN chmod u-s /opt/a|b `x` <script>")));
    assert!(md.contains("\\u\\{a\\}forged \\| row"));
    // Every table row keeps its cell count: 5 separators for 4 columns.
    let mut rows = 0;
    for line in md.lines().filter(|l| l.starts_with('|')) {
        assert_eq!(cell_separators(line), 5, "{:?}", line);
        rows += 1;
    }
    assert!(
        rows >= 8,
        "tables for findings, setuid and capabilities:\n{}",
        md
    );
    assert!(md.contains("### setuid and setgid files (1)"));
    assert!(md.contains("### File capabilities (1)"));
    // Backticks from the archive never open a code span.
    for line in prose.lines().filter(|l| l.contains("script")) {
        assert!(!line.contains(" `x`"), "{:?}", line);
    }
    assert!(md.contains("### Fix"));
}

#[test]
fn markdown_on_s6_overlay_shows_the_verdict_the_helper_and_a_table() {
    let file = fixture("built/s6-overlay-real.docker-archive.tar");
    let out = cli(&["--format", "markdown", &file]);
    let md = stdout(&out);
    assert!(md.contains("**Verdict: ⚠️ pseudo-rootless**"));
    assert!(md.contains("s6\\-overlay\\-suexec"));
    assert!(md.contains("| 4755 | 0:0 | /package/admin/s6\\-overlay\\-helpers"));
    assert!(md.contains("```dockerfile\nRUN chmod u-s /package/admin/s6-overlay-helpers"));
    assert_eq!(out.status.code(), Some(1));
    let none = cli(&["--format", "markdown", "--fail-on", "none", &file]);
    assert_eq!(none.status.code(), Some(0));
    assert_eq!(none.stdout, out.stdout);
}

fn fixture(name: &str) -> String {
    fixtures_dir().join(name).to_string_lossy().into_owned()
}

/// A well-formedness check small enough to trust: every tag closed in
/// order, attributes quoted, only the five entities and numeric references,
/// no character XML 1.0 forbids.
fn assert_well_formed(xml: &str) {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .expect("XML declaration");
    for c in body.chars() {
        let ok = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
        assert!(ok, "character U+{:04X} is not allowed in XML 1.0", c as u32);
    }
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find(['<', '&']) {
        let text = &rest[..start];
        assert!(!text.contains('>'), "a bare > in {:?}", text);
        rest = &rest[start..];
        if rest.starts_with('&') {
            let end = rest.find(';').expect("an entity ends with ;");
            let entity = &rest[1..end];
            assert!(
                ["amp", "lt", "gt", "quot", "apos"].contains(&entity)
                    || entity
                        .strip_prefix('#')
                        .is_some_and(|n| n.parse::<u32>().is_ok()),
                "entity {:?}",
                entity
            );
            rest = &rest[end + 1..];
            continue;
        }
        let end = rest.find('>').expect("a tag ends");
        let tag = &rest[1..end];
        assert!(!tag.contains('<'), "< inside a tag: {:?}", tag);
        // Attribute values: no raw < or unescaped quotes (quotes balance).
        assert_eq!(tag.matches('"').count() % 2, 0, "{:?}", tag);
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "closing {}", name);
        } else if !tag.ends_with('/') {
            let name = tag.split([' ', '\n']).next().unwrap();
            stack.push(name.to_string());
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed {:?}", stack);
}

#[test]
fn junit_one_testcase_per_rule_failing_at_fail_on() {
    let dir = TempDir::new("formats");
    let file = nasty_image(dir.path());
    let rules = rootless_check::analysis::rules::RULES.len();
    let high = cli(&["--format", "junit", &file]);
    assert_eq!(high.status.code(), Some(1));
    let xml = stdout(&high);
    assert_well_formed(&xml);
    assert_eq!(xml.matches("<testcase ").count(), rules);
    assert!(xml.contains(&format!(
        "<testsuites name=\"rootless-check\" tests=\"{}\" failures=\"1\" errors=\"0\">",
        rules
    )));
    assert!(xml.contains("<testcase name=\"setuid-root\""));
    assert!(xml.contains("&lt;script&gt;"));
    assert!(xml.contains("\\u{1b}[31m"));
    assert!(!xml.contains("<script"));
    // Lower threshold: more failures; none: no failure and exit 0.
    let low = stdout(&cli(&["--format", "junit", "--fail-on", "low", &file]));
    assert_well_formed(&low);
    assert!(low.matches("<failure ").count() > 1);
    let none = cli(&["--format", "junit", "--fail-on", "none", &file]);
    assert_eq!(none.status.code(), Some(0));
    let none = stdout(&none);
    assert_well_formed(&none);
    assert_eq!(none.matches("<failure ").count(), 0);
    assert!(none.contains("failures=\"0\""));
    // Ignored findings of a rule: skipped.
    let ignored = stdout(&cli(&[
        "--format",
        "junit",
        "--ignore",
        "setuid-root",
        &file,
    ]));
    assert_well_formed(&ignored);
    assert!(ignored.contains("<skipped message=\"1 finding ignored\"/>"));
}

#[test]
fn junit_of_every_fixture_is_well_formed() {
    for f in [
        "built/s6-overlay-real.docker-archive.tar",
        "built/bb-filecap.docker-archive.tar",
        "built/deb12-minbase.docker20-save.tar.gz",
    ] {
        let out = cli(&["--format", "junit", &fixture(f)]);
        assert_well_formed(&stdout(&out));
    }
}

#[test]
fn badge_and_shields_show_the_verdict_accessibly() {
    for (f, verdict, color) in [
        (
            "built/s6-overlay-real.docker-archive.tar",
            "pseudo-rootless",
            "yellow",
        ),
        (
            "built/s6-overlay-real-root.docker-archive.tar",
            "root",
            "red",
        ),
    ] {
        let svg = stdout(&cli(&["--format", "badge", &fixture(f)]));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains(&format!("aria-label=\"rootless-check: {}\"", verdict)));
        assert!(svg.contains(&format!("<title>rootless-check: {}</title>", verdict)));
        assert_well_formed(&format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
            svg
        ));
        let out = cli(&["--format", "shields", &fixture(f)]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"schemaVersion": 1, "label": "rootless-check", "message": verdict, "color": color})
        );
    }
    let rootless = cli(&[
        "--format",
        "shields",
        &fixture("built/deb12-hardened.oci-archive.tar"),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&rootless.stdout).unwrap();
    assert!(json["message"].is_string());
}

#[test]
fn unknown_format_lists_the_formats() {
    let out = cli(&["--format", "xml", "x.tar"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("use text, json, sarif, markdown, junit, badge or shields"));
    assert!(err.contains("markdown (job summaries"));
}
