//! The rules: one file per rule, each with a stable id, a severity, a title,
//! the rationale, the fix and references. [`RULES`] is the registry; the
//! catalogue in `docs/rules.md` is generated from it (and tested against it).
//!
//! A rule looks at one image ([`Context`]) and adds [`Finding`]s. Rules do no
//! I/O and never fail: what they cannot know they do not claim.

use alloc::string::String;
use alloc::vec::Vec;

use super::caps;
use super::layer::EntryKind;
use super::merge::MergedView;
use super::passwd::{Groups, Passwd};
use super::report::{CapabilityFile, LayerInfo, RunFacts, SetuidFile};
pub use super::report::{Finding, S6Facts, Severity};
use super::user::UserFacts;

pub mod capability_dangerous;
pub mod capability_narrow;
pub mod entrypoint_privilege_drop;
pub mod no_new_privileges;
pub mod package_manager_present;
pub mod privilege_drop_tool;
pub mod privileged_port;
pub mod puid_pgid;
pub mod s6_overlay;
pub mod setgid_privileged_group;
pub mod setuid_other_owner;
pub mod setuid_root;
pub mod shell_present;
pub mod user_group_root;
pub mod user_name_uid0;
pub mod user_non_numeric;
pub mod user_not_set;
pub mod user_root;
pub mod user_unresolvable;

/// A rule of the catalogue.
pub struct Rule {
    /// Stable id, e.g. `setuid-root`. Never renamed: ignore files and SARIF use it.
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// Why it matters (one paragraph, for the catalogue and SARIF help).
    pub rationale: &'static str,
    /// The fix, with Dockerfile lines where they help.
    pub remediation: &'static str,
    pub references: &'static [&'static str],
    /// Whether a finding of this rule is a way back to root for a non-root
    /// USER (it makes the image `pseudo-rootless`).
    pub escalation: bool,
    pub check: fn(&Context<'_>, &mut Vec<Finding>),
}

impl Finding {
    /// A finding of `rule` with the rule's title, severity and flags.
    pub fn new(rule: &Rule, message: String, remediation: String) -> Finding {
        Finding {
            rule: rule.id,
            severity: rule.severity,
            title: rule.title,
            message,
            path: None,
            layer: None,
            created_by: None,
            evidence: Vec::new(),
            remediation,
            escalation: rule.escalation,
        }
    }

    /// Attach a file of the image: its path, layer and history step.
    pub fn at(mut self, path: &str, layer: usize, created_by: Option<&String>) -> Finding {
        self.path = Some(String::from(path));
        self.layer = Some(layer);
        self.created_by = created_by.cloned();
        self
    }

    pub fn evidence(mut self, line: String) -> Finding {
        self.evidence.push(line);
        self
    }
}

/// What rules can look at for one image.
pub struct Context<'a> {
    pub merged: &'a MergedView<'a>,
    pub user: &'a UserFacts,
    /// `None` without an image config.
    pub run: Option<&'a RunFacts>,
    pub passwd: Option<&'a Passwd>,
    pub groups: Option<&'a Groups>,
    pub setuid_files: &'a [SetuidFile],
    pub capabilities: &'a [CapabilityFile],
    pub layers: &'a [LayerInfo],
    pub s6: &'a S6Facts,
}

