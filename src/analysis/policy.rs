//! What fails a run, and what a team has accepted: the `--fail-on` threshold
//! and `--ignore RULE[:PATH-GLOB]` suppressions (also read from an ignore file).
//! Suppressed findings stay in the report under `suppressed`; they do not
//! change the verdict, only the exit status.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::{Error, ErrorCode};
use super::report::Report;
use super::rules::{self, Severity};

/// One accepted finding pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignore {
    pub rule: String,
    /// Glob over the finding's absolute path: `*` within a path component,
    /// `**` across components, `?` one character. `None`: every finding of the rule.
    pub path_glob: Option<String>,
}

impl Ignore {
    /// Parse `RULE` or `RULE:GLOB`; the rule must exist (a typo must not
    /// silently ignore nothing).
    pub fn parse(spec: &str) -> Result<Ignore, Error> {
        let spec = spec.trim();
        let (rule, glob) = match spec.split_once(':') {
            Some((r, g)) => (r.trim(), Some(String::from(g.trim()))),
            None => (spec, None),
        };
        if rules::rule(rule).is_none() {
            return Err(Error::new(
                ErrorCode::Usage,
                alloc::format!("unknown rule {:?} in ignore {:?}", rule, spec),
            ));
        }
        if glob.as_deref() == Some("") {
            return Err(Error::new(
                ErrorCode::Usage,
                alloc::format!("empty path glob in ignore {:?}", spec),
            ));
        }
        Ok(Ignore {
            rule: String::from(rule),
            path_glob: glob,
        })
    }

    pub fn matches(&self, rule: &str, path: Option<&str>) -> bool {
        if self.rule != rule {
            return false;
        }
        match (&self.path_glob, path) {
            (None, _) => true,
            (Some(g), Some(p)) => glob_match(g.as_bytes(), p.as_bytes()),
            (Some(_), None) => false,
        }
    }
}

/// An ignore file: one `RULE` or `RULE:GLOB` per line, `#` comments, blank lines.
pub fn parse_ignore_file(text: &str) -> Result<Vec<Ignore>, Error> {
    text.lines()
        .enumerate()
        .map(|(n, l)| (n, l.split('#').next().unwrap_or("").trim()))
        .filter(|(_, l)| !l.is_empty())
        .map(|(n, l)| {
            Ignore::parse(l)
                .map_err(|e| Error::new(e.code, alloc::format!("line {}: {}", n + 1, e.message)))
        })
        .collect()
}

/// Glob matching with `*`, `**` and `?` (iterative, no recursion blow-up).
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    // Two-pointer wildcard matching that backtracks to the last star, and to
    // the last `**` when a single star would have to cross a '/'.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None; // single star: (pattern after it, text position)
    let mut double: Option<(usize, usize)> = None; // last `**`
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            if pattern.get(p + 1) == Some(&b'*') {
                p += 2;
                double = Some((p, t));
                star = None;
            } else {
                p += 1;
                star = Some((p, t));
            }
            continue;
        }
        if p < pattern.len() && ((pattern[p] == b'?' && text[t] != b'/') || pattern[p] == text[t]) {
            p += 1;
            t += 1;
            continue;
        }
        if let Some((sp, st)) = star.filter(|&(_, st)| text[st] != b'/') {
            // The single star eats one more character.
            star = Some((sp, st + 1));
            p = sp;
            t = st + 1;
        } else if let Some((dp, dt)) = double {
            double = Some((dp, dt + 1));
            star = None;
            p = dp;
            t = dt + 1;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// Move the findings that match an ignore to `suppressed`.
pub fn apply_ignores(report: &mut Report, ignores: &[Ignore]) {
    if ignores.is_empty() {
        return;
    }
    for image in &mut report.images {
        let (suppressed, kept): (Vec<_>, Vec<_>) = core::mem::take(&mut image.findings)
            .into_iter()
            .partition(|f| ignores.iter().any(|i| i.matches(f.rule, f.path.as_deref())));
        image.findings = kept;
        image.suppressed.extend(suppressed);
    }
    for run in &mut report.runs {
        let (suppressed, kept): (Vec<_>, Vec<_>) = core::mem::take(&mut run.findings)
            .into_iter()
            .partition(|f| ignores.iter().any(|i| i.matches(f.rule, f.path.as_deref())));
        run.findings = kept;
        run.suppressed.extend(suppressed);
    }
}

/// Whether any unsuppressed finding, of an image or of a run, is at or
/// above `threshold` (`None`: never).
pub fn fails(report: &Report, threshold: Option<Severity>) -> bool {
    let Some(threshold) = threshold else {
        return false;
    };
    report
        .images
        .iter()
        .flat_map(|i| &i.findings)
        .chain(report.runs.iter().flat_map(|r| &r.findings))
        .any(|f| f.severity >= threshold)
}

/// The default `--fail-on`: high and critical findings fail the run.
pub const DEFAULT_FAIL_ON: Severity = Severity::High;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(b"/usr/bin/passwd", b"/usr/bin/passwd"));
        assert!(glob_match(b"/usr/bin/*", b"/usr/bin/passwd"));
        assert!(!glob_match(b"/usr/*", b"/usr/bin/passwd"));
        assert!(glob_match(b"/usr/**", b"/usr/bin/passwd"));
        assert!(glob_match(b"**/passwd", b"/usr/bin/passwd"));
        assert!(glob_match(b"/usr/bin/pass??", b"/usr/bin/passwd"));
        assert!(!glob_match(b"/usr/bin/pass?", b"/usr/bin/passwd"));
        assert!(glob_match(b"/usr/*/ch*", b"/usr/sbin/chage"));
        assert!(!glob_match(b"/usr/bin/su", b"/usr/bin/sudo"));
        assert!(glob_match(b"/a/**/b*/c", b"/a/x/y/bz/c"));
        assert!(glob_match(b"/a/**/b*", b"/a/bz/x/bq"));
        assert!(!glob_match(b"/a/*/c", b"/a/x/y/c"));
        // Pathological patterns stay linear-ish.
        let long = [b'a'; 2000];
        assert!(!glob_match(b"*a*a*a*a*a*a*a*a*b", &long));
    }

    #[test]
    fn ignore_specs() {
        let i = Ignore::parse("setuid-root:/usr/bin/passwd").unwrap();
        assert!(i.matches("setuid-root", Some("/usr/bin/passwd")));
        assert!(!i.matches("setuid-root", Some("/usr/bin/su")));
        assert!(!i.matches("setuid-root", None));
        assert!(Ignore::parse("shell-present")
            .unwrap()
            .matches("shell-present", None));
        assert_eq!(
            Ignore::parse("no-such-rule").unwrap_err().code,
            ErrorCode::Usage
        );
        let f = parse_ignore_file(
            "# accepted\nsetuid-root:/usr/bin/passwd  # needed\n\nshell-present\n",
        )
        .unwrap();
        assert_eq!(f.len(), 2);
        assert!(parse_ignore_file("bogus\n")
            .unwrap_err()
            .message
            .starts_with("line 1"));
    }
}
