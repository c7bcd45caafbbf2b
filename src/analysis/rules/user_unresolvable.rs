//! USER names a user or group the image does not have: the container cannot start.

use alloc::format;
use alloc::vec::Vec;

use super::super::user::UserProblem;
use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "user-unresolvable",
    severity: Severity::High,
    title: "USER names a user or group missing from the image",
    rationale: "Docker and the CRI runtimes resolve names in the image's own /etc/passwd and /etc/group. \
                A missing name stops the container at start: \"unable to find user NAME: no matching \
                entries in passwd file\". Numeric ids need no entry.",
    remediation: "Create the user in the image before switching to it, or use numeric ids:\n\
                  RUN useradd --system --uid 10001 app\nUSER 10001:10001",
    references: &["https://docs.docker.com/reference/dockerfile/#user"],
    escalation: false,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let user_name = ctx.user.name.as_deref().unwrap_or("");
    for p in &ctx.user.problems {
        let (message, evidence) = match p {
            UserProblem::UserNotInPasswd { name } => (
                format!(
                    "unable to find user {}: no matching entries in passwd file",
                    name
                ),
                "checked against the merged /etc/passwd",
            ),
            UserProblem::NoPasswdFile => (
                format!(
                    "unable to find user {}: no matching entries in passwd file",
                    user_name
                ),
                "the image has no /etc/passwd",
            ),
            UserProblem::GroupNotInGroupFile { name } => (
                format!(
                    "unable to find group {}: no matching entries in group file",
                    name
                ),
                "checked against the merged /etc/group",
            ),
            UserProblem::InvalidId { value } => (
                format!("{} is not a valid uid or gid", value),
                "ids are 32-bit numbers",
            ),
        };
        out.push(Finding::new(&RULE, message, RULE.remediation.into()).evidence(evidence.into()));
    }
}
