//! One error type with stable codes. The code is the contract (scripts and the
//! JavaScript API match on it); the message is for people and may change.

use alloc::string::String;
use core::fmt;

/// Stable, machine-readable error codes. Never renumber or rename: add new ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The input is empty or is not a tar archive (nor gzip/zstd around one).
    NotAnArchive,
    /// The input ends in the middle of a header, an entry or a compressed stream.
    Truncated,
    /// A tar header is malformed (bad checksum, bad numeric field, bad PAX record).
    CorruptTar,
    /// A gzip stream is corrupt.
    CorruptGzip,
    /// A zstd stream is corrupt.
    CorruptZstd,
    /// A manifest or index names a blob (config, layer, manifest) that is not in the archive.
    MissingBlob,
    /// A manifest, index or config is not valid JSON of the expected shape.
    BadJson,
    /// The archive is recognisably an image archive, but of a kind this tool does not read.
    UnsupportedFormat,
    /// A safety limit was reached (the decompression budget, entry count, JSON
    /// size, path length, link chain, …).
    LimitExceeded,
    /// Reading the source failed for a reason other than its content.
    Io,
    /// The command line or API call was wrong.
    Usage,
    /// `--verify`: a blob does not have the digest its manifest or config gives.
    DigestMismatch,
    /// A registry refused the credentials, or needs some and none were found.
    Auth,
    /// A repository, tag, digest or platform the source names does not exist.
    NotFound,
    /// A registry or daemon could not be reached (DNS, connect, TLS, timeout).
    Network,
    /// A registry or daemon gave any other unexpected answer.
    Registry,
    /// A compose file, a Kubernetes manifest or `--run` options could not
    /// be read as their consumer reads them.
    BadSpec,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::NotAnArchive,
        ErrorCode::Truncated,
        ErrorCode::CorruptTar,
        ErrorCode::CorruptGzip,
        ErrorCode::CorruptZstd,
        ErrorCode::MissingBlob,
        ErrorCode::BadJson,
        ErrorCode::UnsupportedFormat,
        ErrorCode::LimitExceeded,
        ErrorCode::Io,
        ErrorCode::Usage,
        ErrorCode::DigestMismatch,
        ErrorCode::Auth,
        ErrorCode::NotFound,
        ErrorCode::Network,
        ErrorCode::Registry,
        ErrorCode::BadSpec,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotAnArchive => "E_NOT_ARCHIVE",
            ErrorCode::Truncated => "E_TRUNCATED",
            ErrorCode::CorruptTar => "E_CORRUPT_TAR",
            ErrorCode::CorruptGzip => "E_CORRUPT_GZIP",
            ErrorCode::CorruptZstd => "E_CORRUPT_ZSTD",
            ErrorCode::MissingBlob => "E_MISSING_BLOB",
            ErrorCode::BadJson => "E_BAD_JSON",
            ErrorCode::UnsupportedFormat => "E_UNSUPPORTED_FORMAT",
            ErrorCode::LimitExceeded => "E_LIMIT",
            ErrorCode::Io => "E_IO",
            ErrorCode::Usage => "E_USAGE",
            ErrorCode::DigestMismatch => "E_DIGEST_MISMATCH",
            ErrorCode::Auth => "E_AUTH",
            ErrorCode::NotFound => "E_NOT_FOUND",
            ErrorCode::Network => "E_NETWORK",
            ErrorCode::Registry => "E_REGISTRY",
            ErrorCode::BadSpec => "E_BAD_SPEC",
        }
    }
}

