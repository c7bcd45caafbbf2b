//! The verdict, derived from the findings in one place.
//!
//! - `root`: the container starts as uid 0 (USER empty, `root`, `0`, or a name
//!   that the image's /etc/passwd maps to uid 0). It stays `root` when something
//!   drops privileges later: everything before the drop runs as root.
//! - `pseudo-rootless`: USER is not root, but the image holds a way back to
//!   root: a finding whose rule is marked `escalation` (setuid-root files,
//!   setgid files of privileged groups, capabilities that amount to root,
//!   s6-overlay, start-as-root entrypoints, PUID/PGID).
//! - `rootless`: a non-root USER and none of those.
//! - `unknown`: no image config (a flattened filesystem): the user is not
//!   known; the file findings still stand.
//!
//! Narrow file capabilities (e.g. `cap_net_bind_service`) and setuid files of
//! other unprivileged owners do not make an image pseudo-rootless: they give no
//! way to root. Suppressions do not change the verdict; they only change what
//! fails the run.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

pub use super::report::Verdict;
use super::rules::Finding;
use super::user::UserFacts;

/// Rules whose finding means the container starts as root.
pub const ROOT_RULES: &[&str] = &["user-not-set", "user-root", "user-name-uid0"];

/// The verdict and the reasons for it, most important first.
pub fn decide(user: &UserFacts, findings: &[Finding]) -> (Verdict, Vec<String>) {
    let escalations: Vec<&Finding> = findings.iter().filter(|f| f.escalation).collect();
    let mut reasons = Vec::new();
    if user.configured.is_none() {
        reasons.push(String::from("No image config (a flattened filesystem): the user the container runs as is not known."));
        reasons.extend(escalations.iter().map(|f| f.message.clone()));
        return (Verdict::Unknown, reasons);
    }
    let root: Vec<&Finding> = findings
        .iter()
        .filter(|f| ROOT_RULES.contains(&f.rule))
        .collect();
    if !root.is_empty() || user.uid == Some(0) {
        reasons.extend(root.iter().map(|f| f.message.clone()));
        if reasons.is_empty() {
            reasons.push(String::from("The container starts as uid 0."));
        }
        let drops: Vec<&Finding> = escalations
            .iter()
            .copied()
            .filter(|f| {
                matches!(
                    f.rule,
                    "s6-overlay" | "entrypoint-privilege-drop" | "puid-pgid-env"
                )
            })
            .collect();
        if !drops.is_empty() {
            reasons.push(format!(
                "It drops privileges later ({}), but everything before the drop runs as root.",
                drops.iter().map(|f| f.rule).collect::<Vec<_>>().join(", ")
            ));
        }
        return (Verdict::Root, reasons);
    }
    if !escalations.is_empty() {
        reasons.push(format!(
            "USER {} is not root, but the image holds {} way{} back to root:",
            user.configured.as_deref().unwrap_or(""),
            escalations.len(),
            if escalations.len() == 1 { "" } else { "s" }
        ));
        reasons.extend(escalations.iter().map(|f| f.message.clone()));
        return (Verdict::PseudoRootless, reasons);
    }
    reasons.push(match user.uid {
        Some(uid) => format!(
            "USER {} runs as uid {}, and nothing in the image executes with more privilege (no setuid-root or privileged setgid files, no capabilities that amount to root, no start-as-root design).",
            user.configured.as_deref().unwrap_or(""),
            uid
        ),
        None => format!(
            "USER {} is not root (its uid could not be resolved), and nothing in the image executes with more privilege.",
            user.configured.as_deref().unwrap_or("")
        ),
    });
    (Verdict::Rootless, reasons)
}
