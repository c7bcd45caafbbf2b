//! PUID/PGID environment (linuxserver.io convention): start as root, chown, drop.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "puid-pgid-env",
    severity: Severity::Medium,
    title: "PUID/PGID environment: starts as root to switch user at run time",
    rationale: "Images following the linuxserver.io convention read PUID and PGID at start, change the \
                uid of their user (`abc`, 911) and chown files as root before dropping to it. They need to \
                start as root.",
    remediation: "Set the user at build time or with `--user`/`runAsUser` instead of PUID/PGID, and run \
                  with USER set to it.",
    references: &["https://docs.linuxserver.io/general/understanding-puid-and-pgid/"],
    escalation: true,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let vars: Vec<String> = ["PUID", "PGID"]
        .iter()
        .filter_map(|v| ctx.env(v).map(|val| format!("{}={}", v, val)))
        .collect();
    if vars.is_empty() {
        return;
    }
    let mut f = Finding::new(
        &RULE,
        format!(
            "The image sets {}: it switches user at start, as root.",
            vars.join(" ")
        ),
        RULE.remediation.into(),
    );
    if let Some(abc) = ctx.passwd.and_then(|p| p.by_name("abc")) {
        f = f.evidence(format!("/etc/passwd has abc with uid {}", abc.uid));
    }
    out.push(f.evidence(format!("environment {}", vars.join(", "))));
}
