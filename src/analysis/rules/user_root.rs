//! USER is root spelled out: `root`, `0`, `0:0`, `root:…`.

use alloc::format;
use alloc::vec::Vec;

use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "user-root",
    severity: Severity::High,
    title: "USER is root",
    rationale: "The image explicitly runs as uid 0. Kubernetes `runAsNonRoot` rejects it with \
                \"container has runAsNonRoot and image will run as root\".",
    remediation: "Switch to an unprivileged numeric user:\nUSER 10001:10001",
    references: &["CIS Docker Benchmark 4.1"],
    escalation: false,
    check,
};

/// The user part is `0` or `root` (any spelling of uid 0 without passwd).
pub fn spelled_root(configured: &str) -> bool {
    let user = configured.split(':').next().unwrap_or("");
    user == "root" || (!user.is_empty() && user.bytes().all(|b| b == b'0'))
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(configured) = ctx.user.configured.as_deref() else {
        return;
    };
    if !configured.is_empty() && spelled_root(configured) {
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "USER is \"{}\": the container runs as root (uid 0).",
                    configured
                ),
                RULE.remediation.into(),
            )
            .evidence(format!("config.User = {:?}", configured)),
        );
    }
}
