//! rootless-check: is this container image truly rootless?
//! See `rootless-check --help` and the README.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use rootless_check::analysis::policy::{self, Ignore, DEFAULT_FAIL_ON};
use rootless_check::analysis::rules::Severity;
use rootless_check::archive::{analyze_path, ReadOptions};
use rootless_check::render;

const USAGE: &str = "\
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
      --no-color           no colours (also when NO_COLOR is set or not a terminal)
  -h, --help               this help
  -V, --version            the version

Exit status: 0 nothing at or above --fail-on; 1 something is; 2 the input is
unreadable, the report is partial, a digest does not match (--verify), or the
command line is wrong.";

const DEFAULT_IGNORE_FILE: &str = ".rootless-check-ignore";

enum Format {
    Text,
    Json,
    Sarif,
}

struct Args {
    format: Format,
    file: PathBuf,
    fail_on: Option<Severity>,
    ignores: Vec<Ignore>,
    ignore_file: Option<PathBuf>,
    color: bool,
    verify: bool,
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("rootless-check: E_USAGE: {}\n\n{}", message, USAGE);
    ExitCode::from(2)
}

/// `Ok(None)`: help or version was printed.
fn parse_args() -> Result<Option<Args>, String> {
    let mut format = Format::Text;
    let mut file: Option<PathBuf> = None;
    let mut fail_on = Some(DEFAULT_FAIL_ON);
    let mut ignores = Vec::new();
    let mut ignore_file = None;
    let mut verify = false;
    // https://no-color.org: any non-empty NO_COLOR turns colour off.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut color = std::io::stdout().is_terminal() && !no_color;
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        let (flag, inline) = match text.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (text.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next().map(|v| v.to_string_lossy().into_owned()))
                .ok_or_else(|| format!("{} needs a value", name))
        };
        match flag.as_str() {
            "-h" | "--help" => {
                println!("{}", USAGE);
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("rootless-check {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "-f" | "--format" => {
                format = match value("--format")?.as_str() {
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
            "--fail-on" => {
                let v = value("--fail-on")?;
                fail_on = if v == "none" {
                    None
                } else {
                    Some(Severity::parse(&v).ok_or_else(|| format!("unknown severity {:?}", v))?)
                };
            }
            "--ignore" => ignores.push(Ignore::parse(&value("--ignore")?).map_err(|e| e.message)?),
            "--ignore-file" => ignore_file = Some(PathBuf::from(value("--ignore-file")?)),
            "--no-color" => color = false,
            "--verify" => verify = true,
            "-" => file = Some(PathBuf::from("-")),
            f if f.starts_with('-') => return Err(format!("unknown option {:?}", f)),
            _ => {
                if file.is_some() {
                    return Err(String::from("give one archive"));
                }
                file = Some(PathBuf::from(arg));
            }
        }
    }
    let file = file.ok_or_else(|| String::from("no archive given"))?;
    Ok(Some(Args {
        format,
        file,
        fail_on,
        ignores,
        ignore_file,
        color,
        verify,
    }))
}

fn load_ignore_file(args: &mut Args) -> Result<(), String> {
    let (path, explicit) = match &args.ignore_file {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from(DEFAULT_IGNORE_FILE), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let more = policy::parse_ignore_file(&text)
                .map_err(|e| format!("{}: {}", path.display(), e.message))?;
            args.ignores.extend(more);
            Ok(())
        }
        Err(_) if !explicit => Ok(()),
        Err(e) => Err(format!("cannot read ignore file {}: {}", path.display(), e)),
    }
}

fn main() -> ExitCode {
    let mut args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(message) => return usage_error(&message),
    };
    if let Err(message) = load_ignore_file(&mut args) {
        return usage_error(&message);
    }
    let options = ReadOptions {
        verify: args.verify,
        ..ReadOptions::default()
    };
    let mut report = match analyze_path(&args.file, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rootless-check: {}", e);
            return ExitCode::from(2);
        }
    };
    policy::apply_ignores(&mut report, &args.ignores);
    let out = match args.format {
        Format::Text => {
            render::text::render(&report, render::text::TextOptions { color: args.color })
        }
        Format::Json => render::json::render(&report),
        Format::Sarif => render::sarif::render(&report),
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
    let mut tampered = false;
    for image in &report.images {
        for m in image.verification.iter().flat_map(|v| &v.mismatches) {
            let e = rootless_check::Error::new(
                rootless_check::ErrorCode::DigestMismatch,
                format!(
                    "{} has {} but {} was expected: the archive was altered after it was written",
                    m.what, m.actual, m.expected
                ),
            )
            .with_entry(m.member.clone());
            eprintln!("rootless-check: {}", e);
            tampered = true;
        }
    }
    if tampered {
        return ExitCode::from(2);
    }
    if policy::fails(&report, args.fail_on) {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
