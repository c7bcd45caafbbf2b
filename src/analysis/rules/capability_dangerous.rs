//! Files whose capabilities amount to root or close to it.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{is_dangerous_cap, Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "capability-dangerous",
    severity: Severity::High,
    title: "file capability that amounts to root",
    rationale: "Capabilities such as cap_sys_admin, cap_sys_ptrace, cap_sys_module, cap_dac_override, \
                cap_setuid or cap_setgid let a program take over the system or become root; a file holding \
                them is a setuid-root binary in all but name.",
    remediation: "Remove the capability, or narrow it to what the program needs:\n\
                  RUN setcap -r PATH            # remove\n\
                  RUN setcap cap_net_bind_service=+ep PATH   # e.g. only to bind ports below 1024",
    references: &["https://man7.org/linux/man-pages/man7/capabilities.7.html"],
    escalation: true,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for c in ctx.capabilities {
        let dangerous: Vec<&String> = c
            .capabilities
            .iter()
            .chain(&c.inheritable)
            .filter(|n| is_dangerous_cap(n))
            .collect();
        if dangerous.is_empty() {
            continue;
        }
        let names: Vec<&str> = dangerous.iter().map(|s| s.as_str()).collect();
        out.push(
            Finding::new(
                &RULE,
                format!("{} has {} ({}).", c.path, names.join(", "), c.text),
                format!("RUN setcap -r {}", c.path),
            )
            .at(&c.path, c.layer, c.created_by.as_ref())
            .evidence(format!("security.capability = {}", c.text)),
        );
    }
}
