//! Text for people. Every name from the archive is untrusted: control
//! characters are escaped so a crafted file name cannot move the cursor,
//! change colours or forge lines in a terminal or a CI log.

use alloc::string::String;
use core::fmt::Write;

use alloc::vec::Vec;

use crate::analysis::report::{ImageReport, Report, RunOutcome, RunReport};
use crate::analysis::rules::Severity;
use crate::analysis::verdict::Verdict;

/// Escape control characters (C0, DEL, C1) and the Unicode bidi overrides.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn shorten(text: &str, max: usize) -> String {
    let t = clean(text);
    if t.chars().count() <= max {
        return t;
    }
    let mut s: String = t.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

fn user_line(image: &ImageReport) -> String {
    let u = &image.user;
    let Some(configured) = &u.configured else {
        return String::from("unknown (no image config)");
    };
    let mut s = if configured.is_empty() {
        String::from("(not set: runs as root)")
    } else {
        clean(configured)
    };
    match (u.uid, u.gid) {
        (Some(uid), Some(gid)) => {
            let _ = write!(s, " → uid {}, gid {}", uid, gid);
        }
        (Some(uid), None) => {
            let _ = write!(s, " → uid {}", uid);
        }
        _ => s.push_str(" → uid unknown"),
    }
    if let Some(name) = &u.name {
        if !configured.starts_with(name.as_str()) {
            let _ = write!(s, " ({})", clean(name));
        }
    }
    for p in &u.problems {
        let _ = write!(s, "\n                     ! {}", clean(&problem_text(p)));
    }
    s
}

fn problem_text(p: &crate::analysis::user::UserProblem) -> String {
    use crate::analysis::user::UserProblem::*;
    match p {
        UserNotInPasswd { name } => {
            alloc::format!("user {} is not in the image's /etc/passwd", name)
        }
        GroupNotInGroupFile { name } => {
            alloc::format!("group {} is not in the image's /etc/group", name)
        }
        NoPasswdFile => String::from("the image has no /etc/passwd to resolve the user name"),
        InvalidId { value } => alloc::format!("{} is not a valid id", value),
    }
}

fn image_title(image: &ImageReport) -> String {
    let name = match image.tags.first() {
        Some(t) => clean(t),
        None => match &image.config_digest {
            Some(d) => clean(&d[..d.len().min(19)]),
            None => String::from("(untagged)"),
        },
    };
    match &image.platform {
        Some(p) => alloc::format!("{} ({})", name, clean(p)),
        None => name,
    }
}

/// How to render text.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextOptions {
    /// ANSI colours (only on a terminal, and never with NO_COLOR: the CLI decides).
    pub color: bool,
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            alloc::format!("\x1b[{}m{}\x1b[0m", code, text)
        } else {
            String::from(text)
        }
    }

    fn verdict(&self, v: Verdict) -> String {
        // The names are ASCII: to_ascii_uppercase gives the same text without
        // core's Unicode case table (12 KiB of wasm).
        let label = alloc::format!("VERDICT: {}", v.as_str().to_ascii_uppercase());
        let code = match v {
            Verdict::Root => "1;31",
            Verdict::PseudoRootless => "1;33",
            Verdict::Rootless => "1;32",
            Verdict::Unknown => "1",
        };
        self.paint(code, &label)
    }

    fn severity(&self, s: Severity) -> String {
        let label = alloc::format!("{:<8}", s.as_str().to_ascii_uppercase());
        let code = match s {
            Severity::Critical | Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.paint(code, &label)
    }
}

