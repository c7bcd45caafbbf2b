//! The report: what the renderers (text, JSON, …) show. Field names are the
//! JSON contract (`schemaVersion` 1): add fields, never rename or remove them.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::Error;
use super::layer::Compression;
use super::user::UserFacts;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub input: InputInfo,
    pub images: Vec<ImageReport>,
    /// How the images will be run (`--run`, `--compose`, `--k8s`): one per
    /// container or service; empty without a spec.
    pub runs: Vec<RunReport>,
    /// Problems that stopped part of the analysis. Non-empty means `partial`.
    pub errors: Vec<Error>,
    /// Things worth knowing that did not stop the analysis.
    pub warnings: Vec<String>,
    /// Something could not be read: the findings cover only what was.
    pub partial: bool,
}

impl Report {
    /// Add another source's report to this one, as the CLIs merge several
    /// sources: `input` stays the first source's; images, errors and
    /// warnings are appended, with a warning saying what `given` added.
    pub fn merge(&mut self, mut next: Report, given: &str) {
        self.warnings.push(alloc::format!(
            "input describes the first source; {} added {} image(s)",
            given,
            next.images.len()
        ));
        self.images.append(&mut next.images);
        self.errors.append(&mut next.errors);
        self.warnings.append(&mut next.warnings);
        self.partial |= next.partial;
    }
}

#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct ToolInfo {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo {
            name: "rootless-check",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// What kind of archive was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum ArchiveFormat {
    /// `docker save` (any version) or another writer of `manifest.json`
    /// (containers/image, go-containerregistry, kaniko).
    DockerArchive,
    /// An OCI image layout (skopeo, buildah, buildx `type=oci`, containerd export)
    /// without a `manifest.json`.
    OciArchive,
    /// A filesystem tar without image metadata (`docker export`, buildx
    /// `type=tar`, a bare layer).
    Filesystem,
}

impl ArchiveFormat {
    /// The JSON name (as serialised), for the text report.
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveFormat::DockerArchive => "docker-archive",
            ArchiveFormat::OciArchive => "oci-archive",
            ArchiveFormat::Filesystem => "filesystem",
        }
    }
}

#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct InputInfo {
    pub format: ArchiveFormat,
    /// Compression around the whole archive.
    pub compression: Compression,
    /// `index.json` (OCI layout) was present.
    pub oci_layout: bool,
    /// `manifest.json` (Docker) was present.
    pub docker_manifest: bool,
    /// Bytes of the source consumed, read or skipped over (compressed bytes when
    /// the whole archive is compressed); for a registry, the bytes downloaded.
    pub bytes_read: u64,
    /// Where the image came from when it was named rather than given as an
    /// archive (a registry, an OCI layout directory, a daemon); `None` for
    /// an archive file or stream.
    pub source: Option<SourceInfo>,
}

/// A source named by reference: what was asked for and what it resolved to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct SourceInfo {
    /// `registry`, `oci-layout` or `docker-daemon`.
    pub kind: String,
    /// The source as given (`alpine`, `docker://…`, `oci:DIR:REF`). Untrusted text.
    pub reference: String,
    /// The normalised reference (`docker.io/library/alpine:latest`), or the
    /// layout's directory and reference name.
    pub resolved: String,
    /// The registry's host, for a registry.
    pub registry: Option<String>,
    /// The repository within the registry (or the name the daemon knows).
    pub repository: Option<String>,
    pub tag: Option<String>,
    /// `sha256:…` of what the reference resolved to: an image index or a manifest.
    pub digest: Option<String>,
    /// `os/arch[/variant]` of every image an index names (attestations
    /// left out); empty when the reference names a single manifest.
    pub platforms: Vec<String>,
}

#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct ImageReport {
    /// `root`, `pseudo-rootless`, `rootless` or `unknown` (see `verdict.rs`).
    pub verdict: Verdict,
    /// Why, most important first. Holds untrusted names.
    pub verdict_reasons: Vec<String>,
    /// What the rules found, most severe first (suppressed ones excluded).
    pub findings: Vec<Finding>,
    /// Findings matched by an ignore rule: kept visible, not counted for the exit status.
    pub suppressed: Vec<Finding>,
    pub s6: S6Facts,
    pub no_new_privileges: NoNewPrivileges,
    pub tags: Vec<String>,
    /// `os/arch[/variant]`, `null` without a config.
    pub platform: Option<String>,
    pub manifest_digest: Option<String>,
    pub config_digest: Option<String>,
    pub user: UserFacts,
    /// Run configuration, `null` without a config.
    pub config: Option<RunFacts>,
    pub setuid_files: Vec<SetuidFile>,
    pub capabilities: Vec<CapabilityFile>,
    pub layers: Vec<LayerInfo>,
    /// `/etc/passwd` exists in the merged image.
    pub has_passwd: bool,
    /// Entries in the merged filesystem.
    pub merged_entries: usize,
    /// Some layer of this image could not be read completely.
    pub partial: bool,
    /// `--verify` results; `null` when digests were not checked.
    pub verification: Option<Verification>,
    /// What a run needs from the image beyond the report (not serialised).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub runtime: RuntimeFacts,
}

