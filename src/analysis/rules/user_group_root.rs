//! The container's group is gid 0 (root) while the user is not root.

use alloc::format;
use alloc::vec::Vec;

use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "user-group-root",
    severity: Severity::Medium,
    title: "Non-root USER runs with group 0 (root)",
    rationale: "With gid 0 the process can write every file and directory that is group-writable by root \
                (common for OpenShift-style images), and setgid-root files give nothing more. A user given \
                without a group and without a passwd entry also gets gid 0.",
    remediation: "Name a non-zero group explicitly:\nUSER 10001:10001",
    references: &["CIS Docker Benchmark 4.1"],
    escalation: false,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    if ctx.starts_as_root()
        || ctx.user.configured.is_none()
        || ctx.user.configured.as_deref() == Some("")
    {
        return;
    }
    if ctx.user.gid == Some(0) {
        let configured = ctx.user.configured.as_deref().unwrap_or("");
        let how = if configured.contains(':') {
            "as configured"
        } else {
            "because USER names no group and passwd gives no other primary group"
        };
        out.push(
            Finding::new(
                &RULE,
                format!("USER \"{}\" runs with gid 0 ({}).", configured, how),
                RULE.remediation.into(),
            )
            .evidence(format!("resolved gid = 0 for USER {:?}", configured)),
        );
    }
}