fn image_text(out: &mut String, image: &ImageReport, p: &Painter) {
    let _ = writeln!(out, "\n== {}", image_title(image));
    if image.tags.len() > 1 {
        let more: Vec<String> = image.tags[1..].iter().map(|t| clean(t)).collect();
        let _ = writeln!(out, "   also tagged {}", more.join(", "));
    }
    let _ = writeln!(out, "{}", p.verdict(image.verdict));
    for r in &image.verdict_reasons {
        let _ = writeln!(out, "  {}", clean(r));
    }
    if !image.findings.is_empty() {
        let _ = writeln!(out, "\nFindings ({})", image.findings.len());
        for f in &image.findings {
            let at = match (f.layer, &f.created_by) {
                (Some(l), Some(c)) => alloc::format!("  [layer {}: {}]", l, shorten(c, 60)),
                (Some(l), None) => alloc::format!("  [layer {}]", l),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  {} {:<26} {}{}",
                p.severity(f.severity),
                f.rule,
                clean(&f.message),
                at
            );
        }
    }
    // One line per distinct fix, most severe first (findings are sorted so).
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
        let _ = writeln!(out, "\nFix");
        for fix in fixes {
            for (i, line) in fix.lines().enumerate() {
                let _ = writeln!(out, "  {} {}", if i == 0 { "-" } else { " " }, clean(line));
            }
        }
    }
    if !image.suppressed.is_empty() {
        let _ = writeln!(
            out,
            "\nSuppressed ({}): {}",
            image.suppressed.len(),
            image
                .suppressed
                .iter()
                .map(|f| match &f.path {
                    Some(path) => alloc::format!("{}:{}", f.rule, clean(path)),
                    None => String::from(f.rule),
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(out, "\nFacts");
    let _ = writeln!(out, "  USER               {}", user_line(image));
    if let Some(c) = &image.config {
        if let Some(ep) = &c.entrypoint {
            let _ = writeln!(out, "  Entrypoint         {}", shorten(&ep.join(" "), 100));
        }
        if let Some(cmd) = &c.cmd {
            let _ = writeln!(out, "  Cmd                {}", shorten(&cmd.join(" "), 100));
        }
    }
    let _ = writeln!(
        out,
        "  setuid/setgid      {}",
        if image.setuid_files.is_empty() {
            String::from("none")
        } else {
            alloc::format!("{}", image.setuid_files.len())
        }
    );
    for f in &image.setuid_files {
        let _ = writeln!(
            out,
            "    {} {:>5}:{:<5} {}  (layer {})",
            f.mode,
            f.uid,
            f.gid,
            clean(&f.path),
            f.layer
        );
    }
    let _ = writeln!(
        out,
        "  file capabilities  {}",
        if image.capabilities.is_empty() {
            String::from("none")
        } else {
            alloc::format!("{}", image.capabilities.len())
        }
    );
    for c in &image.capabilities {
        let _ = writeln!(
            out,
            "    {}  {}  (layer {})",
            clean(&c.path),
            c.text,
            c.layer
        );
    }
    let s6 = &image.s6;
    let _ = writeln!(
        out,
        "  s6-overlay         {}",
        match (s6.detected, s6.major, &s6.version) {
            (false, _, _) => String::from("not detected"),
            (true, Some(m), Some(v)) => alloc::format!("v{} ({})", m, clean(v)),
            (true, Some(m), None) => alloc::format!("v{}", m),
            (true, None, _) => String::from("detected"),
        }
    );
    let nnp = &image.no_new_privileges;
    let _ = writeln!(
        out,
        "  no-new-privileges  {}: {}",
        if nnp.compatible {
            "keeps working"
        } else {
            "BREAKS"
        },
        clean(&nnp.reason)
    );
    let whiteouts: usize = image
        .layers
        .iter()
        .map(|l| l.whiteouts.len() + l.opaque_dirs.len())
        .sum();
    let _ = writeln!(
        out,
        "  layers             {}, {} merged entries, {} whiteouts{}",
        image.layers.len(),
        image.merged_entries,
        whiteouts,
        if image.partial { " (incomplete)" } else { "" }
    );
}

fn run_text(out: &mut String, run: &RunReport, p: &Painter) {
    let at = match (&run.source.file, run.source.line) {
        (Some(f), Some(l)) => alloc::format!(" ({}:{})", clean(f), l),
        (Some(f), None) => alloc::format!(" ({})", clean(f)),
        _ => String::new(),
    };
    let _ = writeln!(out, "\n-- {}{}", clean(&run.name), at);
    if let Some(i) = &run.image {
        let _ = writeln!(out, "  image    {}", clean(i));
    }
    let user = match (run.user.uid, run.user.gid) {
        (Some(u), Some(g)) => alloc::format!("uid {}, gid {}", u, g),
        (Some(u), None) => alloc::format!("uid {}", u),
        _ => String::from("unknown"),
    };
    let name = run
        .user
        .name
        .as_deref()
        .map(|n| alloc::format!(" ({})", clean(n)))
        .unwrap_or_default();
    let _ = writeln!(out, "  user     {}{}", user, name);
    let outcome = run.outcome.as_str().to_ascii_uppercase();
    let code = match run.outcome {
        RunOutcome::Starts => "32",
        RunOutcome::Refused | RunOutcome::Fails => "1;31",
        RunOutcome::NotChecked => "2",
    };
    let _ = writeln!(out, "  outcome  {}", p.paint(code, &outcome));
    if let Some(m) = &run.message {
        for line in m.lines() {
            let _ = writeln!(out, "           {}", clean(line));
        }
    }
    let _ = writeln!(out, "  {}", p.verdict(run.verdict));
    for r in &run.verdict_reasons {
        let _ = writeln!(out, "    {}", clean(r));
    }
    let pss = |ok: bool| if ok { "passes" } else { "fails" };
    let _ = writeln!(
        out,
        "  PSS      baseline {}, restricted {}",
        pss(run.pss.baseline),
        pss(run.pss.restricted)
    );
    for f in &run.pss.failures {
        let _ = writeln!(
            out,
            "    {:<10} {}: {} ({})",
            f.level,
            f.control,
            clean(&f.message),
            clean(&f.field)
        );
    }
    for f in &run.findings {
        let _ = writeln!(
            out,
            "  {} {:<26} {}",
            p.severity(f.severity),
            f.rule,
            clean(&f.message)
        );
    }
    if !run.fixes.is_empty() {
        let _ = writeln!(out, "  Fix");
        for fix in &run.fixes {
            for (i, line) in fix.lines().enumerate() {
                let _ = writeln!(
                    out,
                    "    {} {}",
                    if i == 0 { "-" } else { " " },
                    clean(line)
                );
            }
        }
    }
    if !run.suppressed.is_empty() {
        let rules: Vec<&str> = run.suppressed.iter().map(|f| f.rule).collect();
        let _ = writeln!(out, "  Suppressed ({}): {}", rules.len(), rules.join(", "));
    }
    for w in &run.warnings {
        let _ = writeln!(out, "  warning: {}", clean(w));
    }
}

pub fn render(report: &Report, options: TextOptions) -> String {
    let p = Painter {
        color: options.color,
    };
    let mut out = String::new();
    let images = report.images.len();
    let _ = writeln!(
        out,
        "rootless-check {} · {} ({}) · {} image{}{}",
        report.tool.version,
        report.input.format.as_str(),
        report.input.compression.as_str(),
        images,
        if images == 1 { "" } else { "s" },
        if report.partial { " · PARTIAL" } else { "" }
    );
    if let Some(source) = &report.input.source {
        let _ = writeln!(out, "source: {} {}", source.kind, clean(&source.resolved));
        if let Some(digest) = &source.digest {
            let _ = writeln!(out, "  resolved to {}", clean(digest));
        }
        if !source.platforms.is_empty() {
            let platforms: Vec<String> = source.platforms.iter().map(|p| clean(p)).collect();
            let _ = writeln!(out, "  index platforms: {}", platforms.join(", "));
        }
    }
    for image in &report.images {
        image_text(&mut out, image, &p);
    }
    if !report.runs.is_empty() {
        let _ = writeln!(out, "\n== Runs ({})", report.runs.len());
        for run in &report.runs {
            run_text(&mut out, run, &p);
        }
    }
    for w in &report.warnings {
        let _ = writeln!(out, "\nwarning: {}", clean(w));
    }
    for e in &report.errors {
        let _ = writeln!(out, "\nerror: {}", e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(
            clean("a\x1b[31mb\n\u{202e}"),
            "a\\u{1b}[31mb\\u{a}\\u{202e}"
        );
        assert_eq!(clean("/usr/bin/su"), "/usr/bin/su");
    }
}
