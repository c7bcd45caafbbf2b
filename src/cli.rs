//! The command line, shared by the native CLI (src/bin/rootless-check.rs)
//! and the Node CLI (pkg-template/node/cli.cjs, through src/wasm.rs): the
//! usage text, option parsing, and what is said and returned after the
//! report. No I/O here: the callers read files and print.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::analysis::budget::MaxDecompressed;
use crate::analysis::error::{Error, ErrorCode};
use crate::analysis::policy::{Ignore, DEFAULT_FAIL_ON};
use crate::analysis::report::Report;
use crate::analysis::rules::Severity;

pub const USAGE: &str = "\
Usage: rootless-check [OPTIONS] FILE|-

Reads a container image archive (docker save, podman save, an OCI archive from
skopeo/buildah/buildx, gzip- or zstd-compressed or not, or a flattened
docker export) and says whether the image is truly rootless: root,
pseudo-rootless or rootless, with the evidence and the fix.
FILE '-' reads standard input: docker save IMAGE | rootless-check -

Options:
  -f, --format FORMAT      text (default), json or sarif
      --fail-on SEVERITY   exit 1 when a finding is at or above SEVERITY:
                           critical, high (default), medium, low, info, or none
      --ignore RULE[:GLOB] accept findings of RULE (at paths matching GLOB:
                           * within a path component, ** across, ? one char);
                           repeatable
      --ignore-file FILE   read ignores from FILE, one per line, # comments
                           (default: .rootless-check-ignore when it exists)
      --verify             check every layer, config and manifest digest against
                           the manifests (reads the whole archive); a mismatch
                           means the archive was altered: exit 2
      --max-decompressed SIZE|none
                           stop decompressing (gzip, zstd) after SIZE bytes in
                           all: E_LIMIT, a partial report, exit 2. SIZE is bytes
                           or a number with K, M, G, T (powers of 1024); none
                           lifts it. Default: the larger of 2G and 100 times
                           the archive's size
      --no-color           no colours (also when NO_COLOR is set or not a terminal)
  -h, --help               this help
  -V, --version            the version

Exit status: 0 nothing at or above --fail-on; 1 something is; 2 the input is
unreadable, the report is partial, a digest does not match (--verify), or the
command line is wrong.";

/// Read when `--ignore-file` is not given, if it exists.
pub const DEFAULT_IGNORE_FILE: &str = ".rootless-check-ignore";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
        }
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Help,
    Version,
    Analyze(Options),
}

#[derive(Debug)]
pub struct Options {
    pub format: Format,
    /// Index of the archive's name among the arguments (`-`: standard input),
    /// so that a caller can use the original, possibly non-UTF-8, name.
    pub file: usize,
    pub fail_on: Option<Severity>,
    /// The `--ignore` values as given, and parsed.
    pub ignore_specs: Vec<String>,
    pub ignores: Vec<Ignore>,
    pub ignore_file: Option<String>,
    pub verify: bool,
    /// `--max-decompressed`.
    pub max_decompressed: MaxDecompressed,
    /// `--no-color`; the caller also turns colour off for NO_COLOR and non-terminals.
    pub no_color: bool,
}

/// Parse the arguments (without the program name). The error is the message
/// to show with the usage text.
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Command, String> {
    let mut options = Options {
        format: Format::Text,
        file: usize::MAX,
        fail_on: Some(DEFAULT_FAIL_ON),
        ignore_specs: Vec::new(),
        ignores: Vec::new(),
        ignore_file: None,
        verify: false,
        max_decompressed: MaxDecompressed::Auto,
        no_color: false,
    };
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_ref();
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (arg, None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            if let Some(v) = inline {
                return Ok(String::from(v));
            }
            i += 1;
            args.get(i)
                .map(|v| String::from(v.as_ref()))
                .ok_or_else(|| format!("{} needs a value", name))
        };
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "-f" | "--format" => {
                options.format = match value("--format")?.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    "sarif" => Format::Sarif,
                    other => {
                        return Err(format!(
                            "unknown format {:?}: use text, json or sarif",
                            other
                        ))
                    }
                }
            }
            "--fail-on" => options.fail_on = parse_fail_on(&value("--fail-on")?)?,
            "--ignore" => {
                let spec = value("--ignore")?;
                options
                    .ignores
                    .push(Ignore::parse(&spec).map_err(|e| e.message)?);
                options.ignore_specs.push(spec);
            }
            "--ignore-file" => options.ignore_file = Some(value("--ignore-file")?),
            "--no-color" => options.no_color = true,
            "--verify" => options.verify = true,
            "--max-decompressed" => {
                options.max_decompressed = MaxDecompressed::parse(&value("--max-decompressed")?)?
            }
            "-" => options.file = i,
            f if f.starts_with('-') => return Err(format!("unknown option {:?}", f)),
            _ => {
                if options.file != usize::MAX {
                    return Err(String::from("give one archive"));
                }
                options.file = i;
            }
        }
        i += 1;
    }
    if options.file == usize::MAX {
        return Err(String::from("no archive given"));
    }
    Ok(Command::Analyze(options))
}

