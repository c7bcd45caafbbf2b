//! rootless-check: is this container image truly rootless?
//!
//! Usage: rootless-check [--format text|json] FILE|-
//! Exit status: 0 report complete; 2 unreadable input, partial report, or bad usage.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use rootless_check::archive::{analyze_path, ReadOptions};
use rootless_check::render;

const USAGE: &str = "\
Usage: rootless-check [--format text|json] FILE|-

Reads a container image archive (docker save, podman save, an OCI archive from
skopeo/buildah/buildx, gzip- or zstd-compressed or not, or a flattened
docker export) and reports its USER, setuid/setgid files and file capabilities.
FILE '-' reads standard input: docker save IMAGE | rootless-check -

Options:
  -f, --format FORMAT   text (default) or json
  -h, --help            this help
  -V, --version         the version

Exit status: 0 report complete; 2 input unreadable, report partial, or bad usage.";

enum Format {
    Text,
    Json,
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("rootless-check: E_USAGE: {}\n\n{}", message, USAGE);
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut format = Format::Text;
    let mut file: Option<PathBuf> = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        let (flag, inline_value) = match text.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (text.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => {
                println!("{}", USAGE);
                return ExitCode::SUCCESS;
            }
            "-V" | "--version" => {
                println!("rootless-check {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            "-f" | "--format" => {
                let value =
                    inline_value.or_else(|| args.next().map(|v| v.to_string_lossy().into_owned()));
                format = match value.as_deref() {
                    Some("text") => Format::Text,
                    Some("json") => Format::Json,
                    Some(other) => {
                        return usage_error(&format!(
                            "unknown format {:?}: use text or json",
                            other
                        ))
                    }
                    None => return usage_error("--format needs a value"),
                };
            }
            "-" => file = Some(PathBuf::from("-")),
            f if f.starts_with('-') => return usage_error(&format!("unknown option {:?}", f)),
            _ => {
                if file.is_some() {
                    return usage_error("give one archive");
                }
                file = Some(PathBuf::from(arg));
            }
        }
    }
    let Some(file) = file else {
        return usage_error("no archive given");
    };
    let report = match analyze_path(&file, &ReadOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rootless-check: {}", e);
            return ExitCode::from(2);
        }
    };
    let out = match format {
        Format::Text => render::text::render(&report),
        Format::Json => render::json::render(&report),
    };
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    if report.partial {
        for e in &report.errors {
            eprintln!("rootless-check: {}", e);
        }
        eprintln!("rootless-check: the report is partial: part of the archive could not be read");
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
