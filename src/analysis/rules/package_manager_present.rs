//! A package manager in the image (information).

use alloc::format;
use alloc::vec::Vec;

use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "package-manager-present",
    severity: Severity::Info,
    title: "package manager present",
    rationale:
        "A package manager in a runtime image lets an attacker install tools, and usually comes \
                with a whole distribution's worth of setuid files and shells.",
    remediation:
        "Install packages in a build stage and copy only the result into a minimal final stage.",
    references: &[],
    escalation: false,
    check,
};

const MANAGERS: &[&str] = &[
    "apt-get", "apt", "dpkg", "apk", "dnf", "microdnf", "yum", "rpm", "zypper", "pacman", "tdnf",
];

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    // One is enough to tell.
    if let Some((path, layer)) = MANAGERS.iter().find_map(|m| ctx.find_command(m)) {
        out.push(
            Finding::new(
                &RULE,
                format!("The image has a package manager ({}).", path),
                RULE.remediation.into(),
            )
            .at(&path, layer, ctx.created_by(layer)),
        );
    }
}