/// `--fail-on`'s value: a severity, or `none`.
pub fn parse_fail_on(text: &str) -> Result<Option<Severity>, String> {
    if text == "none" {
        return Ok(None);
    }
    Severity::parse(text)
        .map(Some)
        .ok_or_else(|| format!("unknown severity {:?}", text))
}

/// After the report: the exit status (2 partial or altered, 1 a finding at
/// or above `fail_on`, else 0) and the lines to print on stderr (each after
/// `rootless-check: `).
pub fn outcome(report: &Report, fail_on: Option<Severity>) -> (u8, Vec<String>) {
    if report.partial {
        let mut lines: Vec<String> = report.errors.iter().map(|e| format!("{}", e)).collect();
        lines.push(String::from(
            "the report is partial: part of the archive could not be read",
        ));
        return (2, lines);
    }
    let mismatches: Vec<String> = report
        .images
        .iter()
        .flat_map(|i| i.verification.iter().flat_map(|v| &v.mismatches))
        .map(|m| {
            let e = Error::new(
                ErrorCode::DigestMismatch,
                format!(
                    "{} has {} but {} was expected: the archive was altered after it was written",
                    m.what, m.actual, m.expected
                ),
            )
            .with_entry(m.member.clone());
            format!("{}", e)
        })
        .collect();
    if !mismatches.is_empty() {
        return (2, mismatches);
    }
    (
        u8::from(crate::analysis::policy::fails(report, fail_on)),
        Vec::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &[&str]) -> Options {
        match parse(args) {
            Ok(Command::Analyze(o)) => o,
            other => panic!("{:?}", other),
        }
    }

    #[test]
    fn flags_values_and_the_file() {
        let o = options(&[
            "--format=json",
            "--fail-on",
            "none",
            "--ignore",
            "setuid-root",
            "x.tar",
        ]);
        assert_eq!(o.format, Format::Json);
        assert_eq!(o.fail_on, None);
        assert_eq!(o.ignore_specs, ["setuid-root"]);
        assert_eq!(o.file, 5);
        assert_eq!(options(&["-"]).file, 0);
        assert_eq!(
            options(&["-f", "sarif", "--verify", "--no-color", "a"]).format,
            Format::Sarif
        );
        assert!(matches!(parse(&["x", "--help"]), Ok(Command::Help)));
        assert_eq!(options(&["a"]).max_decompressed, MaxDecompressed::Auto);
        assert_eq!(
            options(&["--max-decompressed", "64G", "a"]).max_decompressed,
            MaxDecompressed::Bytes(64 << 30)
        );
        assert_eq!(
            options(&["--max-decompressed=none", "a"]).max_decompressed,
            MaxDecompressed::Unlimited
        );
        assert!(matches!(parse(&["-V"]), Ok(Command::Version)));
    }

    #[test]
    fn mistakes_say_what_is_wrong() {
        let err = |args: &[&str]| parse(args).unwrap_err();
        assert_eq!(err(&[]), "no archive given");
        assert_eq!(err(&["a", "b"]), "give one archive");
        assert_eq!(err(&["--format"]), "--format needs a value");
        assert_eq!(
            err(&["--format", "xml", "a"]),
            "unknown format \"xml\": use text, json or sarif"
        );
        assert_eq!(
            err(&["--fail-on", "severe", "a"]),
            "unknown severity \"severe\""
        );
        assert_eq!(err(&["--bogus", "a"]), "unknown option \"--bogus\"");
        assert!(err(&["--max-decompressed", "lots", "a"]).starts_with("invalid size \"lots\""));
        assert_eq!(
            err(&["--max-decompressed"]),
            "--max-decompressed needs a value"
        );
        assert!(err(&["--ignore", "no-such-rule", "a"]).contains("no-such-rule"));
    }
}
