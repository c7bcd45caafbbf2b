//! The JSON report (schemaVersion 1): `schema/report.schema.json` is the
//! contract. Field names and order are those of the report's structs, which
//! with the `serde` feature derive `serde::Serialize` the same way
//! (`tests/json_writer.rs` checks that both give the same bytes).

use alloc::string::String;

use super::json_writer::{self, JsonWriter, WriteJson};
use crate::analysis::error::{Error, ErrorCode};
use crate::analysis::layer::Compression;
use crate::analysis::report::{
    ArchiveFormat, CapabilityFile, ImageReport, InputInfo, LayerInfo, PssFailure, PssResult,
    Report, RunFacts, RunOutcome, RunReport, RunSource, RunUser, SetuidFile, SourceInfo, ToolInfo,
};
use crate::analysis::rules::no_new_privileges::NoNewPrivileges;
use crate::analysis::rules::{Finding, S6Facts, Severity};
use crate::analysis::user::{UserFacts, UserProblem};
use crate::analysis::verdict::Verdict;
use crate::analysis::verify::{DigestMismatch, Verification};

pub fn render(report: &Report) -> String {
    json_writer::to_string(report)
}

impl WriteJson for Report {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("schemaVersion", &self.schema_version);
        w.field("tool", &self.tool);
        w.field("input", &self.input);
        w.field("images", &self.images);
        // Only the `specs` feature makes runs; without it (the page's wasm)
        // the list is always empty and its writer is left out.
        #[cfg(feature = "specs")]
        w.field("runs", &self.runs);
        #[cfg(not(feature = "specs"))]
        w.field("runs", &[0u8; 0][..]);
        w.field("errors", &self.errors);
        w.field("warnings", &self.warnings);
        w.field("partial", &self.partial);
        w.end_object();
    }
}

impl WriteJson for ToolInfo {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("name", self.name);
        w.field("version", self.version);
        w.end_object();
    }
}

impl WriteJson for InputInfo {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("format", &self.format);
        w.field("compression", &self.compression);
        w.field("ociLayout", &self.oci_layout);
        w.field("dockerManifest", &self.docker_manifest);
        w.field("bytesRead", &self.bytes_read);
        w.field("source", &self.source);
        w.end_object();
    }
}

impl WriteJson for SourceInfo {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("kind", &self.kind);
        w.field("reference", &self.reference);
        w.field("resolved", &self.resolved);
        w.field("registry", &self.registry);
        w.field("repository", &self.repository);
        w.field("tag", &self.tag);
        w.field("digest", &self.digest);
        w.field("platforms", &self.platforms);
        w.end_object();
    }
}

impl WriteJson for ImageReport {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("verdict", &self.verdict);
        w.field("verdictReasons", &self.verdict_reasons);
        w.field("findings", &self.findings);
        w.field("suppressed", &self.suppressed);
        w.field("s6", &self.s6);
        w.field("noNewPrivileges", &self.no_new_privileges);
        w.field("tags", &self.tags);
        w.field("platform", &self.platform);
        w.field("manifestDigest", &self.manifest_digest);
        w.field("configDigest", &self.config_digest);
        w.field("user", &self.user);
        w.field("config", &self.config);
        w.field("setuidFiles", &self.setuid_files);
        w.field("capabilities", &self.capabilities);
        w.field("layers", &self.layers);
        w.field("hasPasswd", &self.has_passwd);
        w.field("mergedEntries", &self.merged_entries);
        w.field("partial", &self.partial);
        w.field("verification", &self.verification);
        w.end_object();
    }
}

impl WriteJson for RunReport {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("name", &self.name);
        w.field("kind", self.kind);
        w.field("source", &self.source);
        w.field("image", &self.image);
        w.field("imageIndex", &self.image_index);
        w.field("user", &self.user);
        w.field("outcome", &self.outcome);
        w.field("message", &self.message);
        w.field("verdict", &self.verdict);
        w.field("verdictReasons", &self.verdict_reasons);
        w.field("findings", &self.findings);
        w.field("suppressed", &self.suppressed);
        w.field("pss", &self.pss);
        w.field("fixes", &self.fixes);
        w.field("warnings", &self.warnings);
        w.end_object();
    }
}

impl WriteJson for RunSource {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("file", &self.file);
        w.field("line", &self.line);
        w.end_object();
    }
}

impl WriteJson for RunUser {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("uid", &self.uid);
        w.field("gid", &self.gid);
        w.field("name", &self.name);
        w.end_object();
    }
}

impl WriteJson for PssResult {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("baseline", &self.baseline);
        w.field("restricted", &self.restricted);
        w.field("failures", &self.failures);
        w.end_object();
    }
}

impl WriteJson for PssFailure {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("level", self.level);
        w.field("control", self.control);
        w.field("field", &self.field);
        w.field("message", &self.message);
        w.end_object();
    }
}

