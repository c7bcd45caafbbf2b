//! Tools that switch user, present in the image (information).

use alloc::format;
use alloc::vec::Vec;

use super::entrypoint_privilege_drop::DROP_TOOLS;
use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "privilege-drop-tool",
    severity: Severity::Info,
    title: "user-switching tool present",
    rationale: "gosu, su-exec, setpriv, runuser, sudo and the like are how start-as-root images drop \
                privileges. Present but unused they are harmless for a non-root USER (they need root or a \
                setuid bit, which is reported on its own), but they hint at a start-as-root design.",
    remediation: "Remove tools the image does not use.",
    references: &[],
    escalation: false,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for tool in DROP_TOOLS {
        if let Some((path, layer)) = ctx.find_command(tool) {
            out.push(
                Finding::new(
                    &RULE,
                    format!("{} is present ({}).", tool, path),
                    format!("RUN rm -f {}   # if unused", path),
                )
                .at(&path, layer, ctx.created_by(layer)),
            );
        }
    }
}
