//! rootless-check: is this container image truly rootless?
//! See `rootless-check --help` and the README.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use rootless_check::analysis::policy;
use rootless_check::analysis::reference::Reference;
use rootless_check::analysis::spec::{self, Specs};
use rootless_check::archive::ReadOptions;
use rootless_check::cli;
use rootless_check::source::{analyze_source, auth, Source, SourceOptions};
use rootless_check::{Error, ErrorCode, Report};

struct Args {
    options: cli::Options,
    /// The sources as given (possibly not UTF-8).
    given: Vec<std::ffi::OsString>,
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
    // The names as given, even when they are not UTF-8.
    let given = options.sources.iter().map(|&i| raw[i].clone()).collect();
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

/// Add a source's report to the one the CLI prints (the first source's
/// `input`; every image, error and warning).
fn merge(into: &mut Option<Report>, next: Report, given: &str) {
    match into {
        None => *into = Some(next),
        Some(base) => base.merge(next, given),
    }
}

/// `--run`, `--compose`, `--k8s`, read as their consumers read them.
fn read_specs(o: &cli::Options) -> Result<Option<Specs>, Error> {
    let bad = |e: String| Error::new(ErrorCode::BadSpec, e);
    if let Some(text) = &o.run {
        return spec::docker_run::parse(text)
            .map(Some)
            .map_err(|e| bad(format!("--run: {}", e)));
    }
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map_err(|e| Error::new(ErrorCode::Io, format!("cannot read {}: {}", path, e)))
    };
    if let Some(path) = &o.compose {
        let text = read(path)?;
        let dotenv = std::path::Path::new(path)
            .parent()
            .map(|d| d.join(".env"))
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| spec::compose::parse_dotenv(&t))
            .unwrap_or_default();
        let lookup = |k: &str| std::env::var(k).ok();
        let env = spec::compose::Env {
            lookup: &lookup,
            dotenv,
        };
        return spec::compose::parse(&text, Some(path), &env)
            .map(Some)
            .map_err(|e| bad(e.to_string()));
    }
    if let Some(path) = &o.k8s {
        let text = read(path)?;
        return spec::k8s::parse(&text, Some(path))
            .map(Some)
            .map_err(|e| bad(e.to_string()));
    }
    Ok(None)
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
    let mut sources = Vec::new();
    for given in &args.given {
        match Source::parse(given, &|p| p.exists()) {
            Ok(s) => sources.push((s, given.to_string_lossy().into_owned())),
            Err(e) => return usage_error(&e.message),
        }
    }
    // The spec is read first: a mistake in it is found before any download.
    let specs = match read_specs(&args.options) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rootless-check: {}", e);
            return ExitCode::from(2);
        }
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
    let shows_progress = options.progress.is_some();
    let analyze = |source: &Source, given: &str| {
        let outcome = analyze_source(source, given, &options);
        if shows_progress {
            eprint!("\r\x1b[K");
        }
        outcome
    };
    let mut report: Option<Report> = None;
    for (source, given) in &sources {
        match analyze(source, given) {
            Ok(r) => merge(&mut report, r, given),
            Err(e) => {
                eprintln!("rootless-check: {}", e);
                return ExitCode::from(2);
            }
        }
    }
    if let Some(specs) = specs {
        // Images the spec names that no source given holds are pulled by
        // reference; what could not be read is kept to say why.
        let mut fetched: Vec<(String, Result<(), String>)> = Vec::new();
        let fetch = |name: &str| -> Result<Report, String> {
            let reference = Reference::parse(name).map_err(|e| format!("{}: {}", name, e))?;
            analyze(&Source::Registry(reference), name).map_err(|e| e.to_string())
        };
        if report.is_none() {
            let mut names: Vec<String> = Vec::new();
            for s in specs.runs.iter().filter_map(|s| s.image.clone()) {
                if !names.contains(&s) {
                    names.push(s);
                }
            }
            for name in names {
                match fetch(&name) {
                    Ok(r) => {
                        merge(&mut report, r, &name);
                        fetched.push((name, Ok(())));
                    }
                    Err(e) => fetched.push((name, Err(e))),
                }
            }
        }
        let Some(base) = report.as_mut() else {
            let why: Vec<String> = fetched
                .iter()
                .filter_map(|(_, r)| r.as_ref().err().cloned())
                .collect();
            eprintln!(
                "rootless-check: no image to hold the runs against{}{}",
                if why.is_empty() { "" } else { ": " },
                why.join("; ")
            );
            return ExitCode::from(2);
        };
        base.warnings.extend(specs.warnings.iter().cloned());
        rootless_check::analysis::runs::hold(base, &specs.runs, &mut |name| {
            if let Some((_, Err(e))) = fetched.iter().find(|(n, _)| n == name) {
                return Err(e.clone());
            }
            fetch(name).map(|r| r.images)
        });
    }
    let Some(mut report) = report else {
        return usage_error("no source given");
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
