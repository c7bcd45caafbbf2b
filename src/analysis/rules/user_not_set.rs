//! USER is empty or absent: the container runs as root.

use alloc::vec::Vec;

use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "user-not-set",
    severity: Severity::High,
    title: "No USER: the container runs as root",
    rationale: "Without a USER instruction the runtime starts the container as uid 0. A process escaping \
                the container, or abusing a mounted volume or a kernel bug, does so as root.",
    remediation: "Create an unprivileged user and switch to it by number, so Kubernetes can verify it:\n\
                  RUN useradd --system --uid 10001 --no-create-home app   # Alpine: adduser -S -u 10001 app\n\
                  USER 10001:10001",
    references: &["CIS Docker Benchmark 4.1", "https://docs.docker.com/reference/dockerfile/#user"],
    escalation: false,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    if ctx.user.configured.as_deref() == Some("") {
        out.push(
            Finding::new(
                &RULE,
                "The image config sets no User, so the container starts as root (uid 0).".into(),
                RULE.remediation.into(),
            )
            .evidence("config.User is empty or absent".into()),
        );
    }
}
