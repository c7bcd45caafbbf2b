//! Replays every input in `tests/regressions/` through the fuzz harness
//! (`fuzz/src/lib.rs`, the code the cargo-fuzz targets run), chosen by the
//! file name's prefix: `archive-*`, `json-*`, `passwd_user-*`, `caps-*`,
//! `tar_header-*`, `glob-*`, `layer_codec-*`. An input passes when the harness does not panic
//! (no panic in the library, no broken contract: for `archive-*`, an error
//! carries one of the documented codes and both readers agree) and returns
//! in bounded time. Crashes found by `scripts/fuzz.sh` land here, minimised.

#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Far above what any input takes (well under a second, even in a debug
/// build): only a hang or near-hang reaches it.
const TIME_LIMIT: Duration = Duration::from_secs(60);

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions")
}

/// The target a file belongs to: the longest target name that, followed by
/// `-`, starts the file name.
fn target_of(file_name: &str) -> Option<&'static str> {
    harness::TARGETS
        .iter()
        .copied()
        .filter(|t| {
            file_name
                .strip_prefix(t)
                .is_some_and(|rest| rest.starts_with('-'))
        })
        .max_by_key(|t| t.len())
}

/// Run one input on its own thread: `Err` says what went wrong.
fn replay(target: &'static str, name: &str, data: Vec<u8>) -> Result<Duration, String> {
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                assert!(harness::run_target(target, &data));
            }));
            let _ = tx.send(outcome.is_ok());
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    match rx.recv_timeout(TIME_LIMIT) {
        Ok(true) => Ok(start.elapsed()),
        Ok(false) => Err(String::from("panicked (message above)")),
        // The thread is left running; the test process ends anyway.
        Err(_) => Err(format!("did not return within {TIME_LIMIT:?}")),
    }
}

#[test]
fn every_regression_input_passes() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(regressions_dir())
        .expect("tests/regressions/ exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut per_target = std::collections::BTreeMap::<&str, usize>::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(target) = target_of(&name) else {
            failures.push(format!(
                "{name}: the name starts with no target ({})",
                harness::TARGETS.join(", ")
            ));
            continue;
        };
        *per_target.entry(target).or_default() += 1;
        let data = std::fs::read(path).expect("a readable regression input");
        match replay(target, &name, data) {
            Ok(took) => eprintln!("ok   {name} ({took:.2?})"),
            Err(why) => {
                eprintln!("FAIL {name}: {why}");
                failures.push(format!("{name}: {why}"));
            }
        }
    }
    // Every target has at least one input, so that each code path runs.
    for t in harness::TARGETS {
        if !per_target.contains_key(t) {
            failures.push(format!("no input for the {t} target"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} regression inputs fail:\n  {}",
        failures.len(),
        files.len(),
        failures.join("\n  ")
    );
}

#[test]
fn target_names_are_matched_by_prefix() {
    assert_eq!(target_of("archive-x"), Some("archive"));
    assert_eq!(target_of("passwd_user-x"), Some("passwd_user"));
    assert_eq!(target_of("tar_header-pax"), Some("tar_header"));
    assert_eq!(target_of("archivex"), None);
    assert_eq!(target_of("README"), None);
}

#[test]
fn archive_error_codes_are_the_documented_ones() {
    // Every code the harness accepts exists, and E_USAGE (a command-line
    // error) is not one an archive can cause.
    let all: Vec<&str> = rootless_check::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    for code in harness::ARCHIVE_ERROR_CODES {
        assert!(all.contains(&code), "{code} is no ErrorCode");
    }
    assert!(!harness::ARCHIVE_ERROR_CODES.contains(&"E_USAGE"));
}
