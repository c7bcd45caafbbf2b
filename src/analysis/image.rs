//! Facts about one image: merge its layers, resolve its USER, list its
//! setuid/setgid files and file capabilities, each attributed to the layer and
//! history step that added it.

use alloc::string::String;
use alloc::vec::Vec;

use super::assemble::ImagePlan;
use super::config::{self, ImageConfig};
use super::contents::{ArchiveContents, Member};
use super::error::{Error, ErrorCode};
use super::layer::{EntryKind, LayerSummary};
use super::merge::MergedView;
use super::passwd::{Groups, Passwd};
use super::path;
use super::report::{
    mode_string, CapabilityFile, ImageReport, LayerInfo, RunFacts, RuntimeFacts, SetuidFile,
};
use super::rules::{self, no_new_privileges, s6_overlay, Context, Severity};
use super::user;
use super::verdict;

const SPECIAL_BITS: u32 = 0o6000;

/// Layers of one image, as found in the archive.
pub struct ImageLayers<'a> {
    pub summaries: Vec<&'a LayerSummary>,
    pub infos: Vec<LayerInfo>,
}

fn layer_info(
    index: usize,
    archive_path: &str,
    digest: Option<String>,
    s: &LayerSummary,
) -> LayerInfo {
    LayerInfo {
        index,
        digest,
        diff_id: None,
        archive_path: String::from(archive_path),
        compression: s.compression,
        stored_size: s.stored_size,
        entries: s.entry_count,
        created_by: None,
        whiteouts: s.whiteouts.iter().map(|w| path::display(w)).collect(),
        opaque_dirs: s.opaque_dirs.iter().map(|w| path::display(w)).collect(),
        setuid_entries: s
            .entries()
            .filter(|e| is_regular(e.kind, e.link_resolved) && e.mode & SPECIAL_BITS != 0)
            .count(),
        partial: s.is_partial(),
    }
}

fn is_regular(kind: EntryKind, link_resolved: bool) -> bool {
    kind == EntryKind::File || (kind == EntryKind::HardLink && link_resolved)
}

/// Analyse one image of an archive. Errors that leave the image incomplete
/// are pushed to `errors` and the report is marked partial.
pub fn analyze_plan(
    contents: &ArchiveContents,
    plan: &ImagePlan,
    errors: &mut Vec<Error>,
) -> ImageReport {
    let mut partial = false;
    let config: Option<ImageConfig> =
        match plan.config_path.as_deref().map(|p| (p, contents.member(p))) {
            Some((_, Member::Json(bytes))) => match config::parse_config(bytes) {
                Ok(c) => Some(c),
                Err(e) => {
                    errors.push(e.with_entry(plan.config_path.clone().unwrap_or_default()));
                    partial = true;
                    None
                }
            },
            Some((p, _)) => {
                errors.push(
                    Error::new(
                        ErrorCode::MissingBlob,
                        "the manifest names an image config that is not in the archive",
                    )
                    .with_entry(p),
                );
                partial = true;
                None
            }
            None => {
                errors.push(Error::new(
                    ErrorCode::MissingBlob,
                    "the manifest names no image config",
                ));
                partial = true;
                None
            }
        };
    let diff_ids: Vec<String> = config
        .as_ref()
        .and_then(|c| c.rootfs.as_ref())
        .and_then(|r| r.diff_ids.clone())
        .unwrap_or_default();
    let mut summaries = Vec::new();
    let mut infos = Vec::new();
    // Where each layer found stands in the plan (and so in the config's
    // diff_ids and history), when layers before it are missing.
    let mut positions = Vec::new();
    for (position, (archive_path, digest)) in plan.layers.iter().enumerate() {
        match contents.member(archive_path) {
            Member::Layer(s) => {
                infos.push(layer_info(summaries.len(), archive_path, digest.clone(), s));
                summaries.push(s);
                positions.push(position);
                if s.is_partial() {
                    partial = true;
                }
            }
            Member::Missing if plan.recovered => {
                let diff_id = diff_ids.get(position).map_or("", String::as_str);
                errors.push(
                    Error::new(
                        ErrorCode::MissingBlob,
                        alloc::format!(
                            "the archive ends before layer {} of {} (diff_id {}): its files are not in the report",
                            position,
                            plan.layers.len(),
                            diff_id
                        ),
                    )
                    .with_entry(diff_id),
                );
                partial = true;
            }
            Member::Missing => {
                errors.push(
                    Error::new(
                        ErrorCode::MissingBlob,
                        "the manifest names a layer that is not in the archive",
                    )
                    .with_entry(archive_path.clone()),
                );
                partial = true;
            }
            Member::Json(_) | Member::Other => {
                errors.push(
                    Error::new(
                        ErrorCode::UnsupportedFormat,
                        "a layer is neither tar nor gzip/zstd-compressed tar",
                    )
                    .with_entry(archive_path.clone()),
                );
                partial = true;
            }
        }
    }
    if let Some(c) = &config {
        let steps = c.layer_steps();
        for (info, &position) in infos.iter_mut().zip(&positions) {
            info.created_by = steps.get(position).cloned().flatten();
            info.diff_id = diff_ids.get(position).cloned();
        }
    }
    let run = config
        .as_ref()
        .map(|c| c.config.clone().unwrap_or_default());
    let configured_user = run.as_ref().map(|r| r.user.clone().unwrap_or_default());
    let platform = config
        .as_ref()
        .filter(|c| c.architecture.is_some() || c.os.is_some())
        .map(|c| {
            config::platform_string(
                c.os.as_deref(),
                c.architecture.as_deref(),
                c.variant.as_deref(),
            )
        })
        .or_else(|| plan.platform.clone());
    let run_facts = run.map(|r| RunFacts {
        entrypoint: r.entrypoint.map(|e| e.to_vec()),
        cmd: r.cmd.map(|c| c.to_vec()),
        env: r.env.unwrap_or_default(),
        exposed_ports: r.exposed_ports.unwrap_or_default(),
        working_dir: r.working_dir.filter(|w| !w.is_empty()),
    });
    let mut report = facts(
        ImageLayers { summaries, infos },
        configured_user.as_deref(),
        run_facts,
    );
    report.tags = plan.tags.clone();
    report.platform = platform;
    report.manifest_digest = plan.manifest_digest.clone();
    report.config_digest = plan
        .config_path
        .as_deref()
        .and_then(config::digest_of_blob_path);
    report.partial |= partial;
    report.verification = super::verify::verify_image(contents, plan, config.as_ref());
    report
}