/// Facts about an image that predicting a run needs and the JSON does not
/// show: its accounts (to resolve a `user:` or `--user` name) and `/run`.
#[derive(Clone, Debug, Default)]
pub struct RuntimeFacts {
    pub passwd: Option<super::passwd::Passwd>,
    pub groups: Option<super::passwd::Groups>,
    /// `/run` (symlinks followed): owner uid, gid and mode; `None` when absent.
    pub run_dir: Option<(u32, u32, u32)>,
}

/// How one container or service will run, held against its image.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct RunReport {
    /// `Deployment/web/app` (Kubernetes; init containers too), the service
    /// name (Compose), `docker run` (`--run`). Untrusted text.
    pub name: String,
    /// `run`, `compose` or `kubernetes`.
    pub kind: &'static str,
    pub source: RunSource,
    /// The image as the spec names it (`null` for `--run` without one).
    pub image: Option<String>,
    /// Index in `images` of the image it was held against; `null` when not checked.
    pub image_index: Option<usize>,
    pub user: RunUser,
    /// `starts`, `refused` (the runtime refuses before the process runs),
    /// `fails` (it starts, but its start path needs privilege it cannot
    /// get) or `not-checked` (no image to hold it against).
    pub outcome: RunOutcome,
    /// The runtime's or the program's own words for `refused` and `fails`;
    /// for `not-checked`, why.
    pub message: Option<String>,
    pub verdict: Verdict,
    pub verdict_reasons: Vec<String>,
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Finding>,
    pub pss: PssResult,
    /// What to paste, as YAML for Compose and Kubernetes, flags for `--run`.
    pub fixes: Vec<String>,
    pub warnings: Vec<String>,
    /// The spec line each finding is about, by rule (for SARIF regions).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub finding_lines: Vec<(&'static str, u32)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct RunSource {
    /// The spec file (`null` for `--run`).
    pub file: Option<String>,
    /// 1-based line of the container or service.
    pub line: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct RunUser {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// From the image's /etc/passwd (or as written); `null` for a uid it lacks.
    pub name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum RunOutcome {
    Starts,
    Refused,
    Fails,
    NotChecked,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Starts => "starts",
            RunOutcome::Refused => "refused",
            RunOutcome::Fails => "fails",
            RunOutcome::NotChecked => "not-checked",
        }
    }
}

/// Pod Security Standards (the upstream `pod-security-admission` checks).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct PssResult {
    /// The container passes the `baseline` level.
    pub baseline: bool,
    /// It passes `restricted` (which includes baseline).
    pub restricted: bool,
    pub failures: Vec<PssFailure>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct PssFailure {
    /// `baseline` or `restricted`: the lowest level the control belongs to.
    pub level: &'static str,
    /// The control's name in the standard, e.g. `Privileged Containers`.
    pub control: &'static str,
    /// The field as the spec spells it (`securityContext.privileged`,
    /// `cap_add`, `--privileged`).
    pub field: String,
    /// What is wrong, in a sentence. Holds untrusted values.
    pub message: String,
}

#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct RunFacts {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub exposed_ports: Vec<String>,
    pub working_dir: Option<String>,
}

/// A setuid or setgid regular file of the merged filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct SetuidFile {
    /// Absolute path in the image. Untrusted text.
    pub path: String,
    /// Octal permission bits including the special bits, e.g. `"4755"`.
    pub mode: String,
    pub uid: u32,
    pub gid: u32,
    pub setuid: bool,
    pub setgid: bool,
    /// Index of the layer that added it (0 = base).
    pub layer: usize,
    /// The Dockerfile step that made that layer.
    pub created_by: Option<String>,
    /// For a hard link: the path it links to.
    pub hard_link_to: Option<String>,
}

