//! Text for people. Every name from the archive is untrusted: control
//! characters are escaped so a crafted file name cannot move the cursor,
//! change colours or forge lines in a terminal or a CI log.

use alloc::string::String;
use core::fmt::Write;

use crate::analysis::report::{ImageReport, Report};

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
        let _ = write!(s, "\n               ! {}", clean(&problem_text(p)));
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

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let images = report.images.len();
    let _ = writeln!(
        out,
        "rootless-check {}: {} ({}), {} image{}{}",
        report.tool.version,
        serde_json::to_value(report.input.format)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        report.input.compression.as_str(),
        images,
        if images == 1 { "" } else { "s" },
        if report.partial { ", PARTIAL" } else { "" }
    );
    for image in &report.images {
        let _ = writeln!(out, "\nImage {}", image_title(image));
        if image.tags.len() > 1 {
            let more: alloc::vec::Vec<String> = image.tags[1..].iter().map(|t| clean(t)).collect();
            let _ = writeln!(out, "  also tagged  {}", more.join(", "));
        }
        let _ = writeln!(out, "  USER         {}", user_line(image));
        if let Some(c) = &image.config {
            if let Some(ep) = &c.entrypoint {
                let _ = writeln!(out, "  Entrypoint   {}", shorten(&ep.join(" "), 100));
            }
            if let Some(cmd) = &c.cmd {
                let _ = writeln!(out, "  Cmd          {}", shorten(&cmd.join(" "), 100));
            }
        }
        if image.setuid_files.is_empty() {
            let _ = writeln!(out, "  setuid/setgid files: none");
        } else {
            let _ = writeln!(out, "  setuid/setgid files: {}", image.setuid_files.len());
            for f in &image.setuid_files {
                let _ = writeln!(
                    out,
                    "    {} {:>5}:{:<5} {}  (layer {}{})",
                    f.mode,
                    f.uid,
                    f.gid,
                    clean(&f.path),
                    f.layer,
                    f.created_by
                        .as_deref()
                        .map(|c| alloc::format!(": {}", shorten(c, 60)))
                        .unwrap_or_default()
                );
            }
        }
        if image.capabilities.is_empty() {
            let _ = writeln!(out, "  file capabilities: none");
        } else {
            let _ = writeln!(out, "  file capabilities: {}", image.capabilities.len());
            for c in &image.capabilities {
                let _ = writeln!(
                    out,
                    "    {}  {}  (layer {})",
                    clean(&c.path),
                    c.text,
                    c.layer
                );
            }
        }
        let whiteouts: usize = image
            .layers
            .iter()
            .map(|l| l.whiteouts.len() + l.opaque_dirs.len())
            .sum();
        let _ = writeln!(
            out,
            "  layers: {}, {} merged entries, {} whiteouts{}",
            image.layers.len(),
            image.merged_entries,
            whiteouts,
            if image.partial { " (incomplete)" } else { "" }
        );
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