/// Analyse the archive itself as one flattened filesystem (no config).
pub fn analyze_filesystem(contents: &ArchiveContents) -> ImageReport {
    let s = &contents.as_filesystem;
    let mut info = layer_info(0, "", None, s);
    info.compression = contents.compression;
    info.stored_size = contents.bytes_read;
    facts(
        ImageLayers {
            summaries: alloc::vec![s],
            infos: alloc::vec![info],
        },
        None,
        None,
    )
}

/// Merge the layers and extract the facts. `configured_user` is `None` without a config.
pub fn facts(
    layers: ImageLayers<'_>,
    configured_user: Option<&str>,
    run: Option<RunFacts>,
) -> ImageReport {
    let merged = MergedView::merge(&layers.summaries);
    let created_by = |layer: usize| layers.infos.get(layer).and_then(|i| i.created_by.clone());
    let passwd_bytes = merged.captured("etc/passwd");
    let passwd = passwd_bytes.map(Passwd::parse);
    let groups = merged.captured("etc/group").map(Groups::parse);
    let user = user::resolve(configured_user, passwd.as_ref(), groups.as_ref());

    let mut setuid_files = Vec::new();
    let mut capabilities = Vec::new();
    for m in merged.iter() {
        let e = &m.entry;
        if !is_regular(e.kind, e.link_resolved) {
            continue;
        }
        if e.mode & SPECIAL_BITS != 0 {
            setuid_files.push(SetuidFile {
                path: path::display(e.path),
                mode: mode_string(e.mode),
                uid: e.uid,
                gid: e.gid,
                setuid: e.mode & 0o4000 != 0,
                setgid: e.mode & 0o2000 != 0,
                layer: m.layer,
                created_by: created_by(m.layer),
                hard_link_to: (e.kind == EntryKind::HardLink).then(|| path::display(e.link)),
            });
        }
        if let Some(c) = e.caps {
            capabilities.push(CapabilityFile {
                path: path::display(e.path),
                capabilities: c.permitted_names(),
                inheritable: c.inheritable_names(),
                effective: c.effective,
                text: c.to_getcap_string(),
                root_id: c.root_id,
                uid: e.uid,
                gid: e.gid,
                mode: mode_string(e.mode),
                layer: m.layer,
                created_by: created_by(m.layer),
            });
        }
    }
    let partial = layers.summaries.iter().any(|s| s.is_partial());
    let s6 = s6_overlay::detect(&merged, run.as_ref());
    let ctx = Context {
        merged: &merged,
        user: &user,
        run: run.as_ref(),
        passwd: passwd.as_ref(),
        groups: groups.as_ref(),
        setuid_files: &setuid_files,
        capabilities: &capabilities,
        layers: &layers.infos,
        s6: &s6,
    };
    let found = rules::run_all(&ctx);
    let no_new_privileges = no_new_privileges::assess(&ctx);
    // Most severe first; the catalogue order breaks ties. (Not a stable
    // sort: that would link a second sort algorithm into the wasm.)
    let mut findings = Vec::with_capacity(found.len());
    for severity in Severity::ALL.into_iter().rev() {
        findings.extend(found.iter().filter(|f| f.severity == severity).cloned());
    }
    let (verdict, verdict_reasons) = verdict::decide(&user, &findings);
    let run_dir = merged
        .resolve("run")
        .map(|(_, e)| (e.entry.uid, e.entry.gid, e.entry.mode));
    ImageReport {
        verdict,
        verdict_reasons,
        findings,
        suppressed: Vec::new(),
        s6,
        no_new_privileges,
        tags: Vec::new(),
        platform: None,
        manifest_digest: None,
        config_digest: None,
        user,
        config: run,
        setuid_files,
        capabilities,
        has_passwd: passwd_bytes.is_some(),
        merged_entries: merged.len(),
        layers: layers.infos,
        partial,
        verification: None,
        runtime: RuntimeFacts {
            passwd,
            groups,
            run_dir,
        },
    }
}