/// A file with file capabilities (`security.capability`) in the merged filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct CapabilityFile {
    pub path: String,
    /// Permitted capabilities.
    pub capabilities: Vec<String>,
    pub inheritable: Vec<String>,
    /// Raised at exec without the program asking (`+e`).
    pub effective: bool,
    /// `getcap`-style text, e.g. `cap_net_bind_service+ep`.
    pub text: String,
    pub root_id: Option<u32>,
    pub uid: u32,
    pub gid: u32,
    pub mode: String,
    pub layer: usize,
    pub created_by: Option<String>,
}

#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct LayerInfo {
    pub index: usize,
    /// The digest the manifest gives for the blob, when known.
    pub digest: Option<String>,
    /// The config's `rootfs.diff_ids` entry (digest of the uncompressed layer).
    pub diff_id: Option<String>,
    /// Where the layer is in the archive. Untrusted text.
    pub archive_path: String,
    pub compression: Option<Compression>,
    pub stored_size: u64,
    /// Tar headers in the layer, whiteouts included.
    pub entries: u64,
    pub created_by: Option<String>,
    /// Paths this layer deletes from lower layers.
    pub whiteouts: Vec<String>,
    /// Directories whose lower content this layer hides.
    pub opaque_dirs: Vec<String>,
    /// Setuid/setgid files in this layer, whether or not they survive the merge.
    pub setuid_entries: usize,
    pub partial: bool,
}

/// `"4755"`-style octal mode.
pub fn mode_string(mode: u32) -> String {
    alloc::format!("{:04o}", mode & 0o7777)
}

// ---------------------------------------------------------------------------
// What the rules, the verdict and `--verify` write into the report, defined
// here so that the report depends on none of them (they depend on it).

/// How bad a finding is. Ordered: `Info < Low < … < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }
}

/// One thing a rule found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// What was found, in a sentence. Holds untrusted names.
    pub message: String,
    /// The file it is about, absolute. Untrusted text.
    pub path: Option<String>,
    pub layer: Option<usize>,
    pub created_by: Option<String>,
    /// Facts a person can check (mode, owner, the configured value, …).
    pub evidence: Vec<String>,
    /// The fix for this finding, ready to paste.
    pub remediation: String,
    /// A way back to root for a non-root USER.
    pub escalation: bool,
}

/// s6-overlay, as detected from the merged filesystem and the config.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct S6Facts {
    pub detected: bool,
    /// 2 or 3.
    pub major: Option<u8>,
    /// The s6-overlay version, e.g. `3.1.5.0`, when the layout shows it.
    pub version: Option<String>,
    /// The setuid helper that lets a non-root start switch to root
    /// (`s6-overlay-suexec` in v3, `s6-overlay-preinit` in v2).
    pub setuid_helper: Option<String>,
    pub evidence: Vec<String>,
}

/// The prediction, reported with every image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct NoNewPrivileges {
    /// The container is expected to start and run as designed.
    pub compatible: bool,
    /// setuid helpers the start path needs, which would stop working.
    pub breaks: Vec<String>,
    /// Files whose setuid/setgid bits or capabilities would be ignored.
    pub ineffective: Vec<String>,
    pub reason: String,
}

/// The verdict of an image or a run (`verdict.rs` decides it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Verdict {
    Root,
    PseudoRootless,
    Rootless,
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Root => "root",
            Verdict::PseudoRootless => "pseudo-rootless",
            Verdict::Rootless => "rootless",
            Verdict::Unknown => "unknown",
        }
    }
}

/// What `--verify` compared (`verify.rs` compares).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct Verification {
    /// Digests compared and found equal.
    pub verified: usize,
    /// Blobs with no digest to compare against (e.g. legacy layers without diff_ids).
    pub unverifiable: Vec<String>,
    pub mismatches: Vec<DigestMismatch>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct DigestMismatch {
    /// What the digest is of: `manifest`, `config`, `layer N`, `layer N (uncompressed)`.
    pub what: String,
    /// The archive member. Untrusted text.
    pub member: String,
    pub expected: String,
    pub actual: String,
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    /// `as_str` is what the JSON writer writes; serde's renames must agree.
    #[test]
    fn archive_format_names_are_the_json_ones() {
        for f in [
            ArchiveFormat::DockerArchive,
            ArchiveFormat::OciArchive,
            ArchiveFormat::Filesystem,
        ] {
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
    }
}
