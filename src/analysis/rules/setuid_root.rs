//! setuid-root executables: they run as root whatever USER says.

use alloc::format;
use alloc::vec::Vec;

use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "setuid-root",
    severity: Severity::High,
    title: "setuid-root executable",
    rationale: "A setuid file owned by root runs as root for whoever executes it, so a non-root USER still \
                has a way back to root (`find / -user root -perm -4000`). Each one is attack surface, and \
                under `no-new-privileges` it silently stops working.",
    remediation: "Remove the bit (or the package) in the Dockerfile, in the same layer that installs it:\n\
                  RUN chmod u-s PATH\n\
                  or for all of them: RUN find / -xdev -perm -4000 -user root -exec chmod u-s {} +",
    references: &["CIS Docker Benchmark 4.8", "https://man7.org/linux/man-pages/man2/execve.2.html"],
    escalation: true,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for f in ctx.setuid_files.iter().filter(|f| f.setuid && f.uid == 0) {
        let mut finding = Finding::new(
            &RULE,
            format!(
                "{} is setuid root (mode {}): it runs as root for any user.",
                f.path, f.mode
            ),
            format!("RUN chmod u-s {}", f.path),
        )
        .at(&f.path, f.layer, f.created_by.as_ref())
        .evidence(format!("mode {} owner {}:{}", f.mode, f.uid, f.gid));
        if let Some(target) = &f.hard_link_to {
            finding = finding.evidence(format!("hard link to {}", target));
        }
        out.push(finding);
    }
}
