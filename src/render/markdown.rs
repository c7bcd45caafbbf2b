//! Markdown for CI job summaries and pull-request comments (GitHub-flavoured:
//! tables). Every name from the archive is untrusted: it is cleaned of
//! control characters (as in the text report), then every character that
//! Markdown or HTML could read as markup is escaped, so that a path holding
//! `|`, backticks, `<script>` or a newline shows as itself, never as a table
//! cell boundary, code, a link or HTML. The fixes are fenced code blocks
//! whose fence is longer than any run of backticks inside them.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::text::clean;
use crate::analysis::report::{ImageReport, Report};
use crate::analysis::rules::Severity;
use crate::analysis::verdict::Verdict;

/// Untrusted text for inline Markdown (a paragraph, a list item or a table
/// cell): control characters escaped as `\u{…}` (so no newline ends the
/// cell or line), `<`, `>` and `&` as HTML entities (so no HTML, no
/// autolink), and the other ASCII punctuation Markdown gives a meaning to
/// behind a backslash.
pub fn escape(text: &str) -> String {
    let cleaned = clean(text);
    let mut out = String::with_capacity(cleaned.len());
    for c in cleaned.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '{' | '}' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' | '$' | '"' | '\'' | ':' | '@' | '=' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A fenced code block of `text` (trusted layout, possibly untrusted names):
/// each line cleaned of control characters, the fence longer than any run
/// of backticks in it, so nothing inside can close it.
fn code_block(out: &mut String, info: &str, text: &str) {
    let lines: Vec<String> = text.lines().map(clean).collect();
    let mut longest = 0;
    for line in &lines {
        let mut run = 0;
        for c in line.chars() {
            run = if c == '`' { run + 1 } else { 0 };
            longest = longest.max(run);
        }
    }
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "{}{}", fence, info);
    for line in &lines {
        let _ = writeln!(out, "{}", line);
    }
    let _ = writeln!(out, "{}", fence);
}

fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Root => "❌ root",
        Verdict::PseudoRootless => "⚠️ pseudo-rootless",
        Verdict::Rootless => "✅ rootless",
        Verdict::Unknown => "❔ unknown",
    }
}

fn image_title(image: &ImageReport) -> String {
    let name = match image.tags.first() {
        Some(t) => escape(t),
        None => match &image.config_digest {
            Some(d) => escape(&d[..d.len().min(19)]),
            None => String::from("\\(untagged\\)"),
        },
    };
    match &image.platform {
        Some(p) => format!("{} \\({}\\)", name, escape(p)),
        None => name,
    }
}

fn severity_cell(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "**critical**",
        Severity::High => "**high**",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Info => "info",
    }
}

