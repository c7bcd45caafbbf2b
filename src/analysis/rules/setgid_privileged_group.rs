//! setgid files of root or of a privileged group (shadow, disk, kmem, …).

use alloc::format;
use alloc::vec::Vec;

use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "setgid-privileged-group",
    severity: Severity::Medium,
    title: "setgid executable of a privileged group",
    rationale: "A setgid file runs with its group for whoever executes it. Group root, shadow (reads \
                password hashes), disk and kmem (raw devices and memory), staff (writes /usr/local, which comes \
                first in root's PATH), adm, sudo and wheel give more than an unprivileged user should have.",
    remediation: "Remove the bit if the container does not need it:\nRUN chmod g-s PATH",
    references: &["CIS Docker Benchmark 4.8"],
    escalation: true,
    check,
};

/// Group names that grant privilege on a typical Linux system.
pub const PRIVILEGED_GROUPS: &[&str] = &[
    "root", "shadow", "disk", "kmem", "adm", "sudo", "wheel", "docker", "sys", "mem", "staff",
];

/// Whether `gid` is privileged: 0, a privileged name in the image's
/// /etc/group, or (without a group file) a well-known privileged gid.
pub fn is_privileged_gid(ctx: &Context<'_>, gid: u32) -> bool {
    if gid == 0 {
        return true;
    }
    match ctx.group_name(gid) {
        Some(name) => PRIVILEGED_GROUPS.contains(&name),
        // Debian's disk (6), kmem (15), shadow (42) and staff (50).
        None => ctx.groups.is_none() && matches!(gid, 6 | 15 | 42 | 50),
    }
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for f in ctx
        .setuid_files
        .iter()
        .filter(|f| f.setgid && is_privileged_gid(ctx, f.gid))
    {
        // setuid-root already covers files that are both.
        if f.setuid && f.uid == 0 {
            continue;
        }
        let group = ctx
            .group_name(f.gid)
            .map(|n| format!("{} ({})", n, f.gid))
            .unwrap_or_else(|| format!("{}", f.gid));
        out.push(
            Finding::new(
                &RULE,
                format!("{} is setgid to group {} (mode {}).", f.path, group, f.mode),
                format!("RUN chmod g-s {}", f.path),
            )
            .at(&f.path, f.layer, f.created_by.as_ref())
            .evidence(format!("mode {} owner {}:{}", f.mode, f.uid, f.gid)),
        );
    }
}
