//! s6-overlay (v3 and v2): an init that starts as root and drops privileges
//! per service; with a non-root USER it climbs back to root through a setuid
//! helper. Detected from the merged layout, with the version when it shows.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::super::layer::EntryKind;
use super::super::merge::MergedView;
use super::super::path;
use super::super::report::RunFacts;
use super::{Context, Finding, Rule, S6Facts, Severity};

pub static RULE: Rule = Rule {
    id: "s6-overlay",
    severity: Severity::Medium,
    title: "s6-overlay: starts as root, drops privileges later",
    rationale: "s6-overlay's /init runs its early stages as root and drops to a user per service. Started \
                with a non-root USER, v3 regains root through the setuid-root `s6-overlay-suexec` (v2: \
                `s6-overlay-preinit`), so the image is not truly rootless, and under `no-new-privileges` \
                that helper cannot gain root and the start fails unless /run is already owned by the user.",
    remediation: "Prefer a single-process image that runs as a non-root user from the start. If s6-overlay \
                  stays, run it as root knowingly, or make /run writable by the USER and set \
                  S6_READ_ONLY_ROOT=1 (v3) so it can start without suexec.",
    references: &["https://github.com/just-containers/s6-overlay#requirements", "CIS Docker Benchmark 4.1"],
    escalation: true,
    check,
};

fn version_after<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let v = name.strip_prefix(prefix)?;
    v.starts_with(|c: char| c.is_ascii_digit()).then_some(v)
}

/// Detect s6-overlay in the merged filesystem and the config.
pub fn detect(merged: &MergedView<'_>, run: Option<&RunFacts>) -> S6Facts {
    let mut s6 = S6Facts::default();
    let mut helpers_version = None;
    for m in merged.entries_below("package/admin") {
        let rel = &m.entry.path["package/admin/".len()..];
        if rel.contains('/') {
            continue;
        }
        if let Some(v) = version_after(rel, "s6-overlay-helpers-") {
            helpers_version = Some(String::from(v));
        } else if let Some(v) = version_after(rel, "s6-overlay-") {
            s6.version.get_or_insert_with(|| String::from(v));
        } else if rel == "s6-overlay" && m.entry.kind == EntryKind::Symlink {
            if let Some(v) = version_after(path::file_name(m.entry.link), "s6-overlay-") {
                s6.version = Some(String::from(v));
            }
            s6.evidence
                .push(format!("/package/admin/s6-overlay -> {}", m.entry.link));
        }
    }
    let v3_layout = s6.version.is_some() || merged.get("etc/s6-overlay").is_some();
    if v3_layout {
        s6.major = Some(3);
        if let Some(v) = &s6.version {
            s6.evidence
                .insert(0, format!("/package/admin/s6-overlay-{}", v));
        }
        if merged.get("etc/s6-overlay").is_some() {
            s6.evidence.push(String::from("/etc/s6-overlay"));
        }
        // The setuid helper lives in the helpers package; /command links to it.
        let helper = helpers_version
            .as_ref()
            .map(|v| {
                format!(
                    "package/admin/s6-overlay-helpers-{}/command/s6-overlay-suexec",
                    v
                )
            })
            .filter(|p| merged.get(p).is_some())
            .or_else(|| merged.resolve("command/s6-overlay-suexec").map(|(p, _)| p));
        if let Some(h) = helper {
            s6.evidence.push(format!(
                "/{} (mode {:04o})",
                h,
                merged.get(&h).map(|e| e.entry.mode).unwrap_or(0)
            ));
            s6.setuid_helper = Some(path::display(&h));
        }
        if let Some(v) = &helpers_version {
            s6.evidence.push(format!("s6-overlay-helpers {}", v));
        }
        if merged.get("command").is_some() {
            s6.evidence.push(String::from("/command/*"));
        }
    } else if merged.get("etc/s6/init/init-stage1").is_some() || merged.get("etc/s6/init").is_some()
    {
        s6.major = Some(2);
        s6.evidence.push(String::from("/etc/s6/init/init-stage*"));
        for p in ["etc/services.d", "etc/cont-init.d", "etc/fix-attrs.d"] {
            if merged.get(p).is_some() {
                s6.evidence.push(path::display(p));
            }
        }
        if let Some((p, _)) = merged.resolve("bin/s6-overlay-preinit") {
            s6.setuid_helper = Some(path::display(&p));
            s6.evidence.push(path::display(&p));
        }
    }
    s6.detected = s6.major.is_some();
    if s6.detected {
        if merged.get("init").is_some() {
            s6.evidence.push(String::from("/init"));
        }
        if let Some(run) = run {
            if run
                .entrypoint
                .as_ref()
                .is_some_and(|e| e.first().map(|s| s.as_str()) == Some("/init"))
            {
                s6.evidence.push(String::from("Entrypoint [\"/init\"]"));
            }
            let vars: Vec<&str> = run
                .env
                .iter()
                .filter_map(|kv| kv.split('=').next())
                .filter(|k| k.starts_with("S6_"))
                .collect();
            if !vars.is_empty() {
                s6.evidence.push(format!("environment {}", vars.join(", ")));
            }
        }
    }
    s6
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let s6 = ctx.s6;
    if !s6.detected {
        return;
    }
    let name = match (&s6.major, &s6.version) {
        (Some(m), Some(v)) => format!("s6-overlay v{} ({})", m, v),
        (Some(m), None) => format!("s6-overlay v{}", m),
        _ => String::from("s6-overlay"),
    };
    let message = if ctx.non_root_user() {
        match &s6.setuid_helper {
            Some(h) => format!("{}: /init regains root through the setuid helper {} although USER is not root.", name, h),
            None => format!("{}: /init is designed to start as root; with a non-root USER it needs /run owned by that user.", name),
        }
    } else {
        format!(
            "{}: /init starts as root and drops privileges per service later.",
            name
        )
    };
    let mut f = Finding::new(&RULE, message, RULE.remediation.into());
    if let Some(h) = &s6.setuid_helper {
        if let Some(e) = ctx.merged.get(h.trim_start_matches('/')) {
            f = f.at(h, e.layer, ctx.created_by(e.layer));
        }
    }
    f.evidence = s6.evidence.clone();
    out.push(f);
}