fn image_markdown(out: &mut String, image: &ImageReport) {
    let _ = writeln!(out, "\n## {}\n", image_title(image));
    if image.tags.len() > 1 {
        let more: Vec<String> = image.tags[1..].iter().map(|t| escape(t)).collect();
        let _ = writeln!(out, "Also tagged {}\n", more.join(", "));
    }
    let _ = writeln!(out, "**Verdict: {}**\n", verdict_label(image.verdict));
    for r in &image.verdict_reasons {
        let _ = writeln!(out, "- {}", escape(r));
    }
    if !image.verdict_reasons.is_empty() {
        out.push('\n');
    }

    if !image.findings.is_empty() {
        let _ = writeln!(out, "### Findings ({})\n", image.findings.len());
        let _ = writeln!(out, "| Severity | Rule | Finding | Layer |");
        let _ = writeln!(out, "| --- | --- | --- | ---: |");
        for f in &image.findings {
            let layer = match (f.layer, &f.created_by) {
                (Some(l), Some(c)) => format!("{}: {}", l, escape(&shorten(c, 60))),
                (Some(l), None) => format!("{}", l),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                severity_cell(f.severity),
                f.rule,
                escape(&f.message),
                layer
            );
        }
        out.push('\n');
    }

    if !image.setuid_files.is_empty() {
        let _ = writeln!(
            out,
            "### setuid and setgid files ({})\n",
            image.setuid_files.len()
        );
        let _ = writeln!(out, "| Mode | Owner | Path | Layer |");
        let _ = writeln!(out, "| ---: | ---: | --- | ---: |");
        for f in &image.setuid_files {
            let mut path = escape(&f.path);
            if let Some(target) = &f.hard_link_to {
                let _ = write!(path, " \\(hard link to {}\\)", escape(target));
            }
            let _ = writeln!(
                out,
                "| {} | {}:{} | {} | {} |",
                escape(&f.mode),
                f.uid,
                f.gid,
                path,
                f.layer
            );
        }
        out.push('\n');
    }

    if !image.capabilities.is_empty() {
        let _ = writeln!(
            out,
            "### File capabilities ({})\n",
            image.capabilities.len()
        );
        let _ = writeln!(out, "| Path | Capabilities | Owner | Layer |");
        let _ = writeln!(out, "| --- | --- | ---: | ---: |");
        for c in &image.capabilities {
            let _ = writeln!(
                out,
                "| {} | {} | {}:{} | {} |",
                escape(&c.path),
                escape(&c.text),
                c.uid,
                c.gid,
                c.layer
            );
        }
        out.push('\n');
    }

    // One block per distinct fix, most severe first (findings are sorted so).
    let mut fixes: Vec<&str> = Vec::new();
    for f in image
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
    {
        if !fixes.contains(&f.remediation.as_str()) {
            fixes.push(&f.remediation);
        }
    }
    if !fixes.is_empty() {
        let _ = writeln!(out, "### Fix\n");
        for fix in fixes {
            code_block(out, "dockerfile", fix);
            out.push('\n');
        }
    }

    if !image.suppressed.is_empty() {
        let list: Vec<String> = image
            .suppressed
            .iter()
            .map(|f| match &f.path {
                Some(path) => format!("`{}` at {}", f.rule, escape(path)),
                None => format!("`{}`", f.rule),
            })
            .collect();
        let _ = writeln!(
            out,
            "Suppressed ({}): {}\n",
            image.suppressed.len(),
            list.join(", ")
        );
    }

    let u = &image.user;
    let user = match &u.configured {
        None => String::from("unknown \\(no image config\\)"),
        Some(c) if c.is_empty() => String::from("not set \\(runs as root\\)"),
        Some(c) => escape(c),
    };
    let ids = match (u.uid, u.gid) {
        (Some(uid), Some(gid)) => format!(" → uid {}, gid {}", uid, gid),
        (Some(uid), None) => format!(" → uid {}", uid),
        _ => String::new(),
    };
    let _ = writeln!(out, "- **USER**: {}{}", user, ids);
    let nnp = &image.no_new_privileges;
    let _ = writeln!(
        out,
        "- **no-new-privileges**: {}: {}",
        if nnp.compatible {
            "keeps working"
        } else {
            "breaks"
        },
        escape(&nnp.reason)
    );
    let s6 = &image.s6;
    if s6.detected {
        let version = match (s6.major, &s6.version) {
            (Some(m), Some(v)) => format!("v{} \\({}\\)", m, escape(v)),
            (Some(m), None) => format!("v{}", m),
            (None, _) => String::from("detected"),
        };
        let _ = writeln!(out, "- **s6-overlay**: {}", version);
    }
    let _ = writeln!(
        out,
        "- **layers**: {}, {} merged entries{}",
        image.layers.len(),
        image.merged_entries,
        if image.partial {
            " \\(incomplete\\)"
        } else {
            ""
        }
    );
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return String::from(text);
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let images = report.images.len();
    let _ = writeln!(out, "# rootless-check\n");
    let _ = writeln!(
        out,
        "rootless-check {} · {} \\({}\\) · {} image{}{}",
        report.tool.version,
        report.input.format.as_str(),
        report.input.compression.as_str(),
        images,
        if images == 1 { "" } else { "s" },
        if report.partial {
            " · **PARTIAL**"
        } else {
            ""
        }
    );
    if let Some(source) = &report.input.source {
        let _ = writeln!(
            out,
            "\nSource: {} {}",
            escape(&source.kind),
            escape(&source.resolved)
        );
    }
    if images > 1 {
        let _ = writeln!(out, "\n| Image | Verdict | Findings |");
        let _ = writeln!(out, "| --- | --- | ---: |");
        for image in &report.images {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                image_title(image),
                verdict_label(image.verdict),
                image.findings.len()
            );
        }
    }
    for image in &report.images {
        image_markdown(&mut out, image);
    }
    for w in &report.warnings {
        let _ = writeln!(out, "\n> **Warning**: {}", escape(w));
    }
    for e in &report.errors {
        let _ = writeln!(out, "\n> **Error**: {}", escape(&format!("{}", e)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_from_the_archive_is_markup() {
        assert_eq!(
            escape("a|b`c`<script>x</script>\n[l](u)"),
            "a\\|b\\`c\\`&lt;script&gt;x&lt;/script&gt;\\\\u\\{a\\}\\[l\\]\\(u\\)"
        );
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert!(!escape("*_~#!$").contains(|c: char| c.is_alphanumeric()));
    }

    #[test]
    fn a_fence_no_content_can_close() {
        let mut out = String::new();
        code_block(&mut out, "sh", "echo ```` x\nrm\x1b[2J");
        assert_eq!(out, "`````sh\necho ```` x\nrm\\u{1b}[2J\n`````\n");
    }
}
