//! Narrow file capabilities: the recommended alternative to setuid and root.

use alloc::format;
use alloc::vec::Vec;

use super::{is_dangerous_cap, Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "capability-narrow",
    severity: Severity::Low,
    title: "narrow file capability",
    rationale: "A file capability such as cap_net_bind_service gives one privilege instead of all of root: \
                it is the narrower alternative to a setuid-root binary or to running as root. It still \
                needs the capability in the container's bounding set, and it is not granted under \
                `no-new-privileges`.",
    remediation: "Keep it if the program needs it, and make sure the runtime allows it (e.g. \
                  `--cap-add NET_BIND_SERVICE` after `--cap-drop ALL`). A port at or above 1024 needs none.",
    references: &["https://man7.org/linux/man-pages/man7/capabilities.7.html"],
    escalation: false,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for c in ctx.capabilities {
        let all_narrow = c
            .capabilities
            .iter()
            .chain(&c.inheritable)
            .all(|n| !is_dangerous_cap(n));
        if !all_narrow || (c.capabilities.is_empty() && c.inheritable.is_empty()) {
            continue;
        }
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{} has {}: the narrow alternative to setuid or to running as root.",
                    c.path, c.text
                ),
                RULE.remediation.into(),
            )
            .at(&c.path, c.layer, c.created_by.as_ref())
            .evidence(format!("security.capability = {}", c.text)),
        );
    }
}
