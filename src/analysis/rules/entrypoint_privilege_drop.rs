//! Entrypoint/Cmd that start as root and switch user (gosu, su-exec, …).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{command_name, Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "entrypoint-privilege-drop",
    severity: Severity::Medium,
    title: "Entrypoint starts as root and drops privileges",
    rationale:
        "gosu, su-exec, setpriv, runuser, su, sudo, s6-setuidgid, chpst and `chroot --userspec` in \
                the Entrypoint or Cmd mean the container starts as root and switches user later: \
                everything before the switch, the entrypoint script included, runs as root.",
    remediation:
        "Do the root-only work at build time (chown, mkdir) and set USER to the final user, so the \
                  container never starts as root:\nRUN chown -R 10001:10001 /data\nUSER 10001:10001",
    references: &["CIS Docker Benchmark 4.1"],
    escalation: true,
    check,
};

/// Commands that switch the user of what they run.
pub const DROP_TOOLS: &[&str] = &[
    "gosu",
    "su-exec",
    "setpriv",
    "runuser",
    "su",
    "sudo",
    "doas",
    "s6-setuidgid",
    "s6-applyuidgid",
    "setuidgid",
    "chpst",
];

/// Words of the command line, shell strings (`sh -c "… exec gosu …"`) split too.
fn words<'a>(ctx: &'a Context<'_>) -> Vec<&'a str> {
    ctx.command_line()
        .into_iter()
        .flat_map(|arg| arg.split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The drop tools the command line uses.
pub fn used_tools(ctx: &Context<'_>) -> Vec<String> {
    let w = words(ctx);
    let mut found: Vec<String> = Vec::new();
    for (i, word) in w.iter().enumerate() {
        let name = command_name(word);
        let hit = if name == "chroot" {
            w[i + 1..].iter().any(|a| a.starts_with("--userspec"))
        } else {
            DROP_TOOLS.contains(&name)
        };
        let label = if name == "chroot" {
            String::from("chroot --userspec")
        } else {
            String::from(name)
        };
        if hit && !found.contains(&label) {
            found.push(label);
        }
    }
    found
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let tools = used_tools(ctx);
    if tools.is_empty() {
        return;
    }
    let line = ctx.command_line().join(" ");
    out.push(
        Finding::new(
            &RULE,
            format!(
                "The Entrypoint/Cmd runs {}: the container starts as root and switches user later.",
                tools.join(", ")
            ),
            RULE.remediation.into(),
        )
        .evidence(format!("Entrypoint + Cmd: {}", line)),
    );
}
