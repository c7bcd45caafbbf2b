//! A package manager in the image (information).

use alloc::format;
use alloc::vec::Vec;

use super::privilege_drop_tool::BIN_DIRS;
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
    for m in MANAGERS {
        let candidates: Vec<alloc::string::String> =
            BIN_DIRS.iter().map(|d| format!("{}/{}", d, m)).collect();
        let refs: Vec<&str> = candidates.iter().map(|s| s.as_str()).collect();
        if let Some((p, layer)) = ctx.find_first(&refs) {
            let path = format!("/{}", p);
            out.push(
                Finding::new(
                    &RULE,
                    format!("The image has a package manager ({}).", path),
                    RULE.remediation.into(),
                )
                .at(&path, layer, ctx.created_by(layer)),
            );
            // One is enough to tell.
            return;
        }
    }
}
