//! The analysis core: `no_std` + `alloc`, no I/O. It takes what the archive
//! reader found ([`contents::ArchiveContents`]) and produces a [`report::Report`].

pub mod assemble;
pub mod budget;
pub mod caps;
pub mod config;
pub mod contents;
pub mod error;
pub mod image;
pub mod json;
pub mod layer;
pub mod merge;
pub mod passwd;
pub mod path;
pub mod policy;
pub mod recover;
pub mod reference;
pub mod report;
pub mod rules;
pub mod runs;
#[cfg(feature = "specs")]
pub mod spec;
pub mod tar;
pub mod user;
pub mod verdict;
pub mod verify;

use alloc::vec::Vec;

use contents::ArchiveContents;
use error::{Error, ErrorCode};
use layer::Compression;
use report::{ArchiveFormat, InputInfo, Report, ToolInfo, SCHEMA_VERSION};

/// Build the report for everything the reader found. Fails only when nothing
/// at all could be analysed; otherwise problems are listed in the report,
/// which is then marked partial.
pub fn analyze(contents: &ArchiveContents) -> Result<Report, Error> {
    let assembly = assemble::assemble(contents);
    // The decoders went past the budget: that first, it may be why little is left.
    let mut errors: Vec<Error> = budget::budget_error(contents).into_iter().collect();
    errors.extend(contents.errors.iter().cloned());
    let has_metadata = assembly.has_index || assembly.has_docker_manifest;
    // An archive cut short that holds layer blobs but no manifest is an image
    // archive that lost its manifest (docker save writes it last), not a
    // flattened filesystem, even when its layers sit at the top level.
    let cut_short = contents.end_marker_missing
        || contents.decompression.outer_stopped
        || contents
            .errors
            .iter()
            .any(|e| e.code == ErrorCode::Truncated);
    let lost_manifest = !has_metadata
        && (contents.has_image_structure()
            || (cut_short
                && (contents.layers().next().is_some() || contents.has_image_member_names())));
    if lost_manifest && contents.end_marker_missing {
        errors.push(Error::new(
            ErrorCode::Truncated,
            "the archive ends without its end-of-archive marker, before its manifest: it was probably cut short",
        ));
    }
    let mut warnings = assembly.warnings.clone();
    // Cut before its manifest: the images are put together from what the
    // archive holds (configs, image manifest blobs, layers).
    let recovered = if lost_manifest && cut_short {
        recover::recover(contents)
    } else {
        Vec::new()
    };
    if recovered.is_empty() {
        errors.extend(assembly.errors.iter().cloned());
    } else {
        warnings.push(alloc::string::String::from(
            "no manifest was read (the archive is cut short, or a limit stopped its reading): each image was put together from what came before, its config (and image manifest, if any) and its layers in the order of the config's diff_ids; its tags are unknown",
        ));
    }
    let plans = if recovered.is_empty() {
        &assembly.plans
    } else {
        &recovered
    };

    let is_image_archive = has_metadata || lost_manifest;
    let format = if !is_image_archive {
        ArchiveFormat::Filesystem
    } else if assembly.has_docker_manifest
        || recovered.iter().any(|p| {
            p.config_path
                .as_deref()
                .is_some_and(|c| !c.starts_with("blobs/"))
        })
    {
        ArchiveFormat::DockerArchive
    } else {
        ArchiveFormat::OciArchive
    };
    let images = if is_image_archive {
        plans
            .iter()
            .map(|plan| image::analyze_plan(contents, plan, &mut errors))
            .collect()
    } else if contents.as_filesystem.entry_count > 0 {
        alloc::vec![image::analyze_filesystem(contents)]
    } else {
        Vec::new()
    };
    if images.is_empty() {
        // Nothing to show: the first error says why, or the archive was empty.
        return Err(errors.into_iter().next().unwrap_or_else(|| {
            if contents.end_marker_missing {
                Error::new(ErrorCode::Truncated, "the archive ends without its end-of-archive marker and holds no complete image: it was probably cut short")
            } else if is_image_archive {
                Error::new(ErrorCode::UnsupportedFormat, "the archive's index and manifest name no image")
            } else {
                Error::new(ErrorCode::NotAnArchive, "the archive holds no files")
            }
        }));
    }
    if contents.end_marker_missing {
        if format == ArchiveFormat::Filesystem {
            // Nothing tells a filesystem tar cut between two entries from a
            // whole one but the marker: files after the cut would be missing.
            errors.push(Error::new(
                ErrorCode::Truncated,
                "the archive ends without its end-of-archive marker: it may have been cut short, and files after the cut would be missing",
            ));
        } else if recovered.is_empty() {
            // Every blob the manifests name was found whole: the analysis is complete.
            warnings.push(alloc::string::String::from(
                "the archive ends without its end-of-archive marker: it may have been cut short after its last image",
            ));
        }
    }
    if format == ArchiveFormat::Filesystem {
        warnings.push(alloc::string::String::from(
            "no image metadata (manifest.json or index.json): analysed as one flattened filesystem; USER is unknown",
        ));
    }
    let escaping: u64 = contents
        .layers()
        .map(|(_, l)| l.escaping_paths)
        .sum::<u64>()
        + if format == ArchiveFormat::Filesystem {
            contents.as_filesystem.escaping_paths
        } else {
            0
        };
    if escaping > 0 {
        warnings.push(alloc::format!(
            "{} entries have names that climb above the root with '..'; they were placed at the root",
            escaping
        ));
    }
    let partial = !errors.is_empty() || images.iter().any(|i: &report::ImageReport| i.partial);
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::default(),
        input: InputInfo {
            format,
            compression: contents.compression.unwrap_or(Compression::None),
            oci_layout: assembly.has_index,
            docker_manifest: assembly.has_docker_manifest,
            bytes_read: contents.bytes_read,
            source: None,
        },
        images,
        runs: Vec::new(),
        errors,
        warnings,
        partial,
    })
}
