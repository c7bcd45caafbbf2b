//! Whether the image keeps working under `no-new-privileges` (Docker
//! `--security-opt=no-new-privileges:true`, Kubernetes
//! `allowPrivilegeEscalation: false`): setuid/setgid bits and file
//! capabilities are not honoured there.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::entrypoint_privilege_drop::used_tools;
use super::{Context, Finding, Rule, Severity};
pub use crate::analysis::report::NoNewPrivileges;

pub static RULE: Rule = Rule {
    id: "no-new-privileges-breaks",
    severity: Severity::Medium,
    title: "The image needs a setuid helper at start: it fails under no-new-privileges",
    rationale: "With no-new-privileges the kernel ignores setuid/setgid bits and file capabilities on \
                exec. An image that starts as a non-root user and climbs back through a setuid helper \
                (s6-overlay-suexec, sudo, su) stops working under Docker's \
                `--security-opt=no-new-privileges:true` or Kubernetes' `allowPrivilegeEscalation: false`.",
    remediation: "Make the start path need no privilege: set USER to the final user, prepare files at build \
                  time, and drop the setuid helper.",
    references: &["https://docs.docker.com/reference/cli/docker/container/run/#security-opt", "https://www.kernel.org/doc/html/latest/userspace-api/no_new_privs.html"],
    escalation: false,
    check,
};

const SETUID_START_TOOLS: &[&str] = &["sudo", "su", "doas"];

pub fn assess(ctx: &Context<'_>) -> NoNewPrivileges {
    let mut ineffective: Vec<String> = ctx.setuid_files.iter().map(|f| f.path.clone()).collect();
    ineffective.extend(ctx.capabilities.iter().map(|c| c.path.clone()));
    let mut breaks = Vec::new();
    if ctx.non_root_user() {
        if let Some(h) = &ctx.s6.setuid_helper {
            breaks.push(h.clone());
        }
        for tool in used_tools(ctx) {
            if SETUID_START_TOOLS.contains(&tool.as_str()) {
                if let Some(f) = ctx
                    .setuid_files
                    .iter()
                    .find(|f| f.path.ends_with(&format!("/{}", tool)))
                {
                    breaks.push(f.path.clone());
                }
            }
        }
        // A file capability the entrypoint program needs (e.g. to bind port 80).
        let first = ctx.command_line().first().map(|w| String::from(*w));
        if let Some(prog) = first {
            if let Some(c) = ctx
                .capabilities
                .iter()
                .find(|c| c.path == prog || c.path.ends_with(&format!("/{}", prog)))
            {
                breaks.push(c.path.clone());
            }
        }
    }
    let compatible = breaks.is_empty();
    let reason = if !compatible {
        format!(
            "the start path needs {} to gain privilege, which no-new-privileges prevents",
            breaks.join(", ")
        )
    } else if ineffective.is_empty() {
        String::from("nothing in the image relies on setuid/setgid bits or file capabilities")
    } else if ctx.starts_as_root() {
        String::from("the container starts as root; setuid bits and file capabilities add nothing to root and their loss does not stop it")
    } else {
        String::from("the start path does not need the setuid/setgid files or capabilities; they would only stop granting privilege")
    };
    NoNewPrivileges {
        compatible,
        breaks,
        ineffective,
        reason,
    }
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let nnp = assess(ctx);
    for path in &nnp.breaks {
        let mut f = Finding::new(
            &RULE,
            format!(
                "Under no-new-privileges {} cannot gain privilege: {}.",
                path, nnp.reason
            ),
            RULE.remediation.into(),
        );
        if let Some(e) = ctx.merged.get(path.trim_start_matches('/')) {
            f = f.at(path, e.layer, ctx.created_by(e.layer));
        }
        out.push(f);
    }
}
