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
    /// A safety limit was reached (entry count, JSON size, path length, link chain, …).
    LimitExceeded,
    /// Reading the source failed for a reason other than its content.
    Io,
    /// The command line or API call was wrong.
    Usage,
    /// `--verify`: a blob does not have the digest its manifest or config gives.
    DigestMismatch,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 12] = [
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
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with its code and where it happened.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// The archive member (or blob) the error is about, if any. Untrusted text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// Byte offset in the (decompressed) stream where the problem was seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

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
