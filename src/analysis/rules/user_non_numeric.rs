//! A non-numeric USER: Kubernetes runAsNonRoot cannot verify it.

use alloc::format;
use alloc::vec::Vec;

use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "user-non-numeric",
    severity: Severity::Medium,
    title: "USER is a name, not a number: Kubernetes runAsNonRoot cannot verify it",
    rationale: "The kubelet does not read the image's /etc/passwd. With `runAsNonRoot: true` and a named \
                USER it refuses to start the pod: \"container has runAsNonRoot and image has non-numeric \
                user (NAME), cannot verify user is non-root\".",
    remediation: "Use the numeric uid (and gid) of the user:\nUSER 10001:10001",
    references: &["https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"],
    escalation: false,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(configured) = ctx.user.configured.as_deref() else {
        return;
    };
    if configured.is_empty() || ctx.user.numeric {
        return;
    }
    let name = configured.split(':').next().unwrap_or(configured);
    let fix = match ctx.user.uid {
        Some(uid) if uid != 0 => format!("USER {}:{}", uid, ctx.user.gid.unwrap_or(uid)),
        _ => RULE.remediation.into(),
    };
    out.push(
        Finding::new(
            &RULE,
            format!("container has runAsNonRoot and image has non-numeric user ({}), cannot verify user is non-root", name),
            fix,
        )
        .evidence(format!("config.User = {:?}", configured)),
    );
}
