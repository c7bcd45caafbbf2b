//! A user name that the image's own /etc/passwd maps to uid 0.

use alloc::format;
use alloc::vec::Vec;

use super::user_root::spelled_root;
use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "user-name-uid0",
    severity: Severity::High,
    title: "USER is a name that /etc/passwd maps to uid 0",
    rationale: "A name other than `root` can still be uid 0 (`toor`, an `admin` with uid 0). It looks \
                unprivileged in the Dockerfile but the container runs as root.",
    remediation: "Give the user its own non-zero uid in /etc/passwd, or switch to a numeric one:\nUSER 10001:10001",
    references: &["CIS Docker Benchmark 4.1"],
    escalation: false,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(configured) = ctx.user.configured.as_deref() else {
        return;
    };
    if configured.is_empty()
        || spelled_root(configured)
        || ctx.user.numeric
        || ctx.user.uid != Some(0)
    {
        return;
    }
    let name = ctx.user.name.as_deref().unwrap_or(configured);
    let mut f = Finding::new(
        &RULE,
        format!(
            "USER \"{}\" is uid 0 in the image's /etc/passwd: the container runs as root.",
            name
        ),
        RULE.remediation.into(),
    );
    if let Some((_, e)) = ctx.merged.resolve("etc/passwd") {
        f = f.at("/etc/passwd", e.layer, ctx.created_by(e.layer));
    }
    out.push(f.evidence(format!("/etc/passwd: {} has uid 0", name)));
}