impl ErrorCode {
    /// What the code means and what a person can do about it (the catalogue in docs/errors.md).
    pub fn explanation(self) -> (&'static str, &'static str) {
        match self {
            ErrorCode::NotAnArchive => (
                "The input is empty, or is neither a tar archive nor gzip/zstd around one. The message says what it looks like instead (a zip, xz or bzip2 file, a lone JSON document).",
                "Give the archive that `docker save IMAGE -o image.tar`, `podman save`, `skopeo copy … oci-archive:image.tar` or `docker export` wrote; decompress xz/bzip2 first.",
            ),
            ErrorCode::Truncated => (
                "The input ends inside a header, an entry or a compressed stream, or without its end-of-archive marker. With a manifest already read, or cut before its manifest but after an image's config, the report is partial instead: the images are put together from their configs and the layers before the cut.",
                "Download or copy the archive again; check free disk space where it was written; `tar -tf image.tar > /dev/null` shows the same.",
            ),
            ErrorCode::CorruptTar => (
                "A tar header has a bad checksum or a malformed number, or a PAX record is malformed.",
                "The archive is damaged or was not written by a tar tool; write it again.",
            ),
            ErrorCode::CorruptGzip => ("A gzip stream (the whole archive or a layer) is corrupt.", "Write or download the archive again; `gzip -t` confirms."),
            ErrorCode::CorruptZstd => ("A zstd stream (the whole archive or a layer) is corrupt.", "Write or download the archive again; `zstd -t` confirms."),
            ErrorCode::MissingBlob => (
                "A manifest or index names a config, layer or manifest that is not in the archive; in an archive cut before its manifest, a layer of an image's config (named by its diff_id) that the cut lost. Platforms of a manifest list that are absent are only a warning.",
                "Save the image again with all its layers (`docker save`, `skopeo copy --all` for every platform).",
            ),
            ErrorCode::BadJson => (
                "`manifest.json`, `index.json`, an image manifest or an image config is not the JSON it should be.",
                "The archive is damaged or hand-edited; write it again.",
            ),
            ErrorCode::UnsupportedFormat => (
                "The archive holds image blobs but neither `manifest.json` nor `index.json` (a `docker save` from Docker before 1.10), or a layer is neither tar nor gzip/zstd around tar.",
                "Re-save the image with a current Docker, podman or skopeo.",
            ),
            ErrorCode::LimitExceeded => (
                "A safety limit was reached: the decompression budget (gzip and zstd together may give at most the larger of 2 GiB and 100 times the archive's size; the message names the layer, what was decompressed and the budget), entries or names per layer, path length, PAX header size, JSON size, layers or images per archive, index nesting.",
                "The archive is unusually large or crafted (a decompression bomb); the report covers what came before the limit. An image that really decompresses to more (huge zeroed or sparse files) is analysed whole with `--max-decompressed 64G` (or `none`; `maxDecompressed` in the JS API).",
            ),
            ErrorCode::Io => ("The source could not be opened or read (permissions, a missing file, a read error).", "Check the path and permissions."),
            ErrorCode::Usage => ("The command line or API call was wrong: an unknown option, rule or severity.", "See `rootless-check --help`."),
            ErrorCode::DigestMismatch => (
                "With `--verify`, or always for an image read from a registry, an OCI layout or a daemon: a layer, config or manifest does not have the digest its manifest, config or reference gives. The image was altered or damaged on its way: its findings cannot be trusted.",
                "Get the image from its registry again and compare; find out who changed it.",
            ),
            ErrorCode::Auth => (
                "A registry refused the credentials given, or needs credentials and none were found. The message names the credential sources that were tried (never the secret).",
                "Give credentials with `--creds USER[:PASSWORD]` or `--authfile FILE`, or log in with `podman login`, `skopeo login` or `docker login`.",
            ),
            ErrorCode::NotFound => (
                "The registry, layout or daemon has no such repository, tag, digest, or no image for the platform asked for (the message lists the platforms there are).",
                "Check the reference (`skopeo list-tags docker://REPO`, `skopeo inspect --raw docker://REF`); pick a listed platform with `--platform`.",
            ),
            ErrorCode::Network => (
                "A registry or daemon could not be reached: DNS, connection, TLS or a timeout. The message names the host.",
                "Check the name and the network (proxy: `HTTPS_PROXY`, `NO_PROXY`); a registry without TLS needs `--tls-verify=false`.",
            ),
            ErrorCode::Registry => (
                "A registry or daemon answered something else than expected: the message gives the HTTP status and the registry's own error code.",
                "Retry later; if it persists, the registry's logs or its status page say why.",
            ),
            ErrorCode::BadSpec => (
                "`--compose`, `--k8s` or `--run` could not be read as docker compose, kubectl or docker run read it: YAML syntax, a repeated key (Compose), a value of the wrong type (`privileged: \"true\"` in a manifest), a variable required with `${VAR?…}`, an unknown short flag. The message gives the file, line and column.",
                "Fix the file at the line given; `docker compose config` and `kubectl apply --dry-run=client -f FILE` show the same problem.",
            ),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with its code and where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// The archive member (or blob) the error is about, if any. Untrusted text.
    /// `null` in the JSON when unknown, like every optional field of the report.
    pub entry: Option<String>,
    /// Byte offset in the (decompressed) stream where the problem was seen.
    pub offset: Option<u64>,
}

#[cfg(feature = "serde")]
impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            entry: None,
            offset: None,
        }
    }

    pub fn with_entry(mut self, entry: impl Into<String>) -> Self {
        if self.entry.is_none() {
            self.entry = Some(entry.into());
        }
        self
    }

    pub fn with_offset(mut self, offset: u64) -> Self {
        if self.offset.is_none() {
            self.offset = Some(offset);
        }
        self
    }
}

impl fmt::Display for Error {
    /// One line: `E_CODE: message (entry "x", offset N)`. Control characters in
    /// untrusted names are escaped so the line stays one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message.escape_debug())?;
        match (&self.entry, self.offset) {
            (Some(e), Some(o)) => write!(f, " (entry \"{}\", offset {})", e.escape_debug(), o),
            (Some(e), None) => write!(f, " (entry \"{}\")", e.escape_debug()),
            (None, Some(o)) => write!(f, " (offset {})", o),
            (None, None) => Ok(()),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

pub type Result<T> = core::result::Result<T, Error>;
