//! JUnit XML for CI test reports (Jenkins, GitLab, Azure Pipelines): one
//! `<testsuite>` per image and one `<testcase>` per rule of the catalogue
//! and image. A rule fails when one of its findings is at or above
//! `--fail-on`; findings below it pass with their text in `<system-out>`;
//! a rule whose findings were all ignored is `<skipped>`. A partial report
//! adds a testcase with an `<error>`.
//!
//! Everything is XML-escaped; characters XML 1.0 does not allow (most C0
//! controls, U+FFFE, U+FFFF) never reach the output: they are written as
//! `\u{…}` text, as the text report shows them.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::analysis::report::{ImageReport, Report};
use crate::analysis::rules::{Finding, Severity, RULES};

/// Text for XML character data or a double-quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Allowed, but an attribute value would turn them into spaces.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if !allowed(c) || is_bidi(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// XML 1.0's `Char` production (a Rust `char` is never a surrogate); C1
/// controls are allowed but discouraged: escaped too.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn image_name(image: &ImageReport) -> String {
    let name = image
        .tags
        .first()
        .cloned()
        .or_else(|| image.config_digest.clone())
        .unwrap_or_else(|| String::from("image"));
    match &image.platform {
        Some(p) => format!("{} ({})", name, p),
        None => name,
    }
}

fn finding_text(f: &Finding) -> String {
    let mut s = format!("[{}] {}", f.severity.as_str(), f.message);
    if let Some(p) = &f.path {
        let _ = write!(s, "\npath: {}", p);
    }
    if let Some(l) = f.layer {
        let _ = write!(s, "\nlayer: {}", l);
    }
    if let Some(c) = &f.created_by {
        let _ = write!(s, "\ncreated by: {}", c);
    }
    for e in &f.evidence {
        let _ = write!(s, "\n{}", e);
    }
    let _ = write!(s, "\nfix:\n{}", f.remediation);
    s
}

struct Case {
    name: &'static str,
    failing: Vec<String>,
    passing: Vec<String>,
    suppressed: usize,
    worst: Option<Severity>,
}

fn cases(image: &ImageReport, fail_on: Option<Severity>) -> Vec<Case> {
    RULES
        .iter()
        .map(|rule| {
            let mut case = Case {
                name: rule.id,
                failing: Vec::new(),
                passing: Vec::new(),
                suppressed: image
                    .suppressed
                    .iter()
                    .filter(|f| f.rule == rule.id)
                    .count(),
                worst: None,
            };
            for f in image.findings.iter().filter(|f| f.rule == rule.id) {
                if fail_on.is_some_and(|t| f.severity >= t) {
                    case.failing.push(finding_text(f));
                    case.worst = case.worst.max(Some(f.severity));
                } else {
                    case.passing.push(finding_text(f));
                }
            }
            case
        })
        .collect()
}

/// The JUnit report; `fail_on` as `--fail-on` (`None`: nothing fails).
pub fn render(report: &Report, fail_on: Option<Severity>) -> String {
    let suites: Vec<(String, Vec<Case>)> = report
        .images
        .iter()
        .map(|i| (image_name(i), cases(i, fail_on)))
        .collect();
    let broken = report.partial || !report.errors.is_empty();
    let tests: usize = suites.iter().map(|s| s.1.len()).sum::<usize>() + usize::from(broken);
    let failures: usize = suites
        .iter()
        .flat_map(|s| &s.1)
        .filter(|c| !c.failing.is_empty())
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"rootless-check\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
        tests,
        failures,
        usize::from(broken)
    );
    for (name, cases) in &suites {
        let failed = cases.iter().filter(|c| !c.failing.is_empty()).count();
        let skipped = cases
            .iter()
            .filter(|c| c.failing.is_empty() && c.passing.is_empty() && c.suppressed > 0)
            .count();
        let classname = escape(&format!("rootless-check.{}", name));
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
            escape(name),
            cases.len(),
            failed,
            skipped
        );
        for case in cases {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\"",
                case.name, classname
            );
            if !case.failing.is_empty() {
                let worst = case.worst.map_or("", |s| s.as_str());
                let first = case.failing[0].lines().next().unwrap_or("");
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    worst,
                    escape(first),
                    escape(&case.failing.join("\n\n"))
                );
                if !case.passing.is_empty() {
                    let _ = writeln!(
                        out,
                        "      <system-out>{}</system-out>",
                        escape(&case.passing.join("\n\n"))
                    );
                }
                let _ = writeln!(out, "    </testcase>");
            } else if !case.passing.is_empty() {
                let _ = writeln!(
                    out,
                    ">\n      <system-out>{}</system-out>\n    </testcase>",
                    escape(&case.passing.join("\n\n"))
                );
            } else if case.suppressed > 0 {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{} finding{} ignored\"/>\n    </testcase>",
                    case.suppressed,
                    if case.suppressed == 1 { "" } else { "s" }
                );
            } else {
                let _ = writeln!(out, "/>");
            }
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    if broken {
        let mut text: Vec<String> = report.errors.iter().map(|e| format!("{}", e)).collect();
        if report.partial {
            text.push(String::from(
                "the report is partial: part of the archive could not be read",
            ));
        }
        let _ = writeln!(
            out,
            "  <testsuite name=\"rootless-check\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    <testcase name=\"read\" classname=\"rootless-check\">\n      <error message=\"{}\">{}</error>\n    </testcase>\n  </testsuite>",
            escape(text.first().map_or("", |s| s.as_str())),
            escape(&text.join("\n"))
        );
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_characters_xml_forbids() {
        assert_eq!(
            escape("a<b>&\"'\u{1b}\u{0}\u{fffe}\u{85}\n"),
            "a&lt;b&gt;&amp;&quot;&apos;\\u{1b}\\u{0}\\u{fffe}\\u{85}&#10;"
        );
        assert_eq!(escape("ünï/😀"), "ünï/😀");
    }
}
