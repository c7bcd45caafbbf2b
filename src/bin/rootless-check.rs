//! rootless-check: is this container image truly rootless?
//! See `rootless-check --help` and the README.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use rootless_check::analysis::policy;
use rootless_check::archive::ReadOptions;
use rootless_check::cli;
use rootless_check::source::{analyze_source, auth, Source, SourceOptions};

struct Args {
    options: cli::Options,
    /// The source as given (possibly not UTF-8).
    given: std::ffi::OsString,
    color: bool,
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("rootless-check: E_USAGE: {}\n\n{}", message, cli::USAGE);
    ExitCode::from(2)
}

/// `Ok(None)`: help or version was printed.
fn parse_args() -> Result<Option<Args>, String> {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let text: Vec<String> = raw
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let options = match cli::parse(&text)? {
        cli::Command::Help => {
            println!("{}", cli::USAGE);
            return Ok(None);
        }
        cli::Command::Version => {
            println!("rootless-check {}", env!("CARGO_PKG_VERSION"));
            return Ok(None);
        }
        cli::Command::Analyze(options) => options,
    };
    // https://no-color.org: any non-empty NO_COLOR turns colour off.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = std::io::stdout().is_terminal() && !no_color && !options.no_color;
    // The name as given, even when it is not UTF-8.
    let given = raw[options.file].clone();
    Ok(Some(Args {
        options,
        given,
        color,
    }))
}

fn load_ignore_file(args: &mut Args) -> Result<(), String> {
    let (path, explicit) = match &args.options.ignore_file {
        Some(p) => (PathBuf::from(p), true),
        None => (PathBuf::from(cli::DEFAULT_IGNORE_FILE), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let more = policy::parse_ignore_file(&text)
                .map_err(|e| format!("{}: {}", path.display(), e.message))?;
            args.options.ignores.extend(more);
            Ok(())
        }
        Err(_) if !explicit => Ok(()),
        Err(e) => Err(format!("cannot read ignore file {}: {}", path.display(), e)),
    }
}

/// Bytes downloaded per layer on stderr, only when it is a terminal (never
/// in pipes or CI logs), at most ten times a second.
fn progress_line() -> Option<std::sync::Arc<rootless_check::source::Progress>> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let last = std::sync::Mutex::new(std::time::Instant::now());
    Some(std::sync::Arc::new(
        move |digest: &str, bytes: u64, total: Option<u64>| {
            let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < std::time::Duration::from_millis(100) {
                return;
            }
            *last = std::time::Instant::now();
            let mib = |n: u64| n as f64 / 1048576.0;
            let short: String = digest.chars().take(19).collect();
            let line = match total {
                Some(t) => format!("{} {:.1} of {:.1} MiB", short, mib(bytes), mib(t)),
                None => format!("{} {:.1} MiB", short, mib(bytes)),
            };
            eprint!("\r{}\x1b[K", line);
        },
    ))
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
    let source = match Source::parse(&args.given, &|p| p.exists()) {
        Ok(s) => s,
        Err(e) => return usage_error(&e.message),
    };
    let o = &args.options;
    let options = SourceOptions {
        read: ReadOptions {
            verify: o.verify,
            max_decompressed: o.max_decompressed,
            ..ReadOptions::default()
        },
        platform: o.platform.clone(),
        all_platforms: o.all_platforms,
        auth: auth::Lookup {
            creds: o.creds.clone(),
            authfile: o.authfile.as_ref().map(PathBuf::from),
        },
        tls_verify: o.tls_verify,
        concurrency: o.concurrency,
        progress: progress_line(),
    };
    let given = args.given.to_string_lossy();
    let shows_progress = options.progress.is_some();
    let outcome = analyze_source(&source, &given, &options);
    if shows_progress {
        eprint!("\r\x1b[K");
    }
    let mut report = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rootless-check: {}", e);
            return ExitCode::from(2);
        }
    };
    policy::apply_ignores(&mut report, &args.options.ignores);
    let out = cli::render(
        &report,
        args.options.format,
        args.options.fail_on,
        args.color,
    );
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    let (status, lines) = cli::outcome(&report, args.options.fail_on);
    for line in lines {
        eprintln!("rootless-check: {}", line);
    }
    ExitCode::from(status)
}