impl WriteJson for Finding {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("rule", self.rule);
        w.field("severity", &self.severity);
        w.field("title", self.title);
        w.field("message", &self.message);
        w.field("path", &self.path);
        w.field("layer", &self.layer);
        w.field("createdBy", &self.created_by);
        w.field("evidence", &self.evidence);
        w.field("remediation", &self.remediation);
        w.field("escalation", &self.escalation);
        w.end_object();
    }
}

impl WriteJson for S6Facts {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("detected", &self.detected);
        w.field("major", &self.major);
        w.field("version", &self.version);
        w.field("setuidHelper", &self.setuid_helper);
        w.field("evidence", &self.evidence);
        w.end_object();
    }
}

impl WriteJson for NoNewPrivileges {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("compatible", &self.compatible);
        w.field("breaks", &self.breaks);
        w.field("ineffective", &self.ineffective);
        w.field("reason", &self.reason);
        w.end_object();
    }
}

impl WriteJson for UserFacts {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("configured", &self.configured);
        w.field("uid", &self.uid);
        w.field("gid", &self.gid);
        w.field("name", &self.name);
        w.field("group", &self.group);
        w.field("numeric", &self.numeric);
        w.field("problems", &self.problems);
        w.end_object();
    }
}

/// Tagged by `kind`, as `#[serde(tag = "kind")]` writes it.
impl WriteJson for UserProblem {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        match self {
            UserProblem::UserNotInPasswd { name } => {
                w.field("kind", "userNotInPasswd");
                w.field("name", name);
            }
            UserProblem::GroupNotInGroupFile { name } => {
                w.field("kind", "groupNotInGroupFile");
                w.field("name", name);
            }
            UserProblem::NoPasswdFile => w.field("kind", "noPasswdFile"),
            UserProblem::InvalidId { value } => {
                w.field("kind", "invalidId");
                w.field("value", value);
            }
        }
        w.end_object();
    }
}

impl WriteJson for RunFacts {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("entrypoint", &self.entrypoint);
        w.field("cmd", &self.cmd);
        w.field("env", &self.env);
        w.field("exposedPorts", &self.exposed_ports);
        w.field("workingDir", &self.working_dir);
        w.end_object();
    }
}

impl WriteJson for SetuidFile {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("path", &self.path);
        w.field("mode", &self.mode);
        w.field("uid", &self.uid);
        w.field("gid", &self.gid);
        w.field("setuid", &self.setuid);
        w.field("setgid", &self.setgid);
        w.field("layer", &self.layer);
        w.field("createdBy", &self.created_by);
        w.field("hardLinkTo", &self.hard_link_to);
        w.end_object();
    }
}

impl WriteJson for CapabilityFile {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("path", &self.path);
        w.field("capabilities", &self.capabilities);
        w.field("inheritable", &self.inheritable);
        w.field("effective", &self.effective);
        w.field("text", &self.text);
        w.field("rootId", &self.root_id);
        w.field("uid", &self.uid);
        w.field("gid", &self.gid);
        w.field("mode", &self.mode);
        w.field("layer", &self.layer);
        w.field("createdBy", &self.created_by);
        w.end_object();
    }
}

impl WriteJson for LayerInfo {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("index", &self.index);
        w.field("digest", &self.digest);
        w.field("diffId", &self.diff_id);
        w.field("archivePath", &self.archive_path);
        w.field("compression", &self.compression);
        w.field("storedSize", &self.stored_size);
        w.field("entries", &self.entries);
        w.field("createdBy", &self.created_by);
        w.field("whiteouts", &self.whiteouts);
        w.field("opaqueDirs", &self.opaque_dirs);
        w.field("setuidEntries", &self.setuid_entries);
        w.field("partial", &self.partial);
        w.end_object();
    }
}

impl WriteJson for Verification {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("verified", &self.verified);
        w.field("unverifiable", &self.unverifiable);
        w.field("mismatches", &self.mismatches);
        w.end_object();
    }
}

impl WriteJson for DigestMismatch {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("what", &self.what);
        w.field("member", &self.member);
        w.field("expected", &self.expected);
        w.field("actual", &self.actual);
        w.end_object();
    }
}

impl WriteJson for Error {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field("code", &self.code);
        w.field("message", &self.message);
        w.field("entry", &self.entry);
        w.field("offset", &self.offset);
        w.end_object();
    }
}

/// Enums are written as their names (`as_str`, the serde renames).
macro_rules! by_name {
    ($($t:ty),*) => {$(
        impl WriteJson for $t {
            fn write_json(&self, w: &mut JsonWriter) {
                w.string(self.as_str());
            }
        }
    )*};
}
by_name!(
    ArchiveFormat,
    Compression,
    ErrorCode,
    RunOutcome,
    Severity,
    Verdict
);