impl Context<'_> {
    /// The container starts as uid 0 (known from the config and passwd).
    pub fn starts_as_root(&self) -> bool {
        self.user.uid == Some(0)
    }

    /// The config names a user that is not root (whether or not it resolves).
    pub fn non_root_user(&self) -> bool {
        self.user.configured.is_some() && !self.starts_as_root()
    }

    /// Entrypoint followed by Cmd: what the container runs.
    pub fn command_line(&self) -> Vec<&str> {
        let Some(run) = self.run else {
            return Vec::new();
        };
        run.entrypoint
            .iter()
            .flatten()
            .chain(run.cmd.iter().flatten())
            .map(|s| s.as_str())
            .collect()
    }

    pub fn env(&self, name: &str) -> Option<&str> {
        self.run?
            .env
            .iter()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    }

    /// A regular or linked file exists at `path` (symlinks followed).
    pub fn exists(&self, path: &str) -> bool {
        self.merged.resolve(path.trim_start_matches('/')).is_some()
    }

    /// The first of `paths` that exists, with the layer it comes from.
    pub fn find_first<'p>(&self, paths: &[&'p str]) -> Option<(&'p str, usize)> {
        paths.iter().find_map(|p| {
            let (_, e) = self.merged.resolve(p.trim_start_matches('/'))?;
            (e.entry.kind != EntryKind::Dir).then_some((*p, e.layer))
        })
    }

    /// `/dir/name` for the first of the usual binary directories holding
    /// `name`, with the layer it comes from.
    pub fn find_command(&self, name: &str) -> Option<(String, usize)> {
        BIN_DIRS.iter().find_map(|d| {
            let p = alloc::format!("{}/{}", d, name);
            let (_, e) = self.merged.resolve(&p)?;
            (e.entry.kind != EntryKind::Dir).then(|| (alloc::format!("/{}", p), e.layer))
        })
    }

    pub fn created_by(&self, layer: usize) -> Option<&String> {
        self.layers.get(layer).and_then(|l| l.created_by.as_ref())
    }

    pub fn group_name(&self, gid: u32) -> Option<&str> {
        self.groups?.by_gid(gid).map(|g| g.name.as_str())
    }
}

/// Every rule, in catalogue order.
pub static RULES: &[&Rule] = &[
    &user_not_set::RULE,
    &user_root::RULE,
    &user_name_uid0::RULE,
    &user_group_root::RULE,
    &user_non_numeric::RULE,
    &user_unresolvable::RULE,
    &setuid_root::RULE,
    &setgid_privileged_group::RULE,
    &setuid_other_owner::RULE,
    &capability_dangerous::RULE,
    &capability_narrow::RULE,
    &s6_overlay::RULE,
    &entrypoint_privilege_drop::RULE,
    &puid_pgid::RULE,
    &privilege_drop_tool::RULE,
    &no_new_privileges::RULE,
    &privileged_port::RULE,
    &shell_present::RULE,
    &package_manager_present::RULE,
    // Rules of runs (`--run`, `--compose`, `--k8s`): findings about how the
    // image is started, made by analysis::runs, never by `run_all`.
    &super::runs::PRIVILEGED_ROOT,
    &super::runs::PRIVILEGED,
    &super::runs::AS_ROOT,
    &super::runs::REFUSED,
    &super::runs::FAILS,
    &super::runs::ESCALATION,
    &super::runs::NEUTRALISED,
    &super::runs::CAPABILITIES,
    &super::runs::PSS_BASELINE,
    &super::runs::PSS_RESTRICTED,
];

/// The check of rules whose findings are made elsewhere (the run rules).
pub fn no_check(_: &Context<'_>, _: &mut Vec<Finding>) {}

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

/// Run every rule.
pub fn run_all(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in RULES {
        (r.check)(ctx, &mut out);
    }
    out
}

/// Capabilities that amount to root, or close to it, when a program holds them.
pub const DANGEROUS_CAPS: &[&str] = &[
    "cap_sys_admin",
    "cap_sys_ptrace",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_boot",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_chown",
    "cap_setuid",
    "cap_setgid",
    "cap_setpcap",
    "cap_setfcap",
    "cap_net_admin",
    "cap_bpf",
    "cap_perfmon",
    "cap_mknod",
    "cap_linux_immutable",
    "cap_mac_admin",
    "cap_mac_override",
    "cap_sys_chroot",
    "cap_syslog",
    "cap_ipc_owner",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_kill",
];

pub fn is_dangerous_cap(name: &str) -> bool {
    DANGEROUS_CAPS.contains(&name) || !caps::CAP_NAMES.contains(&name)
}

/// Where images keep executables.
pub const BIN_DIRS: &[&str] = &[
    "usr/local/sbin",
    "usr/local/bin",
    "usr/sbin",
    "usr/bin",
    "sbin",
    "bin",
    "command",
];

/// The basename of a command word (`/usr/local/bin/gosu` → `gosu`).
pub fn command_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}
