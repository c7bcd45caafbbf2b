//! rootless-check: is this container image truly rootless?
//! See `rootless-check --help` and the README.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use rootless_check::analysis::policy;
use rootless_check::archive::{analyze_path, ReadOptions};
use rootless_check::{cli, render};

struct Args {
    options: cli::Options,
    file: PathBuf,
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
    let file = PathBuf::from(&raw[options.file]);
    Ok(Some(Args {
        options,
        file,
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
        verify: args.options.verify,
        max_decompressed: args.options.max_decompressed,
        ..ReadOptions::default()
    };
    let mut report = match analyze_path(&args.file, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rootless-check: {}", e);
            return ExitCode::from(2);
        }
    };
    policy::apply_ignores(&mut report, &args.options.ignores);
    let out = match args.options.format {
        cli::Format::Text => {
            render::text::render(&report, render::text::TextOptions { color: args.color })
        }
        cli::Format::Json => render::json::render(&report),
        cli::Format::Sarif => render::sarif::render(&report),
    };
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
