//! setuid/setgid files that grant another unprivileged identity.

use alloc::format;
use alloc::vec::Vec;

use super::setgid_privileged_group::is_privileged_gid;
use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "setuid-setgid-other",
    severity: Severity::Low,
    title: "setuid/setgid executable of an unprivileged owner",
    rationale: "A setuid file owned by a user other than root, or setgid to an unprivileged group, switches \
                identity without reaching root. It is still a way to another user's files, and it stops \
                working under `no-new-privileges`.",
    remediation: "Remove the bits if nothing needs them:\nRUN chmod ug-s PATH",
    references: &["CIS Docker Benchmark 4.8"],
    escalation: false,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for f in ctx.setuid_files {
        let setuid_other = f.setuid && f.uid != 0;
        let setgid_other = f.setgid && !is_privileged_gid(ctx, f.gid) && !(f.setuid && f.uid == 0);
        if !(setuid_other || setgid_other) {
            continue;
        }
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{} is {} (mode {}, owner {}:{}).",
                    f.path,
                    if setuid_other {
                        "setuid to a non-root user"
                    } else {
                        "setgid to an unprivileged group"
                    },
                    f.mode,
                    f.uid,
                    f.gid
                ),
                format!("RUN chmod ug-s {}", f.path),
            )
            .at(&f.path, f.layer, f.created_by.as_ref())
            .evidence(format!("mode {} owner {}:{}", f.mode, f.uid, f.gid)),
        );
    }
}
